"""The bulk spool writer: whatever text it is given comes back unchanged through ingest."""

from __future__ import annotations

import json
import uuid

import pyarrow as pa
import pytest

from feedback.events import FIELDS
from feedback.ingest import ingest
from feedback.sink import _write_with_arrow, _write_with_duckdb, write_batch
from feedback.store import connect

TRICKY = [
    'Sie sagte "passt" und ging',
    "C:\\Users\\anna\\neu\\ta",  # backslashes, and \n \t in the text after one
    "zwei\nZeilen\r\nund\tTab",
    "Größe: Übergröße, Maße Äpfel ß",
    "Super 👍🏽 danke 🧥",
    "Steuerzeichen \x00 \x01 \x08 \x0c \x1f ende",
    "\u2028 Zeilentrenner und \u2029",
    "",
    None,
]


def _table(n: int = len(TRICKY), dictionary: bool = False) -> pa.Table:
    text = pa.array(TRICKY[:n], pa.string())
    screen = pa.array(["home", 'sc"reen', None, "kasse\\2", "ü"] * 2, pa.string()).slice(0, n)
    props = [
        '{"reason": "completed"}',
        '{"q": "say \\"hi\\"", "n": 1.5, "l": [1, 2]}',
        "{}",
        '{"emoji": "🧥", "umlaut": "Größe"}',
        None,
        "null",
        '{"nested": {"a": null}}',
        '{"back": "a\\\\b"}',
        '{"nl": "x\\ny"}',
    ][:n]
    columns = {
        "event_id": pa.array([str(uuid.uuid4()) for _ in range(n)]),
        "ts": pa.array([f"2026-11-02T10:15:{i:02d}.250+01:00" for i in range(n)]),
        "session_id": pa.array([str(uuid.uuid4())] * n),
        "experiment_id": pa.nulls(n, pa.string()),
        "prototype_id": pa.array(["scan-and-discover"] * n),
        "prototype_version": pa.array([2] * n, pa.int32()),
        "variant": pa.array(["control", "treatment"] * n)[:n],
        "store_id": pa.array(["S01"] * n),
        "device": pa.array(["kiosk"] * n),
        "type": pa.array(["comment"] * n),
        "screen": screen,
        "element": pa.nulls(n, pa.string()),
        "task": pa.nulls(n, pa.string()),
        "question": pa.array(["comment"] * n),
        "x": pa.array([0.0, 1.0, None, 0.1234, 1e-05, 0.5, None, 0.999, 0.3][:n]),
        "y": pa.array([None] * n, pa.float64()),
        "value": pa.array([1, 7, None, -3, 0, 10**12, 2, 5, None][:n], pa.int64()),
        "text": text,
        "props": pa.array(props, pa.string()),
    }
    if dictionary:
        for name in ("variant", "device", "type", "screen", "text", "props"):
            columns[name] = columns[name].dictionary_encode()
    return pa.table([columns[f] for f in FIELDS], names=list(FIELDS))


def _rows(path) -> list[dict]:
    # split("\n"), not splitlines(): that also splits at U+2028, which JSON leaves unescaped
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text[:-1].split("\n")]


@pytest.mark.parametrize("dictionary", [False, True], ids=["plain", "dictionary"])
def test_tricky_text_round_trips_through_ingest(lab, dictionary):
    table = _table(dictionary=dictionary)
    path = write_batch(lab.spool_dir, table)
    rows = _rows(path)
    assert [r["text"] for r in rows] == TRICKY
    assert list(rows[0]) == list(FIELDS)

    report = ingest(lab)
    assert (report.inserted, report.rejected) == (len(TRICKY), 0)
    with connect(lab) as con:
        stored = con.execute(
            """SELECT event_id::VARCHAR, screen, x, "value", "text", props::VARCHAR FROM events
               ORDER BY ts"""
        ).fetchall()
    expected = table.to_pydict()
    assert [r[0] for r in stored] == expected["event_id"]
    assert [r[1] for r in stored] == expected["screen"]
    assert [r[2] for r in stored] == expected["x"]
    assert [r[3] for r in stored] == expected["value"]
    assert [r[4] for r in stored] == TRICKY
    # props: the same JSON objects; missing or JSON null is stored as {}
    want = [json.loads(p) if p else None for p in expected["props"]]
    assert [json.loads(r[5]) for r in stored] == [p if p is not None else {} for p in want]


def test_arrow_and_duckdb_paths_write_the_same_values(tmp_path):
    table = _table(dictionary=True)
    assert _write_with_arrow(table, tmp_path / "arrow.jsonl")
    _write_with_duckdb(table, tmp_path / "duckdb.jsonl")
    assert _rows(tmp_path / "arrow.jsonl") == _rows(tmp_path / "duckdb.jsonl")


def test_other_column_types_go_through_duckdb(lab):
    """Timestamps and struct props are not the hot path: DuckDB formats them."""
    base = _table(3)
    table = base.set_column(
        FIELDS.index("ts"),
        "ts",
        pa.array([0, 1, 2], pa.timestamp("ms", tz="UTC")).cast(pa.timestamp("us", tz="UTC")),
    ).set_column(FIELDS.index("props"), "props", pa.array([{"a": 1}, {"a": 2}, {"a": None}]))
    assert not _write_with_arrow(table, lab.root / "unused.jsonl")
    rows = _rows(write_batch(lab.spool_dir, table))
    assert rows[1]["ts"].startswith("1970-01-01T00:00:00.001") and rows[1]["props"] == {"a": 2}
    assert ingest(lab).inserted == 3


def test_props_that_are_not_json_are_refused(tmp_path):
    import duckdb

    table = _table(3)
    table = table.set_column(
        FIELDS.index("props"), "props", pa.array(["{}", "{kaputt", "{}"], pa.string())
    )
    with pytest.raises(duckdb.Error):
        write_batch(tmp_path, table, name="bad")
    assert list(tmp_path.iterdir()) == []  # no half-written .part for ingest to pick up


def test_a_process_that_exits_without_close_still_finishes_its_file(tmp_path):
    """The prototype server never calls close (its sink lives as long as the process); exiting
    normally must still rename the spool file, or the ``.part`` stays forever."""
    import subprocess
    import sys

    from tests.fixtures import ROOT, make_event

    script = (
        "import json, sys\n"
        "from feedback.sink import SpoolSink\n"
        "sink = SpoolSink(sys.argv[1])\n"
        "sink.emit(json.loads(sys.argv[2]))\n"
        "rotated = SpoolSink(sys.argv[1])\n"  # closed by hand: nothing left to do at exit
        "rotated.emit(json.loads(sys.argv[2]))\n"
        "rotated.close()\n"
    )
    event = make_event()
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), json.dumps(event)],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert not list(tmp_path.glob("*.part"))
    files = sorted(tmp_path.glob("*.jsonl"))
    assert len(files) == 2
    assert [json.loads(f.read_text(encoding="utf-8")) for f in files] == [event, event]
