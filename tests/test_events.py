"""The event contract: the pydantic model and the SQL rules at ingest accept the same lines."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from feedback.events import EVENT_TYPES, FIELDS, Event, uuid7
from feedback.store import connect, ingest
from tests.conftest import make_event, write_jsonl

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
