"""Lake mode: the same store as a DuckLake (PostgreSQL catalog, Parquet files), many writers.

PostgreSQL is started by the session fixture ``pg_catalog`` (tests/conftest.py); every test
gets a fresh catalog database.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from errors import InvalidInputError
from feedback.ingest import ingest
from feedback.store import connect
from lab import Lab, StorageSection, write_storage
from tests.fixtures import ROOT, make_event, new_lab, write_jsonl

pytestmark = pytest.mark.lake
runner = CliRunner()


def _table(lab: Lab, sql: str) -> list[tuple]:
    with connect(lab) as con:
        return con.execute(sql).fetchall()


def _spool_lines(lab: Lab) -> list:
    """Good events, a duplicate id, bad lines and an e-mail address to mask."""
    same = make_event(type="task_start", task="find")
    return [
        make_event(),
        same,
        same,  # a duplicate: stored once
        make_event(type="comment", text="Mail me: anna@example.com"),
        "{not json",
        make_event(type="tapp"),
        "",
        make_event(store_id="S02", x=1.5),
    ]


# --- one store, two kinds: the same rules ------------------------------------------------------


def test_ingest_into_the_lake_keeps_the_same_rules_as_the_file(lake_lab, tmp_path):
    file_lab = new_lab(tmp_path / "file-lab")
    lines = _spool_lines(lake_lab)
    for lab in (lake_lab, file_lab):
        write_jsonl(lab.spool_dir / "kiosk-1.jsonl", lines)
    reports = [ingest(lab).to_dict() for lab in (lake_lab, file_lab)]
    for report in reports:
        report["files"][0]["source"] = Path(report["files"][0]["source"]).name
    assert reports[0] == reports[1]
    assert reports[0]["inserted"] == 3 and reports[0]["duplicates"] == 1
    assert reports[0]["rejected"] == 3

    queries = [
        "SELECT * EXCLUDE (source, ingested_at) FROM events ORDER BY event_id",
        "SELECT line, reason FROM rejected_events ORDER BY line",
        "SELECT file_key, lines_done, bytes_done, complete, inserted, duplicates, rejected "
        "FROM ingested_files",
    ]
    for sql in queries:
        assert _table(lake_lab, sql) == _table(file_lab, sql)
    texts = [t for (t,) in _table(lake_lab, "SELECT text FROM events WHERE text IS NOT NULL")]
    assert texts and "anna@example.com" not in texts[0]
    # again: nothing new, nothing twice
    assert ingest(lake_lab).inserted == 0
    assert _table(lake_lab, "SELECT count(*) FROM events") == [(3,)]


def test_analysis_on_the_lake_equals_the_analysis_on_the_file(lake_lab, tmp_path):
    file_lab = new_lab(tmp_path / "file-lab")
    results = []
    for lab in (lake_lab, file_lab):
        args = ["sample", "generate", "--sessions", "600", "--lab", str(lab.root), "--json"]
        assert runner.invoke(app, args).exit_code == 0
        out = runner.invoke(
            app,
            [
                "experiment",
                "analyze",
                "scan-and-discover-pilot",
                "--lab",
                str(lab.root),
                "--json",
            ],  # fmt: skip
        )
        assert out.exit_code == 0, out.output
        results.append(json.loads(out.output))
    _assert_close(results[0], results[1])


def _assert_close(a, b, path="") -> None:
    """Equal, numbers to 1e-9 (sums over Parquet files may add in another order)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            if k not in ("generated_at", "analyzed_at"):
                _assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9, nan_ok=True), path
    else:
        assert a == b, path


def test_kpi_import_into_the_lake_replaces_earlier_values(lake_lab, tmp_path):
    from feedback.exchange import import_kpis

    first = tmp_path / "kpis.csv"
    first.write_text("store_id,date,metric,value\nS01,2026-11-02,footfall,10\n", encoding="utf-8")
    import_kpis(lake_lab, first)
    first.write_text("store_id,date,metric,value\nS01,2026-11-02,footfall,12\n", encoding="utf-8")
    assert import_kpis(lake_lab, first)["imported"] == 1
    assert _table(lake_lab, 'SELECT "value" FROM store_kpis') == [(12.0,)]


# --- settings and bad inputs: one clear line --------------------------------------------------


def test_ducklake_without_a_catalog_is_named_in_the_config(lab):
    text = lab.config_path.read_text(encoding="utf-8") + '\n[storage]\nkind = "ducklake"\n'
    lab.config_path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["feedback", "ingest", "--lab", str(lab.root)])
    assert result.exit_code != 0
    assert "needs catalog" in result.output and "storelab lake up" in result.output


def test_a_catalog_that_is_not_postgresql_is_refused(lab):
    with pytest.raises(Exception, match="is not a postgresql:// URL"):
        StorageSection(kind="ducklake", catalog="mysql://x@localhost/db")


def test_a_catalog_nobody_answers_is_one_clear_line(lab, pg_catalog):
    url = f"postgresql://storelab@127.0.0.1:{_closed_port()}/storelab"
    write_storage(lab, StorageSection(kind="ducklake", catalog=url))
    result = runner.invoke(app, ["feedback", "ingest", "--lab", str(lab.root)])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Is its PostgreSQL running?" in result.output


def _closed_port() -> int:
    from tests.fixtures import free_port

    return free_port()


def test_a_lake_reader_before_any_ingest_says_so(lake_lab):
    with pytest.raises(InvalidInputError, match="has no data yet"), connect(lake_lab):
        pass


def test_a_worker_name_that_cannot_name_a_lock_is_refused(lake_lab):
    result = runner.invoke(
        app, ["feedback", "ingest", "--worker", "../x y", "--lab", str(lake_lab.root)]
    )
    assert result.exit_code != 0 and "--worker" in result.output


# --- storelab lake up / down ------------------------------------------------------------------


def test_lake_up_switches_the_lab_and_down_stops_it(tmp_path, pg_catalog):
    import tempfile

    from feedback.lake.local import lake_status

    root = Path(tempfile.mkdtemp(prefix="storelab-lakeup-"))
    root.chmod(0o755)  # under root the server runs as the postgres user
    lab = new_lab(root / "lab")
    try:
        up = runner.invoke(app, ["lake", "up", "--lab", str(lab.root), "--json"])
        assert up.exit_code == 0, up.output
        url = json.loads(up.output)["catalog"]
        config = Lab(lab.root).config.storage
        assert config.kind == "ducklake" and config.catalog == url
        write_jsonl(lab.spool_dir / "k.jsonl", [make_event(), make_event()])
        assert ingest(Lab(lab.root)).inserted == 2
        assert "lake/" in (lab.root / ".gitignore").read_text(encoding="utf-8")
    finally:
        down = runner.invoke(app, ["lake", "down", "--lab", str(lab.root), "--json"])
        stopped = lake_status(lab) is None
        shutil.rmtree(root, ignore_errors=True)
    assert down.exit_code == 0 and json.loads(down.output) == {"stopped": True}
    assert stopped


# --- many writers ---------------------------------------------------------------------------------


FILES, PER_FILE = 9, 300  # each file in two of three folders; 10 % of ids resent in a later file


def _event_line(event_id: str, session: str, i: int) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "ts": f"2026-11-02T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "session_id": session,
            "prototype_id": "scan-and-discover",
            "prototype_version": 1,
            "variant": "control",
            "store_id": f"S{i % 7:02d}",
            "device": "kiosk",
            "type": "tap",
            "screen": "home",
            "element": "btn",
            "x": 0.5,
            "y": 0.5,
        }  # fmt: skip
    )


def _overlapping_spools(root: Path, files: int, per_file: int) -> tuple[list[Path], set[str]]:
    """Three spool folders; every file lies in two of them, and every tenth event id appears
    in a second file too (a resent event). Returns the folders and the distinct event ids."""
    folders = [root / f"host{i}" for i in range(3)]
    for folder in folders:
        folder.mkdir(parents=True)
    ids: set[str] = set()
    previous: list[str] = []
    for f in range(files):
        session = str(uuid.uuid4())
        rows = [str(uuid.uuid4()) for _ in range(per_file)]
        rows += previous[::10]  # resent in a later file
        ids.update(rows)
        text = "\n".join(_event_line(e, session, i) for i, e in enumerate(rows)) + "\n"
        for folder in (folders[f % 3], folders[(f + 1) % 3]):
            (folder / f"kiosk-{f:03d}.jsonl").write_text(text, encoding="utf-8")
        previous = rows[:per_file]
    return folders, ids


def _worker(lab: Lab, name: str, folders: list[Path]) -> subprocess.Popen:
    args = [sys.executable, str(ROOT / "cli.py"), "feedback", "ingest", "--worker", name,
            "--lab", str(lab.root), "--json"]  # fmt: skip
    for folder in folders:
        args += ["--spool", str(folder)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _assert_exactly_once(lab: Lab, ids: set[str], files: int) -> None:
    total, distinct = _table(lab, "SELECT count(*), count(DISTINCT event_id) FROM events")[0]
    stored = {str(e) for (e,) in _table(lab, "SELECT event_id FROM events")}
    assert (total, distinct) == (len(ids), len(ids))  # zero duplicates
    assert stored == ids  # zero losses
    rows = _table(lab, "SELECT count(*), count(DISTINCT file_key), bool_and(complete) "
                       "FROM ingested_files")  # fmt: skip
    assert rows == [(files, files, True)]  # each spool file recorded once, read to its end
    assert _table(lab, "SELECT sum(inserted) FROM ingested_files") == [(len(ids),)]


def test_three_workers_write_while_an_analyst_reads_and_each_event_is_stored_once(
    lake_lab, tmp_path
):
    folders, ids = _overlapping_spools(tmp_path / "hosts", files=FILES, per_file=PER_FILE)
    # A new lake: the three workers also race to create its catalog and schema.
    workers = [_worker(lake_lab, f"w{i}", [folders[i], folders[(i + 1) % 3]]) for i in range(3)]
    reads = []
    while any(p.poll() is None for p in workers):
        started = time.monotonic()
        try:
            with connect(lake_lab) as con:  # a reader, like experiment analyze
                counted, recorded = con.execute(
                    "SELECT (SELECT count(*) FROM events), "
                    "(SELECT coalesce(sum(inserted), 0) FROM ingested_files)"
                ).fetchone()
        except InvalidInputError:  # no worker has committed the schema yet
            continue
        reads.append((counted, recorded, time.monotonic() - started))
        time.sleep(0.3)  # an analyst, not a busy loop (the two cores are the workers')
    for proc in workers:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()[-2000:]
    assert reads, "the workers finished before a single read"
    # every read saw whole commits: the events and the progress of the same files
    assert all(counted == recorded for counted, recorded, _ in reads)
    assert max(seconds for *_, seconds in reads) < 20  # a guard against a hang, not a timing
    _assert_exactly_once(lake_lab, ids, files=FILES)


def test_a_worker_killed_midway_loses_and_doubles_nothing(lake_lab, tmp_path):
    folders, ids = _overlapping_spools(tmp_path / "hosts", files=FILES, per_file=PER_FILE)
    ingest(lake_lab, files=[], spools=[])
    victim = _worker(lake_lab, "w0", folders)  # reads all three folders
    others = [_worker(lake_lab, f"w{i}", [folders[i]]) for i in (1, 2)]
    _wait_for_first_commit(lake_lab, victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    for proc in others:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()[-2000:]
    rerun = _worker(lake_lab, "w0", folders)  # the killed worker's host runs it again
    _, err = rerun.communicate(timeout=240)
    assert rerun.returncode == 0, err.decode()[-2000:]
    _assert_exactly_once(lake_lab, ids, files=FILES)


def _wait_for_first_commit(lab: Lab, proc: subprocess.Popen) -> None:
    """Until some file is recorded (the workers are mid-way), or the process ended."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if _table(lab, "SELECT count(*) FROM ingested_files")[0][0] > 0:
            return
        time.sleep(0.05)


def test_a_conflicting_commit_is_retried(lake_lab):
    """Two writers commit at once: the one that loses runs again and both land."""
    from feedback.lake.catalog import write_transaction

    write_jsonl(lake_lab.spool_dir / "k.jsonl", [make_event()])
    ingest(lake_lab)
    attempts = []
    with connect(lake_lab, read_only=False) as mine, connect(lake_lab, read_only=False) as other:

        def work() -> None:
            attempts.append(1)
            mine.execute("INSERT INTO rejected_events VALUES ('a', 1, 'x', 'mine', now())")
            if len(attempts) == 1:  # another worker commits in between
                write_transaction(
                    other,
                    lambda: other.execute(
                        "INSERT INTO rejected_events VALUES ('b', 1, 'y', 'other', now())"
                    ),
                    lake=True,
                )

        write_transaction(mine, work, lake=True)
    assert len(attempts) == 2
    reasons = _table(lake_lab, "SELECT reason FROM rejected_events ORDER BY reason")
    assert reasons == [("mine",), ("other",)]
