"""The metric SQL (shaped for speed) against a plain Python reference on a small random lab.

The reference reads the rules from the module docstring of ``experiments.metrics`` and the
catalogue's own scoring (``Instrument.score``), one session at a time, with no SQL: who counts
(window, one variant, listed store, no team flag, the store's assigned label), every metric's
per-session value, then n, Σ and Σ² per variant and per store (a ratio metric: n, Σm, Σm², Σd,
Σd², Σm·d over the sessions with d > 0), and the same per variant × store × local day, device,
and the locale, persona and context of the last session_start (the read-out's slices). The
random lab holds the cases the SQL must get right: team and preview sessions, two labels in one
session, wrong labels for a store, sessions outside the dates, tasks without an end or with two
ends, repeated and out-of-scale answers, SEQ after several tasks and without a task, incomplete
SUS, sessions without a locale or changing device, first events on either side of midnight in
the time zone.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest

from experiments.metrics import SESSIONS, session_counts, sufficient_statistics
from experiments.slice_statistics import statistics_with_slices
from experiments.spec import ExperimentSpec
from feedback.catalogue import CATALOGUE
from feedback.events import CONTEXT_VARIABLES
from feedback.store import create_schema
from tests.test_experiments_analysis import END, START, STORES, spec_dict

TASK_TYPES = ("task_start", "task_success", "task_fail", "task_abandon")
TEAM = ({"preview": True}, {"team": True}, {"team": False}, {"preview": "yes"})
PROFILES = (  # persona and context as the runtime writes them on session_start
    {},
    {"persona": "anna"},
    {"persona": "ben", "context": {"weather": "rain", "channel": "street"}},
    {"context": {"weather": "sun", "time_of_day": "evening", "loyalty": "gold", "mood": "calm"}},
)
ZONE = "Asia/Tokyo"  # UTC+9: the lab's 09:00-19:00 UTC sessions fall on two local days


def _answers(rng: random.Random) -> list[tuple[str, float, str | None]]:
    """(question, value, task) answers of one session: often valid, sometimes not."""
    out = []
    for inst in CATALOGUE.scored_instruments():
        if rng.random() < 0.4:
            continue
        low, high = inst.scale
        for item in inst.item_ids:
            for _ in range(rng.choice((0, 1, 1, 1, 2))):  # missing, once, or answered again
                value = rng.randint(low, high) if rng.random() < 0.9 else high + 2
                task = rng.choice(("t1", "t2", None)) if inst.per_task else None
                out.append((item, float(value), task))
    return out


def random_session(rng: random.Random, exp_id: str) -> list[dict]:
    """One random session's events (dicts of the columns the SQL reads)."""
    base = datetime.combine(START, time(9), tzinfo=UTC) + timedelta(
        days=rng.randint(-2, (END - START).days + 2), seconds=rng.randint(0, 36_000)
    )
    store = rng.choice(STORES)
    variant = rng.choice(("control", "treatment", "control", "treatment", "other"))
    props: dict = rng.choice(TEAM) if rng.random() < 0.08 else {}
    kinds = [("session_start", None)]
    for task in rng.sample(("t1", "t2", "t3"), rng.randint(0, 3)):
        kinds.append(("task_start", task))
        kinds += [(rng.choice(("tap", "tap", "misclick")), task) for _ in range(rng.randint(0, 4))]
        kinds += [(rng.choice(TASK_TYPES[1:]), task) for _ in range(rng.choice((0, 1, 1, 2)))]
    kinds += [("answer", q) for q in _answers(rng)]
    if rng.random() < 0.9:
        kinds.append(("session_end", None))
    if rng.random() < 0.2:  # events out of the usual order happen
        rest = kinds[1:]
        rng.shuffle(rest)
        kinds[1:] = rest
    sid, events = str(uuid.uuid4()), []
    device = rng.choice(("kiosk", "phone"))
    locale = rng.choice(({"locale": "de"}, {"locale": "en"}, {}))
    # (not drawn from rng, so the rest of the random lab stays as it was)
    locale = {**locale, **PROFILES[int(base.timestamp()) % len(PROFILES)]}
    for k, (type_, detail) in enumerate(kinds):
        ts = base + timedelta(milliseconds=1500 * k + rng.randint(0, 999))
        ev = {"session_id": sid, "ts": ts, "device": device,
              "variant": variant, "store_id": store, "type": type_, "task": None,
              "question": None, "value": None, "props": {}}  # fmt: skip
        if type_ == "session_start":
            ev["props"] = dict(locale)
        if rng.random() < 0.1:  # the device changes within a session: the first one counts
            ev["device"] = "tablet"
        if type_ == "answer":
            ev["question"], ev["value"], ev["task"] = detail
        else:
            ev["task"] = detail
        if type_ == "session_end":
            ev["props"] = {"reason": rng.choice(("completed", "completed", "abandoned"))}
        if props and rng.random() < 0.5:
            ev["props"] = {**ev["props"], **props}
        events.append(ev)
    if rng.random() < 0.05:  # a second label in the same session
        events[-1]["variant"] = "treatment" if variant == "control" else "control"
    if rng.random() < 0.05:  # events of another experiment
        for ev in events:
            ev["experiment_id"] = "another"
    return events


def write_events(lab, events: list[dict], exp_id: str) -> None:
    table = pa.table(
        {
            "ts": [e["ts"] for e in events],
            "session_id": [e["session_id"] for e in events],
            "experiment_id": [e.get("experiment_id", exp_id) for e in events],
            "variant": [e["variant"] for e in events],
            "store_id": [e["store_id"] for e in events],
            "device": [e["device"] for e in events],
            "type": [e["type"] for e in events],
            "task": [e["task"] for e in events],
            "question": [e["question"] for e in events],
            "value": [e["value"] for e in events],
            "props": [json.dumps(e["props"]) for e in events],
        }
    )
    con = duckdb.connect(str(lab.db_path))
    create_schema(con)
    con.register("given", table)
    con.execute(
        """INSERT INTO events SELECT uuid(), ts, session_id::UUID, experiment_id, 'p', 1,
           variant, store_id, device, type, NULL, NULL, task, question, NULL, NULL, "value",
           NULL, props, 'test', now() FROM given"""
    )
    con.close()


# --- the reference --------------------------------------------------------------------------


def _last_valid(rows: list[dict], inst) -> dict[str, float]:
    """The last answer on the scale to each item of ``inst`` among ``rows``."""
    low, high = inst.scale
    last: dict[str, tuple] = {}
    for e in sorted(rows, key=lambda e: e["ts"]):
        if e["question"] in inst.item_ids and low <= e["value"] <= high:
            last[e["question"]] = e["value"]
    return last


def _score(rows: list[dict], inst) -> float | None:
    answers = _last_valid(rows, inst)
    if len(answers) < len(inst.item_ids):
        return None
    if inst.buckets:
        value = answers[inst.item_ids[0]]
        hit = [
            b.score for b in sorted(inst.buckets, key=lambda b: -b.at_least) if value >= b.at_least
        ]
        return hit[0] if hit else None
    return float(inst.score(answers))


def _metrics(events: list[dict]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    runs = defaultdict(list)
    for e in events:
        if e["task"] is not None and e["type"] in TASK_TYPES:
            runs[e["task"]].append(e)
    success, durations = [], []
    for rows in runs.values():
        starts = [e["ts"] for e in rows if e["type"] == "task_start"]
        ends = [e["ts"] for e in rows if e["type"] in TASK_TYPES[1:]]
        if starts:
            success.append(1.0 if any(e["type"] == "task_success" for e in rows) else 0.0)
            if ends and min(ends) >= min(starts):
                durations.append((min(ends) - min(starts)).total_seconds())
    out["task_success_rate"] = sum(success) / len(success) if success else None
    out["time_on_task_s"] = sum(durations) / len(durations) if durations else None
    taps = sum(e["type"] == "tap" for e in events)
    misclicks = sum(e["type"] == "misclick" for e in events)
    out["misclick_rate"] = (misclicks, taps + misclicks) if taps + misclicks else None
    done = any(
        e["type"] == "session_end" and e["props"].get("reason") == "completed" for e in events
    )
    out["completion_rate"] = 1.0 if done else 0.0
    answers = [e for e in events if e["type"] == "answer"]
    for inst in CATALOGUE.scored_instruments():
        if not inst.per_task:
            out[inst.id] = _score(answers, inst)
            continue
        slots = defaultdict(list)
        for e in answers:
            if e["question"] in inst.item_ids:
                slots[e["task"]].append(e)
        scores = [s for rows in slots.values() if (s := _score(rows, inst)) is not None]
        out[inst.id] = sum(scores) / len(scores) if scores else None
    assert set(out) == set(CATALOGUE.metrics)
    return out


def _moments(value) -> tuple[float, ...]:
    """One session's share: (1, v, v²), or for a ratio metric's (m, d) (1, m, m², d, d², m·d)."""
    if isinstance(value, tuple):
        m, d = value
        return (1, m, m * m, d, d * d, m * d)
    return (1, value, value * value)


def _slice_keys(rows: list[dict], label: str, store: str) -> list[tuple]:
    """The session's (dimension, (variant, store, value)) cells of the read-out's slices."""
    first = min(rows, key=lambda e: e["ts"])
    starts = sorted((e for e in rows if e["type"] == "session_start"), key=lambda e: e["ts"])
    # the last session_start's props (or a later tap that took a handover: none here)
    start = starts[-1]["props"] if starts else {}
    facts = {"locale": start.get("locale"), "persona": start.get("persona")}
    facts |= {v: (start.get("context") or {}).get(v) for v in CONTEXT_VARIABLES}
    day = first["ts"].astimezone(ZoneInfo(ZONE)).date()
    return [
        (dimension, (label, store, value))
        for dimension, value in (("day", day), ("device", first["device"]), *facts.items())
    ]


def _reference(spec: ExperimentSpec, events: list[dict]):
    """{(level, unit): {metric: moments}} with level 'variant', 'store' or a slice dimension
    (unit then (variant, store, value)), and {(store, label): mislabelled sessions}."""
    start = datetime.combine(spec.start, time(0), tzinfo=UTC)
    end = datetime.combine(spec.end + timedelta(days=1), time(0), tzinfo=UTC)
    sessions = defaultdict(list)
    for e in events:
        if e.get("experiment_id", spec.id) == spec.id:
            sessions[e["session_id"]].append(e)
    stats: dict = defaultdict(dict)
    mislabelled: dict = defaultdict(int)
    for rows in sessions.values():
        labels = {e["variant"] for e in rows}
        store = min(e["store_id"] for e in rows)
        team = any(e["props"].get(flag) is True for e in rows for flag in ("preview", "team"))
        first = min(e["ts"] for e in rows)
        if not (start <= first < end) or len(labels) != 1 or team:
            continue
        if spec.store_list and store not in spec.store_list:
            continue
        (label,) = labels
        if spec.unit == "store" and label != spec.store_variants.get(store):
            mislabelled[(store, label)] += 1
            continue
        if label not in spec.variants:
            continue
        values = {SESSIONS: 1.0, **_metrics(rows)}
        for unit in [("variant", label), ("store", store), *_slice_keys(rows, label, store)]:
            for metric, v in values.items():
                if v is not None:
                    share = _moments(v)
                    acc = stats[unit].get(metric, (0.0,) * len(share))
                    stats[unit][metric] = tuple(a + b for a, b in zip(acc, share, strict=True))
    return stats, dict(mislabelled)


def _as_moments(stat) -> tuple[float, ...]:
    if hasattr(stat, "m_statistic"):
        m, d = stat.m_statistic, stat.d_statistic
        return (stat.n, m.sum, m.sum_squares, d.sum, d.sum_squares, stat.m_d_sum_of_products)
    return (stat.n, stat.sum, stat.sum_squares)


def _assert_close(got: dict, want: dict, key) -> None:
    assert set(got) == set(want), key
    for metric, moments in want.items():
        assert got[metric][0] == moments[0], (key, metric)
        assert len(got[metric]) == len(moments), (key, metric)
        for g, w in zip(got[metric][1:], moments[1:], strict=True):
            assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-9), (key, metric)


@pytest.mark.parametrize(("unit", "seed"), [("session", 1), ("store", 2), ("store", 3)])
def test_sufficient_statistics_equal_a_plain_reference(lab, unit, seed):
    rng = random.Random(seed)
    spec = ExperimentSpec.model_validate(spec_dict("exp-ref", unit))
    events = [e for _ in range(400) for e in random_session(rng, spec.id)]
    write_events(lab, events, spec.id)
    want, want_mislabelled = _reference(spec, events)
    con = duckdb.connect(str(lab.db_path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    try:
        data = sufficient_statistics(con, spec)
        counts = session_counts(con, spec)
        sliced_data, slices = statistics_with_slices(con, spec, ZONE)
    finally:
        con.close()
    got = {}
    for level, units in (("variant", data.by_variant), ("store", data.by_store)):
        for name, metrics in units.items():
            got[(level, name)] = {m: _as_moments(s) for m, s in metrics.items()}
    for name, n in data.sessions_by_variant.items():
        got.setdefault(("variant", name), {})[SESSIONS] = (n, float(n), float(n))
    for name, n in data.sessions_by_store.items():
        got.setdefault(("store", name), {})[SESSIONS] = (n, float(n), float(n))
    top = {key: metrics for key, metrics in want.items() if key[0] in ("variant", "store")}
    assert set(got) == set(top)
    for key, metrics in top.items():
        _assert_close(got[key], metrics, key)
    flat = {(s, v): n for s, by in data.mislabelled_sessions.items() for v, n in by.items()}
    assert flat == want_mislabelled
    assert counts.sessions_by_variant == data.sessions_by_variant
    assert counts.sessions_by_store == data.sessions_by_store
    # the slices come from the same query as the analysis' statistics, which they leave alone
    # (equal up to the last bits: DuckDB sums in parallel, in an order a query shape decides)
    assert sliced_data.sessions_by_variant == data.sessions_by_variant
    assert sliced_data.sessions_by_store == data.sessions_by_store
    assert sliced_data.mislabelled_sessions == data.mislabelled_sessions
    for mine, theirs in ((sliced_data.by_variant, data.by_variant),
                         (sliced_data.by_store, data.by_store)):  # fmt: skip
        assert set(mine) == set(theirs)
        for name, metrics in theirs.items():
            want_moments = {m: _as_moments(st) for m, st in metrics.items()}
            got_moments = {m: _as_moments(st) for m, st in mine[name].items()}
            _assert_close(got_moments, want_moments, name)
    spec_metrics = {m for m, _role in spec.metric_roles()} | {SESSIONS}
    cells = {
        (dimension, key): {m: _as_moments(s) for m, s in stats.items()}
        for dimension, by_key in slices.cells.items()
        for key, stats in by_key.items()
    }
    sliced = {
        key: {m: v for m, v in metrics.items() if m in spec_metrics}
        for key, metrics in want.items()
        if key[0] not in ("variant", "store")
    }
    assert set(cells) == set(sliced)
    for key, metrics in sliced.items():
        _assert_close(cells[key], metrics, key)
    # the random lab holds what it should: team sessions, mislabels (unit=store), all metrics,
    # two local days for some UTC day, sessions without a locale
    assert len(events) > 5_000
    assert all(got[("variant", "control")].get(m) for m in CATALOGUE.metrics)
    assert {key[1][2] for key in cells if key[0] == "locale"} == {"de", "en", None}
    assert {key[1][2] for key in cells if key[0] == "device"} == {"kiosk", "phone", "tablet"}
    assert {key[1][2] for key in cells if key[0] == "persona"} == {"anna", "ben", None}
    assert {key[1][2] for key in cells if key[0] == "weather"} == {"rain", "sun", None}
    assert len({key[1][2] for key in cells if key[0] == "day"}) > (END - START).days + 1
    if unit == "store":
        assert want_mislabelled
