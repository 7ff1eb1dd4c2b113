"""Encoding simulated events as contract columns, fast: codes, buffers, strings without loops.

Strings (screens, elements, tasks, questions, texts, props) travel as integer codes of one
``Vocab`` and become dictionary-encoded Arrow columns at the end. Event ids and session ids are
UUIDv4 strings and timestamps ISO-8601 strings, both built from byte lookup tables with numpy,
never with a Python loop per event. ``Buffer`` collects one chunk's events column by column;
``events_table`` sorts them and builds the pyarrow table ``feedback.sink.write_batch`` writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from errors import InvalidInputError
from feedback.events import EVENT_TYPES, FIELDS
from sample_data.design import TZ, Arm

TYPE_CODE: dict[str, int] = {t: i for i, t in enumerate(EVENT_TYPES)}


class Vocab:
    """Strings (screens, elements, tasks, questions, texts, props) as integer codes."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.index: dict[str, int] = {}

    def code(self, s: str | None) -> int:
        """The code of ``s`` (added when new); -1 for None."""
        if s is None:
            return -1
        if s not in self.index:
            self.index[s] = len(self.items)
            self.items.append(s)
        return self.index[s]


_COLS = ("sess", "type", "t", "screen", "element", "task", "question", "x", "y", "value", "text",
         "props")  # fmt: skip


class Buffer:
    """Column pieces of one chunk's events, concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list] = {c: [] for c in _COLS}

    def add(self, sess, type_: str, t, **cols) -> None:
        """Events of type ``type_`` for sessions ``sess`` at times ``t`` (UTC ms).

        Other columns are codes (screen, element, task, question, text, props) or floats
        (x, y, value), each one value for all or an array.
        """
        n = len(sess)
        if n == 0:
            return
        self.parts["sess"].append(sess)
        self.parts["type"].append(np.full(n, TYPE_CODE[type_], np.int8))
        self.parts["t"].append(t)
        for c in ("screen", "element", "task", "question", "text", "props"):
            v = cols.get(c, -1)
            self.parts[c].append(v if isinstance(v, np.ndarray) else np.full(n, v, np.int32))
        for c in ("x", "y", "value"):
            v = cols.get(c, np.nan)
            self.parts[c].append(v if isinstance(v, np.ndarray) else np.full(n, v, float))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every column as one array."""
        return {c: np.concatenate(p) for c, p in self.parts.items()}


# --- strings from byte tables -----------------------------------------------------------------

_HEX_PAIRS = np.frombuffer("".join(f"{i:02x}" for i in range(256)).encode(), "S2")
_HEX_PAIRS = _HEX_PAIRS.view(np.uint8).reshape(256, 2)  # 256 x 2 ASCII bytes: "00".."ff"
_DIGIT_TABLES: dict[str, Any] = {}


def _fixed_strings(parts: list[np.ndarray]) -> pa.Array:
    """Concatenate per-row byte blocks (each ``(n, w)`` uint8) into one string array."""
    out = np.concatenate(parts, axis=1)
    n, width = out.shape
    offsets = pa.py_buffer(np.arange(0, (n + 1) * width, width, dtype=np.int32))
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, pa.py_buffer(out)])


def _uuid_strings(raw: np.ndarray) -> pa.Array:
    """The canonical 8-4-4-4-12 hex strings of ``(n, 16)`` uint8 UUID bytes."""
    n = len(raw)
    hexed = _HEX_PAIRS[raw].reshape(n, 32)
    dash = np.full((n, 1), ord("-"), np.uint8)
    return _fixed_strings(
        [hexed[:, 0:8], dash, hexed[:, 8:12], dash, hexed[:, 12:16], dash, hexed[:, 16:20], dash,
         hexed[:, 20:32]]
    )  # fmt: skip


def uuid4_strings(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random UUIDv4 strings from the generator's bytes (no Python loop)."""
    raw = np.frombuffer(rng.bytes(16 * n), np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return _uuid_strings(raw)


def uuid7_strings(rng: np.random.Generator, ms: np.ndarray) -> pa.Array:
    """Time-ordered UUIDv7 strings for events at ``ms`` (UTC epoch milliseconds), as the
    runtime's ``feedback.events.uuid7`` makes them: 48 bits of time, then random bits. Draws 16
    bytes per id like ``uuid4_strings``, so the generator's later draws stay the same."""
    n = len(ms)
    raw = np.frombuffer(rng.bytes(16 * n), np.uint8).reshape(n, 16).copy()
    stamp = np.asarray(ms, np.int64).astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, 0:6] = stamp[:, 2:8]
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return _uuid_strings(raw)


def _table(name: str, size: int, fmt: Callable[[int], str]) -> np.ndarray:
    if name not in _DIGIT_TABLES:
        text = "".join(fmt(i) for i in range(size)).encode()
        _DIGIT_TABLES[name] = np.frombuffer(text, np.uint8).reshape(size, -1)
    return _DIGIT_TABLES[name]


def _offset_label(ms: float) -> str:
    minutes = int(round(ms / 60000))
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def iso_strings(local_ms: np.ndarray, offset_ms: np.ndarray) -> pa.Array:
    """ISO-8601 strings ``YYYY-MM-DDTHH:MM:SS.mmm+01:00`` from lookup tables (no Python loop)."""
    day, ms = np.divmod(local_ms, 86_400_000)
    days, day_inv = np.unique(day, return_inverse=True)
    day_labels = "".join(f"{np.datetime64(int(d), 'D')}T" for d in days).encode()
    day_table = np.frombuffer(day_labels, np.uint8).reshape(len(days), 11)
    clock = _table("clock", 86_400, lambda s: f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.")
    millis = _table("millis", 1000, lambda m: f"{m:03d}")
    offs, off_inv = np.unique(offset_ms, return_inverse=True)
    off_table = np.frombuffer("".join(_offset_label(o) for o in offs).encode(), np.uint8)
    return _fixed_strings(
        [day_table[day_inv], clock[ms // 1000], millis[ms % 1000],
         off_table.reshape(len(offs), 6)[off_inv]]
    )  # fmt: skip


# --- the pilot's days -------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Shopping days (Mon–Sat) of the pilot: their weights, UTC offsets and start (ms)."""

    days: list[date]
    weights: np.ndarray
    offset_ms: np.ndarray  # UTC offset at noon
    start_ms: np.ndarray  # midnight, UTC ms since the epoch (of the local date)


def open_days(start: date, end: date) -> Period:
    """Shopping days (Mon–Sat) in [start, end], Saturdays weighted 1.4."""
    tz = ZoneInfo(TZ)
    days, weights, offsets = [], [], []
    d = start
    while d <= end:
        if d.weekday() < 6:
            days.append(d)
            weights.append(1.4 if d.weekday() == 5 else 1.0)
            noon = datetime(d.year, d.month, d.day, 12, tzinfo=tz)
            offsets.append(noon.utcoffset().total_seconds() * 1000)
        d += timedelta(days=1)
    if not days:
        raise InvalidInputError(f"the period {start}..{end} has no shopping day (Mon-Sat)")
    w = np.asarray(weights)
    start_ms = np.array([(d - date(1970, 1, 1)).days * 86_400_000 for d in days], np.float64)
    return Period(days, w / w.sum(), np.asarray(offsets), start_ms)


# --- elements and arms as codes ---------------------------------------------------------------


def _element_xy(element: str) -> tuple[float, float]:
    """A stable screen position for an element id (the prototype has no coordinates)."""
    if element == "back":
        return 0.06, 0.05
    h = hashlib.blake2b(element.encode(), digest_size=4).digest()
    return 0.15 + 0.7 * h[0] / 255, 0.2 + 0.7 * h[1] / 255


class Positions:
    """Tap positions of elements by vocabulary code, filled as codes appear."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.x, self.y = np.zeros(0), np.zeros(0)

    def xy(self, el: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Tap coordinates (0–1) around the elements ``el`` (codes), with a little jitter."""
        if len(self.x) < len(self.vocab.items):  # positions for codes added since the last call
            extra = [_element_xy(s) for s in self.vocab.items[len(self.x) :]]
            self.x = np.concatenate([self.x, [e[0] for e in extra]])
            self.y = np.concatenate([self.y, [e[1] for e in extra]])
        c = len(el)
        x = np.clip(self.x[el] + rng.normal(0, 0.02, c), 0, 1)
        y = np.clip(self.y[el] + rng.normal(0, 0.015, c), 0, 1)
        return x, y


@dataclass
class ArmCodes:
    """An arm's tasks as vocabulary codes: start screens, paths, forward and detour links."""

    start: list[int]
    paths: list[list[int]]
    forward: list[list[int]]
    alt_el: list[list[np.ndarray]]
    alt_tg: list[list[np.ndarray]]
    task: list[int]


def encode_arm(arm: Arm, vocab: Vocab) -> ArmCodes:
    """The codes of an arm's tasks."""
    codes = ArmCodes([], [], [], [], [], [])
    for t in arm.tasks:
        codes.start.append(vocab.code(t.start_screen))
        codes.paths.append([vocab.code(s) for s in t.path])
        codes.forward.append([vocab.code(e) for e in t.forward])
        codes.alt_el.append([np.array([vocab.code(e) for e, _ in a], np.int32)
                             for a in t.alternatives])  # fmt: skip
        codes.alt_tg.append([np.array([vocab.code(s) for _, s in a], np.int32)
                             for a in t.alternatives])  # fmt: skip
        codes.task.append(vocab.code(t.id))
    return codes


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkSessions:
    """The sessions of one chunk: ids, store, variant, device, language, clock."""

    ids: pa.Array
    store: np.ndarray  # index into the store list
    arm: np.ndarray  # index into the variants
    phone: np.ndarray
    english: np.ndarray
    offset_ms: np.ndarray  # UTC offset of the session's day
    clock: np.ndarray  # start, UTC ms


@dataclass(frozen=True)
class Labels:
    """What the per-session columns name: the ids behind the codes in ``ChunkSessions``."""

    experiment_id: str | None
    prototype_id: str
    variants: list[str]
    versions: np.ndarray  # per variant
    stores: list[str]


def _floats(values: np.ndarray) -> pa.Array:
    return pa.array(values, mask=np.isnan(values))


def _dict_col(codes: np.ndarray, items: Sequence[str]) -> pa.Array:
    ind = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(ind, pa.array(items, pa.string()))


def events_table(
    cols: dict[str, np.ndarray],
    sessions: ChunkSessions,
    labels: Labels,
    vocab: Vocab,
    event_ids: Callable[[np.ndarray], pa.Array],
) -> pa.Table:
    """The contract table of one chunk's buffered events, by session and then time.

    ``event_ids(ms)`` makes the ids of the events at ``ms`` (UTC epoch milliseconds; drawn
    after everything else).
    """
    # by session, then time; emission order breaks ties (stable sort)
    key = cols["sess"].astype(np.int64) << 36 | (cols["t"] - cols["t"].min()).astype(np.int64)
    order = np.argsort(key, kind="stable")
    cols = {c: a[order] for c, a in cols.items()}
    m = len(order)
    sess = cols["sess"]
    n = len(sessions.arm)
    offset = sessions.offset_ms

    def per_session(values: Sequence[str], codes: np.ndarray) -> pa.Array:
        return _dict_col(codes[sess], values)

    ts = iso_strings(np.rint(cols["t"] + offset[sess]).astype(np.int64), offset[sess])
    p_empty = vocab.code("{}")
    columns = {
        "event_id": event_ids(np.rint(cols["t"]).astype(np.int64)),
        "ts": ts,
        "session_id": sessions.ids.take(pa.array(sess)),
        "experiment_id": per_session([labels.experiment_id or ""], np.zeros(n, np.int32))
        if labels.experiment_id
        else pa.nulls(m, pa.string()),
        "prototype_id": per_session([labels.prototype_id], np.zeros(n, np.int32)),
        "prototype_version": pa.array(labels.versions[sessions.arm][sess]),
        "variant": per_session(labels.variants, sessions.arm.astype(np.int32)),
        "store_id": per_session(labels.stores, sessions.store.astype(np.int32)),
        "device": per_session(["kiosk", "phone"], sessions.phone.astype(np.int32)),
        "type": _dict_col(cols["type"].astype(np.int32), list(TYPE_CODE)),
        "screen": _dict_col(cols["screen"], vocab.items),
        "element": _dict_col(cols["element"], vocab.items),
        "task": _dict_col(cols["task"], vocab.items),
        "question": _dict_col(cols["question"], vocab.items),
        "x": _floats(np.round(cols["x"], 4)),
        "y": _floats(np.round(cols["y"], 4)),
        "value": _floats(cols["value"]),
        "text": _dict_col(cols["text"], vocab.items),
        "props": _dict_col(np.where(cols["props"] < 0, p_empty, cols["props"]), vocab.items),
    }
    return pa.table([columns[f] for f in FIELDS], names=list(FIELDS))
