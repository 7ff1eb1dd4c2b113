"""Ingest: idempotent, loses nothing, and names the file, line and field of every problem."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap

import pytest

from errors import DatabaseBusyError, DataProblemError, InvalidInputError
from feedback.exchange import export, import_kpis
from feedback.ingest import ingest
from feedback.sink import SpoolSink, write_batch
from feedback.store import connect
from tests.fixtures import ROOT, make_event, write_jsonl


def count(lab, sql="SELECT count(*) FROM events"):
    with connect(lab) as con:
        return con.execute(sql).fetchone()[0]


def test_spool_is_ingested_once(lab):
    with SpoolSink(lab.spool_dir) as sink:
        for _ in range(5):
            sink.emit(make_event())
    first = ingest(lab)
    again = ingest(lab)
    assert first.inserted == 5
    assert again.inserted == 0 and all(f.skipped for f in again.files)
    assert count(lab) == 5


def test_growing_part_file_is_read_incrementally_and_mid_line_write_waits(lab):
    sink = SpoolSink(lab.spool_dir)
    sink.emit(make_event())
    sink.emit(make_event())
    part = sink.path
    with open(part, "a", encoding="utf-8") as fh:  # a writer caught mid-line
        fh.write(json.dumps(make_event())[:40])
    assert ingest(lab).inserted == 2
    assert count(lab, "SELECT count(*) FROM rejected_events") == 0
    with open(part, "a", encoding="utf-8") as fh:  # ... and finishing it
        fh.write(json.dumps(make_event())[40:] + "\n")
    sink.emit(make_event())
    assert ingest(lab).inserted == 2
    sink.close()
    assert not part.exists()
    assert ingest(lab).inserted == 0
    assert count(lab) == 4


def test_killed_ingest_stores_nothing_twice(lab):
    """A run killed mid-way rolls back; the next run stores every event exactly once."""
    with SpoolSink(lab.spool_dir) as sink:
        for _ in range(200):
            sink.emit(make_event())
    with SpoolSink(lab.spool_dir) as sink:
        for _ in range(100):
            sink.emit(make_event())
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from lab import Lab
        from feedback.ingest import ingest
        calls = []
        def progress(done, total, name):
            calls.append(done)
            if len(calls) == 2:  # after the first file committed, during the second
                os._exit(9)
        ingest(Lab(__import__('pathlib').Path({str(lab.root)!r})), progress=progress)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert killed.returncode == 9
    ingest(lab)
    assert count(lab) == 300
    assert count(lab, "SELECT count(DISTINCT event_id) FROM events") == 300


def test_duplicates_within_and_across_files(lab, tmp_path):
    e = make_event()
    write_jsonl(tmp_path / "a.jsonl", [e, e, make_event()])
    write_jsonl(tmp_path / "b.jsonl", [e])
    r = ingest(lab, [tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    assert (r.inserted, r.duplicates) == (2, 2)


def test_a_stored_id_at_either_end_of_a_new_file_s_ids_is_a_duplicate(lab, tmp_path):
    """The anti-join reads only stored ids within the new file's id range: its ends count."""
    events = sorted((make_event() for _ in range(6)), key=lambda e: e["event_id"])
    write_jsonl(tmp_path / "a.jsonl", [events[0], events[5]])
    assert ingest(lab, [tmp_path / "a.jsonl"]).inserted == 2
    write_jsonl(tmp_path / "b.jsonl", events)  # its least and greatest ids are stored
    r = ingest(lab, [tmp_path / "b.jsonl"])
    assert (r.inserted, r.duplicates) == (4, 2)
    assert count(lab, "SELECT count(DISTINCT event_id) FROM events") == count(lab) == 6


def test_same_external_file_twice_is_skipped(lab, tmp_path):
    f = write_jsonl(tmp_path / "a.jsonl", [make_event(), make_event()])
    assert ingest(lab, [f]).inserted == 2
    second = ingest(lab, [f])
    assert second.files[0].skipped and second.files[0].note == "already ingested"


def test_truncated_and_broken_lines_are_kept_with_reason(lab, tmp_path):
    good = make_event()
    f = tmp_path / "broken.jsonl"
    f.write_text(
        json.dumps(good) + "\n" + "not json at all\n" + "[1, 2]\n" + json.dumps(make_event())[:30],
        encoding="utf-8",
    )
    r = ingest(lab, [f])
    assert r.inserted == 1 and r.rejected == 3
    assert r.files[0].examples == [
        "line 2: not valid JSON (truncated or broken line)",
        "line 3: not a JSON object",
        "line 4: not valid JSON (truncated or broken line)",
    ]
    assert count(lab, "SELECT count(*) FROM rejected_events WHERE raw = 'not json at all'") == 1


def test_line_that_is_not_utf8_is_rejected_and_the_rest_kept(lab, tmp_path):
    f = tmp_path / "mixed.jsonl"
    with open(f, "wb") as fh:
        fh.write(json.dumps(make_event()).encode() + b"\n")
        latin1 = json.dumps(make_event(text="Gr\u00f6\u00dfe"), ensure_ascii=False)
        fh.write(latin1.encode("latin-1") + b"\n")
        fh.write(json.dumps(make_event()).encode() + b"\n")
    r = ingest(lab, [f])
    assert (r.inserted, r.rejected) == (2, 1)
    assert r.files[0].examples == ["line 2: line is not valid UTF-8"]


def test_strict_exits_with_data_problem_but_keeps_valid_events(lab, tmp_path):
    f = write_jsonl(tmp_path / "a.jsonl", [make_event(), make_event(type="wave")])
    with pytest.raises(DataProblemError) as err:
        ingest(lab, [f], strict=True)
    assert err.value.exit_code == 3
    assert "line 2: unknown type 'wave'" in str(err.value)
    assert count(lab) == 1


def test_csv_and_parquet_imports_use_the_same_rules(lab, tmp_path):
    import duckdb

    rows = [make_event(), make_event(type="nope")]
    with open(tmp_path / "e.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "props": json.dumps(r["props"])} for r in rows)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{tmp_path / 'e.csv'}', all_varchar=true)) "
        f"TO '{tmp_path / 'e.parquet'}'"
    )
    r_csv = ingest(lab, [tmp_path / "e.csv"])
    assert (r_csv.inserted, r_csv.rejected) == (1, 1)
    assert r_csv.files[0].examples == ["line 3: unknown type 'nope'"]  # header is line 1
    r_pq = ingest(lab, [tmp_path / "e.parquet"])
    assert (r_pq.inserted, r_pq.duplicates, r_pq.rejected) == (0, 1, 1)


def test_csv_with_wrong_column_names_is_refused_by_name(lab, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("eventid,ts,session,type\n1,2,3,tap\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as err:
        ingest(lab, [f])
    msg = str(err.value)
    assert "bad.csv" in msg and "missing column(s): event_id" in msg
    assert "unknown column(s): eventid" in msg


def test_latin1_csv_is_read_and_says_so(lab, tmp_path):
    e = make_event(text="Größe passt")
    header = ",".join(e)
    values = ",".join("" if v is None else str(v).replace(",", " ") for v in e.values())
    f = tmp_path / "excel.csv"
    f.write_bytes((header + "\n" + values.replace("{}", "") + "\n").encode("cp1252"))
    r = ingest(lab, [f])
    assert r.inserted == 1 and "Latin-1" in r.files[0].note
    assert count(lab, "SELECT count(*) FROM events WHERE text = 'Größe passt'") == 1


def test_missing_unknown_and_unreadable_files(lab, tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        ingest(lab, [tmp_path / "nope.jsonl"])
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(InvalidInputError, match="unknown file type"):
        ingest(lab, [tmp_path / "x.xlsx"])


def test_text_is_redacted_before_it_is_stored(lab, tmp_path):
    text = "Bitte anrufen 0171 2345678 oder an anna.muster@example.de schreiben"
    ingest(lab, [write_jsonl(tmp_path / "a.jsonl", [make_event(type="comment", text=text)])])
    with connect(lab) as con:
        stored = con.execute("SELECT text FROM events").fetchone()[0]
    assert stored == "Bitte anrufen [phone] oder an [email] schreiben"


def test_bulk_batch_from_the_simulator_path_is_ingested(lab):
    import pyarrow as pa

    rows = [make_event() for _ in range(3)]
    table = pa.table({k: [r[k] for r in rows] for k in rows[0]} | {"props": ["{}"] * 3})
    path = write_batch(lab.spool_dir, table)
    assert path.suffix == ".jsonl" and path.exists()
    assert ingest(lab).inserted == 3


def test_database_held_by_another_process_gives_a_clear_error(lab, monkeypatch):
    ingest(lab)  # creates the database
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(lab.db_path)!r}); "
            "print('ready', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setattr("feedback.store.LOCK_RETRY_SECONDS", 0.3)
        with pytest.raises(DatabaseBusyError, match="in use by another process"):
            ingest(lab)
    finally:
        holder.kill()
        holder.wait()


def test_reading_before_any_ingest_says_what_to_do(lab):
    with pytest.raises(InvalidInputError, match="storelab feedback ingest"), connect(lab):
        pass


def test_kpi_import_keeps_good_rows_and_names_bad_lines(lab, tmp_path):
    f = tmp_path / "kpis.csv"
    f.write_text(
        "store_id,date,metric,value\nS01,2026-10-01,footfall,812\n"
        "S02,01.10.2026,footfall,700\nS03,2026-10-01,footfall,viele\n",
        encoding="utf-8",
    )
    result = import_kpis(lab, f)
    assert result["imported"] == 1 and result["rejected"] == 2
    assert result["examples"][0].startswith("line 3: date is not YYYY-MM-DD")
    g = tmp_path / "wrong.csv"
    g.write_text("store,day,value\nS01,2026-10-01,1\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="expected exactly store_id,date,metric,value"):
        import_kpis(lab, g)


def test_export_round_trips_every_event(lab, tmp_path):
    ingest(lab, [write_jsonl(tmp_path / "a.jsonl", [make_event() for _ in range(4)])])
    import duckdb

    out = export(lab, "parquet")
    assert duckdb.connect().execute(f"SELECT count(*) FROM '{out}'").fetchone()[0] == 4


def test_line_longer_than_the_parallel_reader_allows_is_still_rejected_by_line(lab, tmp_path):
    """A line over 8 MiB makes the fast reader fail; a copy without it is read, nothing is lost."""
    from feedback.ingest_sql import LINE_BYTES

    f = write_jsonl(
        tmp_path / "huge.jsonl",
        [make_event(), make_event(type="comment", text="x" * (LINE_BYTES + 1)), make_event()],
    )
    r = ingest(lab, [f])
    assert (r.inserted, r.rejected) == (2, 1)
    [example] = r.files[0].examples
    assert example.startswith("line 2: line is 8,38") and "longer than any event" in example
    assert count(lab, "SELECT max(length(raw)) FROM rejected_events") == 2000


def test_file_name_with_a_quote_is_read_and_recorded(lab, tmp_path):
    f = write_jsonl(tmp_path / "o'brien's events.jsonl", [make_event(), make_event(type="x")])
    r = ingest(lab, [f])
    assert (r.inserted, r.rejected) == (1, 1)
    assert count(lab, "SELECT count(*) FROM ingested_files WHERE path LIKE '%o''brien''s%'") == 1
    assert count(lab, "SELECT count(*) FROM rejected_events WHERE source LIKE '%o''brien%'") == 1
    assert ingest(lab, [f]).files[0].skipped


def test_staging_plan_keeps_line_order(tmp_path):
    """``staged.rowid`` is the line's position only while the plan keeps insertion order: an
    operator that does not (a join, e.g. from a long ``IN (…)`` list, or a window) would
    shuffle line numbers on large files, which small test files cannot show."""
    import duckdb

    from feedback.ingest_sql import lines_csv, staging_sql

    f = write_jsonl(tmp_path / "a.jsonl", [make_event()])
    sql = "EXPLAIN CREATE TEMP TABLE s AS " + staging_sql(lines_csv(f), redact=True)
    plan = duckdb.connect().execute(sql).fetchall()[0][1]
    assert "BATCH_CREATE_TABLE_AS" in plan
