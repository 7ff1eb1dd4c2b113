"""Append-only spool files: how prototypes and the simulator hand events to ingest.

Prototype processes never open the database (DuckDB locks the file per process). Each writer
process appends to its own ``spool/<host>-<pid>-<start>.jsonl.part``, flushed per event, and
renames it to ``.jsonl`` when it rotates, closes or its process exits. Ingest reads finished
files whole and the complete lines of ``.part`` files, remembering how far it got, so nothing is
read twice.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedback.events import FIELDS, MAX_TEXT_CHARS, Event, writer_id
from feedback.privacy import TEXT_FIELDS, redact_fields

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

PART_SUFFIX = ".jsonl.part"
DONE_SUFFIX = ".jsonl"
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
# What SpoolSink names its files: <host>-<pid>-<start>.jsonl.part (start: _stamp()).
_PART_NAME = re.compile(
    r"(?P<host>.+)-(?P<pid>[0-9]+)-[0-9]{8}T[0-9]{15}" + re.escape(PART_SUFFIX), re.ASCII
)


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time_ns() % 1_000_000_000:09d}"


def part_writer(name: str) -> tuple[str, int] | None:
    """The host and pid writing a spool file named by ``SpoolSink``; None for other names."""
    match = _PART_NAME.fullmatch(name)
    return (match["host"], int(match["pid"])) if match else None


def this_host() -> str:
    """This machine's name as spool file names carry it."""
    return writer_id().rsplit("-", 1)[0]


def finish(part: Path) -> Path:
    """Rename a finished ``.jsonl.part`` to ``.jsonl`` (atomic on one file system)."""
    done = part.with_name(part.name[: -len(PART_SUFFIX)] + DONE_SUFFIX)
    os.replace(part, done)
    return done


class SpoolSink:
    """One process's spool file. ``emit`` is safe to call from several threads.

    While a file is open the sink is registered with ``atexit``: a process that ends without
    calling ``close`` (a server stopped by SIGTERM or Ctrl-C, whose handler lets the
    interpreter exit normally) still finishes its file. Only SIGKILL or a crash leave a
    ``.part`` behind; ingest reads its complete lines all the same.

    With ``redact`` (the default; a lab turns it off only with ``[privacy] redact_text =
    false``) personal data in the text fields and in ``props`` is masked before the line is
    written, so it never sits in the spool folder.
    """

    def __init__(
        self,
        spool_dir: Path | str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        redact: bool = True,
    ) -> None:
        self.spool_dir = Path(spool_dir)
        self.max_bytes = max_bytes
        self.redact = redact
        self._lock = threading.Lock()
        self._file = None
        self._path: Path | None = None

    @property
    def path(self) -> Path | None:
        """The part file currently written, if any."""
        return self._path

    def _open(self) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self._path = self.spool_dir / f"{writer_id()}-{_stamp()}{PART_SUFFIX}"
        # Line-buffered text file: each event line reaches the OS when it is written.
        self._file = open(self._path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        atexit.register(self._finish_at_exit)

    def emit(self, event: Event | dict[str, Any]) -> None:
        """Append one event as a JSON line and flush it."""
        line = _masked_line(event) if self.redact else _line(event)
        with self._lock:
            if self._file is None:
                self._open()
            self._file.write(line + "\n")
            self._file.flush()
            if self._file.tell() >= self.max_bytes:
                self._rotate_locked()

    def rotate(self) -> Path | None:
        """Finish the current file (rename to ``.jsonl``); the next event opens a new one."""
        with self._lock:
            return self._rotate_locked()

    def _rotate_locked(self) -> Path | None:
        if self._file is None:
            return None
        atexit.unregister(self._finish_at_exit)
        self._file.close()
        self._file = None
        done = finish(self._path)
        self._path = None
        return done

    def close(self) -> Path | None:
        """Finish the file; call on shutdown."""
        return self.rotate()

    def _finish_at_exit(self) -> None:
        # A spool folder removed in the meantime leaves nothing to finish: no traceback at exit.
        with contextlib.suppress(OSError):
            self.close()

    def __enter__(self) -> SpoolSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _line(event: Event | dict[str, Any]) -> str:
    return event.to_json() if isinstance(event, Event) else json.dumps(event, default=str)


def _masked_line(event: Event | dict[str, Any]) -> str:
    """The event's JSON line with personal data masked (as ``_line`` when there is none)."""
    if isinstance(event, Event):
        fields = {name: getattr(event, name) for name in (*TEXT_FIELDS, "props")}
        masked = redact_fields(fields)
        if masked != fields:
            event = event.model_copy(update=_clip(masked))
        return event.to_json()
    return _line(_clip(redact_fields(event)))


def _clip(event: dict[str, Any]) -> dict[str, Any]:
    # A mask may be longer than what it replaced ("[email]" for "a@b.de").
    if isinstance(event.get("text"), str):
        event["text"] = event["text"][:MAX_TEXT_CHARS]
    return event


def write_batch(spool_dir: Path | str, table: pa.Table, *, name: str | None = None) -> Path:
    """Write a whole table of events as one finished spool file (the simulator's bulk path).

    Columns must be ``events.FIELDS``; ``props`` may be a JSON string, a struct or a map. The
    file appears under its final name only once it is complete.

    The usual table (strings, dictionary-encoded strings, numbers, ``props`` as JSON text, the
    simulator's shape) is turned into JSON lines with Arrow string kernels, batch by batch: 3-4x
    less CPU than DuckDB's ``COPY … (FORMAT json)``, which stays the path for other column types
    (timestamps, struct or map ``props``). Both write the same JSON values.
    """
    missing = [f for f in FIELDS if f not in table.column_names]
    if missing:
        raise ValueError(f"write_batch: table lacks columns {missing}")
    spool = Path(spool_dir)
    spool.mkdir(parents=True, exist_ok=True)
    part = spool / f"{name or writer_id() + '-' + _stamp()}{PART_SUFFIX}"
    table = table.select(list(FIELDS))
    try:
        if not _write_with_arrow(table, part):
            _write_with_duckdb(table, part)
    except BaseException:
        part.unlink(missing_ok=True)  # ingest would read a half-written .part file
        raise
    return finish(part)


# --- the Arrow path: JSON text built column by column ------------------------------------------

_BATCH_ROWS = 65_536
# What JSON must escape inside a string: the quote, the backslash and control characters.
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'
_ESCAPES: tuple[tuple[str, str], ...] = (
    ("\\", "\\\\"),  # first: the escapes below add backslashes
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
    *((chr(i), f"\\u{i:04x}") for i in range(32) if chr(i) not in "\n\r\t"),
)


def _write_with_arrow(table: pa.Table, part: Path) -> bool:
    """Write ``table`` as JSON lines; False (nothing written) if a column type needs DuckDB.

    Batches are encoded on a few threads (Arrow's kernels release the GIL) and written in
    order; at most ``workers + 1`` encoded batches are held at a time.
    """
    import duckdb
    import numpy as np
    import pyarrow.compute as pc

    con = duckdb.connect()  # only to check and minify the (few distinct) props values
    try:
        lock = threading.Lock()  # one DuckDB connection, used by one thread at a time
        encoders = [_encoder(f, con, lock) for f in table.schema]
        if not all(encoders):
            return False
        keys = [("{" if i == 0 else ",") + f'"{f}":' for i, f in enumerate(FIELDS)]

        def encode(batch: pa.RecordBatch) -> memoryview:
            pieces: list = []
            for key, encoder, column in zip(keys, encoders, batch.columns, strict=True):
                pieces += [key, pc.fill_null(encoder(column), "null")]
            lines = pc.binary_join_element_wise(*pieces, "}\n", "")
            # One string per line, newline included: the data buffer is the file's bytes.
            offsets = np.frombuffer(lines.buffers()[1], np.int32, len(lines) + 1, lines.offset * 4)
            return memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]

        workers = max(1, min(4, os.cpu_count() or 1))
        batches = iter(table.to_batches(max_chunksize=_BATCH_ROWS))
        with open(part, "wb") as fh, ThreadPoolExecutor(workers) as pool:
            pending = deque(pool.submit(encode, b) for b in islice(batches, workers + 1))
            while pending:
                fh.write(pending.popleft().result())
                for b in islice(batches, 1):
                    pending.append(pool.submit(encode, b))
    finally:
        con.close()
    return True


def _encoder(
    field: pa.Field, con: duckdb.DuckDBPyConnection, lock: threading.Lock
) -> Callable | None:
    """A function from an Arrow array to its JSON texts (NULL stays NULL), or None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = field.type
    is_text = pa.types.is_string(t) or pa.types.is_large_string(t)
    is_dict_text = pa.types.is_dictionary(t) and (
        pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)
    )
    if field.name == "props":
        if not (is_text or is_dict_text):
            return None  # struct or map: DuckDB's to_json
        # Decode and re-encode: keeps only the values in use (a shared vocabulary may hold
        # text that is not JSON), usually a handful, which DuckDB checks and minifies.
        return lambda a: _props_json(a.cast(pa.string()).dictionary_encode(), con, lock)
    if is_text:
        return lambda a: _json_strings(a.cast(pa.string()))
    if is_dict_text:  # escape the dictionary, not every row
        return lambda a: pc.take(_json_strings(a.dictionary.cast(pa.string())), a.indices)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return _json_numbers
    if pa.types.is_null(t):
        return lambda a: pa.nulls(len(a), pa.string())
    return None


def _json_strings(arr: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    if pc.any(pc.match_substring_regex(arr, _NEEDS_ESCAPE)).as_py():
        for raw, escaped in _ESCAPES:
            arr = pc.replace_substring(arr, raw, escaped)
    return pc.binary_join_element_wise('"', arr, '"', "")


def _json_numbers(arr: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(arr, pa.string())  # shortest round-trip form: 0.25, 1e-05, 1e+20, true
    if pa.types.is_floating(arr.type) and not pc.all(pc.is_finite(arr)).as_py():
        # As DuckDB writes them (not JSON: ingest rejects such a line, as it should).
        text = pc.if_else(pc.is_nan(arr), "NaN", text)
        text = pc.if_else(pc.equal(arr, float("inf")), "Infinity", text)
        text = pc.if_else(pc.equal(arr, float("-inf")), "-Infinity", text)
    return text


def _props_json(
    encoded: pa.DictionaryArray, con: duckdb.DuckDBPyConnection, lock: threading.Lock
) -> pa.Array:
    """JSON text of each distinct props value, minified by DuckDB (which rejects bad JSON)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    with lock:
        con.register("props_values", pa.table({"p": encoded.dictionary}))
        try:
            minified = con.execute("SELECT json(p)::VARCHAR FROM props_values").to_arrow_table()
        finally:
            con.unregister("props_values")
    return pc.take(minified.column(0).combine_chunks().cast(pa.string()), encoded.indices)


# --- the DuckDB path: any column types DuckDB reads from Arrow ---------------------------------


def _write_with_duckdb(table: pa.Table, part: Path) -> None:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("batch", table)
        props_type = str(con.sql("SELECT typeof(props) FROM batch LIMIT 1").fetchone() or ["JSON"])
        props = "props::JSON" if "VARCHAR" in props_type else "to_json(props)"
        cols = ", ".join(
            "strftime(ts, '%Y-%m-%dT%H:%M:%S.%g%z') AS ts"
            if f == "ts" and _is_timestamp(table)
            else (f"{props} AS props" if f == "props" else f'"{f}"')
            for f in FIELDS
        )
        con.execute(f"COPY (SELECT {cols} FROM batch) TO '{_sql_path(part)}' (FORMAT json)")
    finally:
        con.close()


def _is_timestamp(table: pa.Table) -> bool:
    import pyarrow as pa

    return pa.types.is_timestamp(table.schema.field("ts").type)


def _sql_path(path: Path) -> str:
    # COPY TO takes no parameters; the path is ours (spool dir + generated name), quotes escaped.
    return str(path).replace("'", "''")
