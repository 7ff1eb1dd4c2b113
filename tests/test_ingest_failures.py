"""Ingest cannot be stopped by any one entry, any line, a writer racing it or a second ingest.

Each test is a way the pilot's spool broke ingest (issue 12): a folder where a file should be, a
line of 17 MiB, a file deleted or renamed mid-run, two ingests at once, a writer that died
mid-line, files never cleaned up, bad values that were stored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feedback.ingest_files
from errors import DataProblemError, InvalidInputError
from feedback.exchange import import_kpis
from feedback.ingest import ingest
from feedback.sink import SpoolSink, this_host
from feedback.store import connect
from tests.fixtures import ROOT, make_event, write_jsonl


def rows(lab, sql: str) -> list[tuple]:
    with connect(lab) as con:
        return con.execute(sql).fetchall()


def count(lab, sql: str = "SELECT count(*) FROM events") -> int:
    return rows(lab, sql)[0][0]


def spool_file(lab, name: str, events: list[dict | str]) -> Path:
    return write_jsonl(lab.spool_dir / name, events)


# --- entries that cannot be read -----------------------------------------------------------------


def test_folder_named_like_a_spool_file_is_recorded_and_the_files_after_it_are_ingested(lab):
    spool_file(lab, "a.jsonl", [make_event(), make_event()])
    (lab.spool_dir / "m.jsonl").mkdir()
    spool_file(lab, "z.jsonl", [make_event()])
    report = ingest(lab)
    assert report.inserted == 3
    [bad] = report.unreadable
    assert bad.source.endswith("m.jsonl") and bad.error == "is a folder, not a file"
    assert rows(lab, "SELECT path, reason FROM skipped_files") == [
        (str(lab.spool_dir / "m.jsonl"), "is a folder, not a file")
    ]
    # Every run says so again, but keeps one row per entry; --strict makes it exit 3.
    with pytest.raises(DataProblemError, match="1 file.*could not be read.*m.jsonl") as err:
        ingest(lab, strict=True)
    assert err.value.exit_code == 3
    assert count(lab, "SELECT count(*) FROM skipped_files") == 1
    # Once the folder is gone the entry is no longer listed as a problem.
    (lab.spool_dir / "m.jsonl").rmdir()
    spool_file(lab, "m.jsonl", [make_event()])
    assert ingest(lab).inserted == 1
    assert count(lab, "SELECT count(*) FROM skipped_files") == 0


def test_cli_names_the_unreadable_entry_and_exits_0_or_3_with_strict(lab):
    from cli import app

    (lab.spool_dir / "x.jsonl").mkdir()
    spool_file(lab, "y.jsonl", [make_event()])
    runner = CliRunner()
    result = runner.invoke(app, ["feedback", "ingest", "--lab", str(lab.root)])
    assert result.exit_code == 0, result.output
    assert "x.jsonl: not read: is a folder, not a file" in result.output
    assert "Traceback" not in result.output
    strict = runner.invoke(app, ["feedback", "ingest", "--strict", "--lab", str(lab.root)])
    assert strict.exit_code == 3
    assert "could not be read" in strict.output and "Traceback" not in strict.output


def deny_reading(locked: Path):
    """``os.open`` that refuses ``locked`` (the tests run as root, who may read anything)."""
    real_open = os.open

    def deny(path, *args, **kwargs):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    return deny


def test_entry_without_read_permission_is_recorded(lab, monkeypatch):
    spool_file(lab, "a.jsonl", [make_event()])
    locked = spool_file(lab, "b.jsonl", [make_event()])
    monkeypatch.setattr(feedback.ingest_files.os, "open", deny_reading(locked))
    report = ingest(lab)
    assert report.inserted == 1
    assert [f.error for f in report.unreadable] == ["cannot be read: permission denied"]


def test_line_of_17_mib_is_rejected_and_the_rest_of_the_spool_ingested(lab):
    huge = json.dumps(make_event(type="comment", text="x" * (17 * 1024 * 1024)))
    spool_file(lab, "a.jsonl", [make_event(), huge, make_event()])
    spool_file(lab, "b.jsonl", [make_event()])
    report = ingest(lab)
    assert (report.inserted, report.rejected) == (3, 1)
    [example] = report.files[0].examples
    assert example.startswith("line 2: line is 17,") and "longer than any event" in example
    assert rows(lab, "SELECT line, length(raw) FROM rejected_events") == [(2, 2000)]


def test_file_deleted_between_listing_and_reading_is_recorded_and_the_run_goes_on(lab):
    spool_file(lab, "a.jsonl", [make_event()])
    doomed = spool_file(lab, "b.jsonl", [make_event()])
    spool_file(lab, "c.jsonl", [make_event()])

    def delete_b(done: int, total: int, name: str) -> None:
        if name == "a.jsonl":  # listed already; deleted before ingest reaches it
            doomed.unlink()

    report = ingest(lab, progress=delete_b)
    assert report.inserted == 2
    assert [f.error for f in report.unreadable] == [
        "gone: it was deleted or renamed while ingest ran"
    ]


# --- writers and ingests racing ------------------------------------------------------------------


def test_part_file_renamed_by_its_writer_after_listing_is_read_under_its_new_name(lab):
    first = SpoolSink(lab.spool_dir)
    first.emit(make_event())
    second = SpoolSink(lab.spool_dir)
    for _ in range(3):
        second.emit(make_event())
    names = sorted(p.name for p in lab.spool_dir.iterdir())

    def rotate_second(done: int, total: int, name: str) -> None:
        if name == names[0]:  # the writer of the next file rotates in the meantime
            second.close()

    report = ingest(lab, progress=rotate_second)
    first.close()
    assert report.inserted == 4 and not report.unreadable
    assert ingest(lab).inserted == 0
    assert count(lab, "SELECT count(DISTINCT event_id) FROM events") == 4


WRITER = textwrap.dedent(
    """
    import sys, uuid
    sys.path.insert(0, {root!r})
    from feedback.sink import SpoolSink
    from tests.fixtures import make_event
    sink = SpoolSink({spool!r}, max_bytes=3000)   # rotates every few events
    for i in range({n}):
        sink.emit(make_event())
    sink.close()
    """
)


def test_writers_rotating_while_ingest_loops_crash_nothing_and_store_every_event_once(lab):
    n, writers = 400, 3
    script = WRITER.format(root=str(ROOT), spool=str(lab.spool_dir), n=n)
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(writers)]
    runs = 0
    while any(p.poll() is None for p in procs) or runs < 3:
        ingest(lab)  # raises on any crash
        runs += 1
    assert all(p.wait() == 0 for p in procs)
    ingest(lab)
    assert count(lab) == n * writers
    assert count(lab, "SELECT count(DISTINCT event_id) FROM events") == n * writers
    assert count(lab, "SELECT count(*) FROM rejected_events") == 0
    assert count(lab, "SELECT count(*) FROM skipped_files") == 0


HOLDER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from lab import Lab
    from feedback.ingest import ingest
    def hold(done, total, name):
        if done == 0:
            print("holding", flush=True)
            time.sleep(5)   # longer than the database's own lock retry (3 s)
    print(ingest(Lab(Path({lab!r})), progress=hold).inserted, flush=True)
    """
)


def test_two_ingests_at_once_take_turns_and_both_succeed(lab):
    spool_file(lab, "a.jsonl", [make_event() for _ in range(5)])
    ingest(lab)  # the database exists; the first ingest below then holds it for a while
    spool_file(lab, "b.jsonl", [make_event() for _ in range(7)])
    first = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(root=str(ROOT), lab=str(lab.root))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout.readline().strip() == "holding"
        second = subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), "feedback", "ingest", "--json"]
            + ["--lab", str(lab.root)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Traceback" not in second.stderr + err
    # Whoever came second found nothing new: every event is stored once.
    assert int(out.strip()) + json.loads(second.stdout)["inserted"] == 7
    assert count(lab) == 12


def test_two_dashboard_sessions_ingesting_at_once_in_one_process_both_succeed(lab):
    import threading

    ingest(lab)
    for i in range(10):
        spool_file(lab, f"f{i}.jsonl", [make_event() for _ in range(50)])
    reports, errors = [], []

    def press_the_button() -> None:
        try:
            reports.append(ingest(lab))
        except Exception as exc:  # noqa: BLE001 - any of them fails the test below
            errors.append(exc)

    threads = [threading.Thread(target=press_the_button) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(r.inserted for r in reports) == 500 == count(lab)


def test_second_ingest_gives_up_after_the_bounded_wait_with_a_clear_message(lab, monkeypatch):
    import fcntl

    from errors import DatabaseBusyError
    from feedback import writers

    monkeypatch.setattr(writers, "LOCK_WAIT_SECONDS", 0.3)
    lab.spool_dir.mkdir(exist_ok=True)
    with open(lab.spool_dir / writers.LOCK_FILE, "w") as held:
        held.write("process kiosk-42, since 2026-11-26 10:00:00 UTC\n")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(DatabaseBusyError, match="Another ingest is still running.*kiosk-42"):
            ingest(lab)


def test_spool_that_is_not_a_folder_is_one_clear_line(lab):
    lab.spool_dir.rmdir()
    lab.spool_dir.write_text("oops", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="needs a spool folder it can write in"):
        ingest(lab)


# --- .part files whose writer is gone ------------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def part_name(host: str, pid: int) -> str:
    return f"{host}-{pid}-20261102T101500000000000.jsonl.part"


def torn_part(lab, name: str, idle_minutes: float) -> Path:
    path = lab.spool_dir / name
    lines = [json.dumps(make_event()), json.dumps(make_event()), json.dumps(make_event())[:50]]
    path.write_text("\n".join(lines), encoding="utf-8")  # the last line has no newline
    then = time.time() - idle_minutes * 60
    os.utime(path, (then, then))
    return path


def test_stale_part_of_a_dead_writer_is_finished_and_its_torn_line_rejected(lab):
    part = torn_part(lab, part_name(this_host(), dead_pid()), idle_minutes=11)
    report = ingest(lab)
    assert (report.inserted, report.rejected) == (2, 1)
    assert report.files[0].examples == ["line 3: torn last line: the writer stopped mid-line"]
    done = part.with_name(part.name.removesuffix(".part"))
    assert not part.exists() and done.exists()
    assert rows(lab, "SELECT path, complete FROM ingested_files") == [(str(done), True)]
    again = ingest(lab)
    assert (again.inserted, again.rejected) == (0, 0)
    assert count(lab, "SELECT count(*) FROM rejected_events") == 1


def test_part_of_a_live_writer_another_host_or_a_recent_one_is_left_alone(lab, monkeypatch):
    live = torn_part(lab, part_name(this_host(), os.getpid()), idle_minutes=60)
    remote = torn_part(lab, part_name("another-host", dead_pid()), idle_minutes=60)
    recent = torn_part(lab, part_name(this_host(), dead_pid()), idle_minutes=5)
    report = ingest(lab)
    assert (report.inserted, report.rejected) == (6, 0)  # up to the last complete line
    assert live.exists() and remote.exists() and recent.exists()
    monkeypatch.setattr(feedback.ingest_files, "STALE_PART_MINUTES", 1)
    later = ingest(lab)
    assert (later.inserted, later.rejected) == (0, 1)  # now the recent one is stale
    assert not recent.exists() and live.exists() and remote.exists()


# --- retention -----------------------------------------------------------------------------------


def age(path: Path, days: float) -> Path:
    then = time.time() - days * 86_400
    os.utime(path, (then, then))
    return path


def test_ingested_spool_files_past_retention_are_removed_and_nothing_else(lab):
    assert lab.config.privacy.retention_days == 30
    old = age(spool_file(lab, "old.jsonl", [make_event()]), 31)
    recent = age(spool_file(lab, "recent.jsonl", [make_event()]), 29)
    sink = SpoolSink(lab.spool_dir)  # a live .part, old: never removed
    sink.emit(make_event())
    old_part = age(sink.path, 40)
    report = ingest(lab)
    assert report.removed == 1 and report.inserted == 3
    assert not old.exists() and recent.exists() and old_part.exists()
    # A finished file that grew after it was read (not fully ingested) stays until it is.
    grown = spool_file(lab, "grown.jsonl", [make_event()])
    ingest(lab)
    with open(grown, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(make_event()) + "\n")
    age(grown, 40)
    # The run reads the new line first, so the file is then complete and may go.
    assert ingest(lab).removed == 1 and not grown.exists()
    assert count(lab) == 5
    sink.close()


def test_retention_keeps_an_old_file_that_could_not_be_read(lab, monkeypatch):
    path = age(spool_file(lab, "a.jsonl", [make_event()]), 60)
    monkeypatch.setattr(feedback.ingest_files.os, "open", deny_reading(path))
    report = ingest(lab)
    assert report.unreadable and report.removed == 0 and path.exists()


# --- CSV without rows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty: there is nothing to import"),
        ("\n\n", "is empty: there is nothing to import"),
        ("event_id,ts,session_id\n", "has a header but no rows: there is nothing to import"),
    ],
)
def test_empty_csv_says_so(lab, tmp_path, text, message):
    f = tmp_path / "events.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message) as err:
        ingest(lab, [f])
    assert "column0" not in str(err.value)
    kpis = tmp_path / "kpis.csv"
    kpis.write_text(text.replace("event_id,ts,session_id", "store_id,date,metric,value"))
    with pytest.raises(InvalidInputError, match=message):
        import_kpis(lab, kpis)


# --- lines that were stored although they break the contract -------------------------------------


def test_bad_values_are_rejected_with_their_reason_and_nothing_of_them_stored(lab, tmp_path):
    good = make_event()
    raw = {
        "nul": b"\0\0" + json.dumps(make_event()).encode(),
        "nan": json.dumps(make_event(value="NaN")).encode(),
        "inf_token": json.dumps(make_event(value=float("inf"))).encode(),
        "overflow": json.dumps(make_event(value=1.5)).replace("1.5", "1e999").encode(),
        "offset": json.dumps(make_event(ts="2026-11-02T10:15:00+99:00")).encode(),
        "store_number": json.dumps(make_event(store_id=5)).encode(),
        "object": json.dumps(make_event(screen={"id": "home"})).encode(),
        "number_as_text": json.dumps(make_event(x="0.5")).encode(),
    }
    f = tmp_path / "bad.jsonl"
    f.write_bytes(b"\n".join([json.dumps(good).encode(), *raw.values()]) + b"\n")
    report = ingest(lab, [f])
    assert (report.inserted, report.rejected) == (1, len(raw))
    assert [r for (r,) in rows(lab, "SELECT reason FROM rejected_events ORDER BY line")] == [
        "line contains NUL bytes (a damaged file?)",
        'value must be a number (no quotes): "NaN"',
        "value must be a finite number: Infinity",
        "value must be a finite number: 1e999",
        "ts is not ISO-8601 with a UTC offset (Z or ±hh:mm, hh up to 14): "
        "2026-11-02T10:15:00+99:00",
        "store_id must be text (a JSON string), not a number: 5",
        'screen must be text (a JSON string), not an object: {"id":"home"}',
        'x must be a number (no quotes): "0.5"',
    ]
    assert rows(lab, "SELECT event_id::VARCHAR FROM events") == [(good["event_id"],)]
