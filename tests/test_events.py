"""The event contract: the pydantic model and the SQL rules at ingest accept the same lines."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from feedback.events import EVENT_TYPES, FIELDS, Event, uuid7
from feedback.ingest import ingest
from feedback.store import connect
from tests.fixtures import make_event, write_jsonl

GOOD = [
    make_event(),
    make_event(type="answer", question="seq", value=6, x=None, y=None),
    make_event(type="session_end", props={"reason": "completed"}),
    make_event(ts="2026-11-02T10:15:00+01:00"),
    make_event(ts="2026-11-02T10:15:00Z", experiment_id="scan-pos-v2"),
    make_event(x=0, y=1),
    make_event(prototype_version=2),
    make_event(props=None),
    make_event(text="Schöne Jacke, aber die Größe fehlte."),
    make_event(ts="2026-11-02T10:15:00+14:00", store_id="0417", variant="true"),
    make_event(ts="2026-11-02T10:15:00-12:00", screen="{home}", element="[x]", task="42"),
    make_event(type="comment", text="5 Sterne", value=-3.5, question="Infinity"),
]
BAD = [
    make_event(type="tapp"),
    make_event(type="Tap"),
    make_event(device="tv"),
    make_event(x=1.2),
    make_event(y=-0.1),
    make_event(x="links"),
    make_event(ts="2026-11-02T10:15:00"),
    make_event(ts="yesterday"),
    make_event(event_id="42"),
    make_event(session_id="anna@example.de"),
    make_event(prototype_version=0),
    make_event(prototype_version="v2"),
    make_event(prototype_version=1.5),
    make_event(prototype_version="1.5"),
    make_event(ts="2026-11-02"),
    make_event(value="viel"),
    make_event(props=[1, 2]),
    make_event(store_id=""),
    make_event(variant=None),
    make_event(colour="red"),
    make_event(text="x" * 2001),
    # Wrong JSON types: a number or object where the contract has text, text for a number.
    make_event(store_id=5),
    make_event(variant={"name": "control"}),
    make_event(screen=["home"]),
    make_event(element=True),
    make_event(prototype_version="2"),
    make_event(x="0.5"),
    make_event(value="7"),
    # Not finite: JSON has no NaN or Infinity (Python writes them anyway), 1e999 overflows.
    make_event(value=float("nan")),
    make_event(value=float("inf")),
    make_event(y=float("-inf")),
    make_event(value="NaN"),
    make_event(x="Infinity"),
    # Impossible UTC offsets.
    make_event(ts="2026-11-02T10:15:00+99:00"),
    make_event(ts="2026-11-02T10:15:00+15:00"),
    make_event(ts="2026-11-02T10:15:00+01:75"),
]


def _pydantic_ok(row: dict) -> bool:
    try:
        Event.model_validate(row)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("row", GOOD, ids=lambda r: str(r.get("type")))
def test_good_events_pass_the_model(row):
    assert _pydantic_ok(row)


@pytest.mark.parametrize("row", BAD)
def test_bad_events_fail_the_model(row):
    assert not _pydantic_ok(row)


def test_model_and_ingest_sql_agree_line_by_line(lab, tmp_path):
    rows = GOOD + BAD
    for r in rows:
        r["event_id"] = r["event_id"] if r.get("event_id") == "42" else str(uuid.uuid4())
    report = ingest(lab, [write_jsonl(tmp_path / "corpus.jsonl", rows)])
    assert report.inserted == len(GOOD)
    with connect(lab) as con:
        rows_ = con.execute("SELECT line FROM rejected_events ORDER BY line").fetchall()
    rejected = [n for (n,) in rows_]
    assert rejected == list(range(len(GOOD) + 1, len(rows) + 1))
    assert [_pydantic_ok(r) for r in rows] == [n not in rejected for n in range(1, len(rows) + 1)]


def test_contract_field_order_is_fixed():
    assert FIELDS[:3] == ("event_id", "ts", "session_id")
    assert set(Event.model_fields) == set(FIELDS)
    assert "session_end" in EVENT_TYPES and "misclick" in EVENT_TYPES


def test_uuid7_is_version_7_and_time_ordered():
    ids = [uuid7() for _ in range(50)]
    assert all(u.version == 7 for u in ids)
    assert [u.bytes[:6] for u in ids] == sorted(u.bytes[:6] for u in ids)


def test_a_new_events_id_carries_its_ts_to_the_millisecond():
    """One clock read for id and ts: ingest's dedupe relies on the id's time being the event's
    (two reads straddled a millisecond under load, and an event with a given ts got today's id)."""
    from datetime import UTC, datetime

    ts = datetime(2026, 11, 2, 9, 15, 0, 123_456, tzinfo=UTC)
    fields = {k: v for k, v in make_event().items() if k not in ("event_id", "ts")}
    event = Event(**fields, ts=ts)
    assert event.event_id.version == 7 and event.event_id.int >> 80 == 1_793_610_900_123
    now = Event(**fields)
    assert now.event_id.int >> 80 == int(now.ts.timestamp() * 1000)
    given = make_event()["event_id"]
    assert str(Event(**fields, event_id=given).event_id) == str(given)  # ids are kept


def test_event_json_round_trips():
    event = Event.model_validate(make_event(type="comment", text="gut"))
    again = Event.model_validate(json.loads(event.to_json()))
    assert again == event


def _line(**overrides) -> str:
    return json.dumps(make_event(**overrides))


def _token(field: str, token: str) -> str:
    """A line whose ``field`` is written as ``token``, verbatim (NaN, 1e999, … as JSON has them)."""
    return json.dumps(make_event(**{field: "@"})).replace('"@"', token)


# Raw lines with NUL bytes: DuckDB's line reader cuts a line at a NUL, so ingest blanks them
# first (feedback.ingest_files.clean_copy) and neither tier sees them.
NUL_LINES = [
    b"\0\0" + json.dumps(make_event()).encode(),
    json.dumps(make_event()).encode() + b"\0\0\0",
    b"\0" * 40,
]


GOOD_LINES = [json.dumps(r) for r in GOOD]
BAD_LINES = [json.dumps(r) for r in BAD]
# Lines the rules must reject: numbers that are not finite (tokens in any case, overflowing),
# text fields given another JSON type, impossible UTC offsets.
EDGE_REJECTED = [
    _token("value", "1e999"),
    _token("x", "-1e999"),
    _token("prototype_version", "1e999"),
    _token("value", "nan"),
    _token("value", "INF"),
    _token("y", "-Infinity"),
    _token("store_id", "417"),
    _token("store_id", "nan"),
    _token("store_id", "iNfInItY"),
    _token("variant", "NaN"),
    _token("screen", "-Infinity"),
    _token("element", "false"),
    _token("task", "{}"),
    _token("question", "[]"),
    _token("experiment_id", "0"),
    _token("text", "12"),
    _token("prototype_id", "true"),
    _line(ts="2026-11-02T10:15:00+14:60"),
    _line(ts="2026-11-02T10:15:00+1500"),
    _line(ts="2026-11-02T10:15:00-99"),
]
# … and lines they must accept: texts that only look like other types, offsets at the edges.
EDGE_ACCEPTED = [
    _line(x=-0.0, y=1),
    _token("prototype_version", "2.0"),
    _line(store_id="nan", variant="inf", screen="Inf", element="infinity", task="NaN"),
    _line(store_id="417", variant="false", screen="{}", element="[x", question="-1"),
    _line(store_id="Ötzi", variant="\\", screen="|", element="zz", text="\u0000 nul char"),
    _line(store_id="I", variant="N", screen="in", element="nab", task="Infinityx"),
    _line(ts="2026-11-02T10:15:00+14:59"),
    _line(ts="2026-11-02T10:15:00-13:00"),
    _line(ts="2026-11-02T10:15:00Z"),
]

# Lines near the edges of the fast check in feedback.ingest_sql (blank-ish values, odd numbers,
# other key orders, missing optional keys, repeated keys, JSON that is not an object).
EDGE_LINES = [
    *GOOD_LINES,
    *BAD_LINES,
    _line(store_id="  "),
    _line(variant=" "),
    _line(prototype_id=""),
    _line(prototype_version="1.5"),
    _line(prototype_version=True),
    _line(prototype_version=" 3 "),
    _line(x="NaN"),
    _line(x=True),
    _line(x="0.5"),
    _line(y=1.0000001),
    _line(value=True),
    _line(value="1e400"),
    _line(value={"a": 1}),
    _line(props="[]"),
    _line(props="text"),
    _line(props=7),
    _line(props={"nested": {"deep": [1, 2]}}),
    _line(ts="2026-11-02T10:15:00+0100"),
    _line(ts="2026-11-02T10:15:00+01"),
    _line(ts="2026-11-02 10:15:00.123456-05:30"),
    _line(ts="2026-11-02T10:15:00+01:00 "),
    _line(ts="2026-11-02"),
    _line(ts=1762074900),
    _line(event_id=42),
    _line(event_id="{" + str(uuid.uuid4()) + "}"),
    _line(type=" tap"),
    _line(device=None),
    _line(text="x" * 2000),
    _line(text="ü" * 2001),
    _line(screen={"not": "a string"}),
    json.dumps(dict(reversed(list(make_event().items())))),
    json.dumps({k: v for k, v in make_event().items() if k not in ("text", "props", "x")}),
    json.dumps({k: v for k, v in make_event().items() if k != "store_id"}),
    json.dumps(make_event())[:-1] + ', "type": "wave"}',
    json.dumps(make_event())[:-1] + ', "colour": "red", "size": "M"}',
    "",
    "   ",
    "null",
    '"just a string"',
    "[1, 2]",
    "{}",
    "{broken",
    *EDGE_REJECTED,
    *EDGE_ACCEPTED,
]


def test_fast_check_and_reason_case_agree_on_every_edge_line(tmp_path):
    """Ingest's fast predicate may only accept lines the full reason CASE accepts."""
    import duckdb

    from feedback.ingest_files import NUL, Source, clean_copy, open_source
    from feedback.ingest_sql import BLANK, lines_csv, staging_sql

    lines = [line.encode() for line in EDGE_LINES] + NUL_LINES
    path = tmp_path / "edges.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with open_source(Source(path, "file:edges", "jsonl", False)) as opened:
        bad = clean_copy(opened, 0, opened.size, tmp_path / "clean.jsonl", torn=False)
    assert [(b.index, b.reason) for b in bad] == [
        (len(EDGE_LINES) + i, NUL) for i in range(1, len(NUL_LINES) + 1)
    ]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    fast, full = (
        con.execute(
            f"SELECT * FROM ({staging_sql(lines_csv(tmp_path / 'clean.jsonl'), True, fast=f)})"
        ).fetchall()
        for f in (True, False)
    )
    assert len(fast) == len(lines)
    assert [repr(r) for r in fast] == [repr(r) for r in full]  # repr: nan == nan
    reasons = dict(zip(lines, (r[0] for r in full), strict=True))
    assert [reasons[line.encode()] for line in GOOD_LINES + EDGE_ACCEPTED] == [None] * (
        len(GOOD_LINES) + len(EDGE_ACCEPTED)
    )
    assert None not in [reasons[line.encode()] for line in BAD_LINES + EDGE_REJECTED]
    assert {reasons[line] for line in NUL_LINES} == {BLANK}  # and rejected by the reader
