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
    make_event(prototype_version="2"),
    make_event(props=None),
    make_event(text="Schöne Jacke, aber die Größe fehlte."),
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


def test_event_json_round_trips():
    event = Event.model_validate(make_event(type="comment", text="gut"))
    again = Event.model_validate(json.loads(event.to_json()))
    assert again == event


def _line(**overrides) -> str:
    return json.dumps(make_event(**overrides))


# Lines near the edges of the fast check in feedback.ingest_sql (blank-ish values, odd numbers,
# other key orders, missing optional keys, repeated keys, JSON that is not an object).
EDGE_LINES = [
    *(json.dumps(r) for r in GOOD + BAD),
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
]


def test_fast_check_and_reason_case_agree_on_every_edge_line(tmp_path):
    """Ingest's fast predicate may only accept lines the full reason CASE accepts."""
    import duckdb

    from feedback.ingest_sql import lines_csv, staging_sql

    path = tmp_path / "edges.jsonl"
    path.write_text("\n".join(EDGE_LINES) + "\n", encoding="utf-8")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    fast, full = (
        con.execute(f"SELECT * FROM ({staging_sql(lines_csv(path), True, fast=f)})").fetchall()
        for f in (True, False)
    )
    assert len(fast) == len(EDGE_LINES)
    assert [repr(r) for r in fast] == [repr(r) for r in full]  # repr: nan == nan
    reasons = [r[0] for r in full]
    assert reasons[: len(GOOD)] == [None] * len(GOOD)
    assert None not in reasons[len(GOOD) : len(GOOD) + len(BAD)]
