"""``storelab lake import``: a file lab's store moves into its lake, and nothing is lost.

PostgreSQL is the session fixture ``pg_catalog`` (tests/conftest.py), as in tests/test_lake.py;
each test gets its own catalog database.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from errors import LakeImportError
from feedback.ingest import ingest
from feedback.lake import from_file
from feedback.lake.from_file import OWN_TABLES, import_file_lab
from feedback.lake.server import create_database
from feedback.store import connect
from lab import Lab, StorageSection, write_storage
from tests.fixtures import free_port, make_event, write_jsonl
from tests.test_lake import _assert_close

pytestmark = pytest.mark.lake
runner = CliRunner()
EXPERIMENT = "scan-and-discover-pilot"


def _to_lake(lab: Lab, pg_catalog) -> Lab:
    """Switch the lab's storelab.toml to lake mode with a fresh catalog database."""
    url = create_database(pg_catalog, f"t_{uuid.uuid4().hex[:12]}")
    write_storage(lab, StorageSection(kind="ducklake", catalog=url, data_path="lake"))
    return Lab(lab.root)


def _file_tables(lab: Lab) -> dict[str, list[tuple]]:
    """Every data table of the lab's DuckDB file, its rows sorted."""
    con = duckdb.connect(str(lab.db_path), read_only=True)
    try:
        return _rows(con)
    finally:
        con.close()


def _lake_tables(lab: Lab) -> dict[str, list[tuple]] | None:
    """The same for the lake; None while it has no tables at all."""
    try:
        with connect(lab) as con:
            return _rows(con)
    except Exception as exc:  # noqa: BLE001
        if "has no data yet" in str(exc):
            return None
        raise


def _rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    names = [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
        if t not in OWN_TABLES
    ]
    return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in names}


def _import(lab: Lab) -> dict:
    result = runner.invoke(app, ["lake", "import", "--lab", str(lab.root), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _analyze(lab: Lab) -> dict:
    result = runner.invoke(app, ["experiment", "analyze", EXPERIMENT, "--lab", str(lab.root),
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _bad_spool(lab: Lab) -> None:
    """A spool file with a rejected line and an e-mail address, ingested in file mode."""
    write_jsonl(
        lab.spool_dir / "kiosk-x.jsonl",
        [make_event(), "{not json", make_event(type="comment", text="mail anna@example.com")],
    )


# --- the move: same numbers, every table, nothing twice ---------------------------------------


def test_a_file_lab_moves_into_the_lake_with_the_same_numbers_and_a_second_import_copies_nothing(
    lab, pg_catalog
):
    args = ["sample", "generate", "--sessions", "300", "--lab", str(lab.root), "--json"]
    assert runner.invoke(app, args).exit_code == 0
    _bad_spool(lab)
    assert ingest(lab).rejected == 1
    before = _analyze(lab)
    in_file = _file_tables(lab)
    assert in_file["events"] and in_file["rejected_events"] and in_file["store_kpis"]

    lake_lab = _to_lake(lab, pg_catalog)
    first = _import(lake_lab)
    # every table the schema made in the file, and nothing else, with all its rows
    assert set(first["tables"]) == set(in_file)
    for table, rows in in_file.items():
        assert first["tables"][table] == {"rows": len(rows), "copied": len(rows), "already": 0}
    assert _lake_tables(lake_lab) == in_file
    _assert_close(_analyze(lake_lab), before)

    second = _import(lake_lab)
    assert second["copied"] == 0
    assert all(t["copied"] == 0 and t["already"] == t["rows"] for t in second["tables"].values())
    assert _lake_tables(lake_lab) == in_file
    # the ledger came along: the spool's files are not ingested into the lake again
    again = ingest(lake_lab)
    assert again.inserted == 0 and again.rejected == 0


def test_rows_the_lake_already_has_are_counted_not_copied(lab, pg_catalog, monkeypatch):
    monkeypatch.setattr(from_file, "CHUNK_ROWS", 2)  # events in two slices
    shared, own = make_event(), make_event(store_id="S02")
    write_jsonl(lab.spool_dir / "kiosk-1.jsonl", [shared, make_event(), "{not json"])
    ingest(lab)
    write_jsonl(lab.spool_dir / "kiosk-2.jsonl", [own])
    ingest(lab)
    con = duckdb.connect(str(lab.db_path))
    con.execute("CREATE TABLE notes (note VARCHAR, day DATE)")  # a table of the user's own
    con.execute("INSERT INTO notes VALUES ('pilot week 1', DATE '2026-11-02')")
    con.close()
    in_file = _file_tables(lab)

    lake_lab = _to_lake(lab, pg_catalog)
    (lab.spool_dir / "kiosk-2.jsonl").unlink()
    assert ingest(lake_lab).inserted == 2  # the lake reads kiosk-1 afresh
    ticks = []
    report = import_file_lab(lake_lab, progress=lambda done, total, _t: ticks.append((done, total)))
    counts = report.to_dict()["tables"]
    assert counts["events"] == {"rows": 3, "copied": 1, "already": 2}
    assert counts["ingested_files"] == {"rows": 2, "copied": 1, "already": 1}
    # the lake rejected kiosk-1's bad line again, later: the same line, not copied twice
    assert counts["rejected_events"] == {"rows": 1, "copied": 0, "already": 1}
    assert counts["notes"] == {"rows": 1, "copied": 1, "already": 0}
    assert ticks[-1][0] == ticks[-1][1] == sum(len(rows) for rows in in_file.values())
    stored = _lake_tables(lake_lab)
    assert sorted(str(e[0]) for e in stored["events"]) == sorted(
        str(e[0]) for e in in_file["events"]
    )  # each id once
    assert [r[0] for r in stored["ingested_files"]] == ["spool:kiosk-1", "spool:kiosk-2"]
    assert stored["notes"] == in_file["notes"]
    again = runner.invoke(app, ["lake", "import", "--lab", str(lake_lab.root)])
    assert again.exit_code == 0, again.output
    rows = sum(len(r) for r in in_file.values())
    assert f"0 rows copied, {rows} already in the lake" in again.output  # the user's table too
    assert "notes" in again.output


# --- a crash mid-way leaves the lake as it was ----------------------------------------------


def test_an_insert_that_fails_mid_import_leaves_the_lake_unchanged(
    lab, pg_catalog, monkeypatch, tmp_path
):
    from feedback.exchange import import_kpis

    write_jsonl(lab.spool_dir / "kiosk-1.jsonl", [make_event() for _ in range(20)])
    _bad_spool(lab)
    ingest(lab)
    kpis = tmp_path / "kpis.csv"
    kpis.write_text("store_id,date,metric,value\nS01,2026-11-02,footfall,10\n", encoding="utf-8")
    import_kpis(lab, kpis)
    lake_lab = _to_lake(lab, pg_catalog)
    for old in lab.spool_dir.glob("*.jsonl"):
        old.unlink()
    write_jsonl(lab.spool_dir / "late.jsonl", [make_event()])
    assert ingest(lake_lab).inserted == 1  # the lake holds something of its own already
    before = _lake_tables(lake_lab)
    copy = from_file._copy
    copied = []

    def failing(con, plan, exists, tick):
        if plan.name == "store_kpis":  # after events, ingested_files and rejected_events
            raise duckdb.IOException("simulated: disk full")
        count = copy(con, plan, exists, tick)
        copied.append((plan.name, count.copied))
        return count

    monkeypatch.setattr(from_file, "_copy", failing)
    with pytest.raises(LakeImportError, match="rolled back; the lake is unchanged"):
        import_file_lab(lake_lab)
    assert dict(copied)["events"] > 0  # the failure came after rows were inserted
    assert _lake_tables(lake_lab) == before

    monkeypatch.setattr(from_file, "_copy", copy)
    assert import_file_lab(lake_lab).copied > 0


# --- refusals: one line, its exit code, nothing changed -------------------------------------


def _refused(lab: Lab, words: str) -> None:
    result = runner.invoke(app, ["lake", "import", "--lab", str(lab.root)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert words in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_lab_not_in_lake_mode_is_refused(lab):
    write_jsonl(lab.spool_dir / "k.jsonl", [make_event()])
    ingest(lab)
    in_file = _file_tables(lab)
    _refused(lab, "not in lake mode")
    assert _file_tables(lab) == in_file


def test_a_lab_without_a_duckdb_file_is_refused_and_the_lake_stays_empty(lake_lab):
    _refused(lake_lab, "does not exist")
    assert _lake_tables(lake_lab) is None


def test_a_lake_nobody_answers_is_refused(lab):
    write_jsonl(lab.spool_dir / "k.jsonl", [make_event()])
    ingest(lab)
    url = f"postgresql://storelab@127.0.0.1:{free_port()}/storelab"
    write_storage(lab, StorageSection(kind="ducklake", catalog=url))
    _refused(Lab(lab.root), "Is its PostgreSQL running?")


def test_a_duckdb_file_another_process_holds_is_refused_and_the_lake_stays_empty(lab, pg_catalog):
    write_jsonl(lab.spool_dir / "k.jsonl", [make_event()])
    ingest(lab)
    lake_lab = _to_lake(lab, pg_catalog)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('holding', flush=True); sys.stdin.read()", str(lab.db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "holding"
        _refused(lake_lab, "in use by another process")
    finally:
        holder.communicate("", timeout=30)
    assert _lake_tables(lake_lab) is None
