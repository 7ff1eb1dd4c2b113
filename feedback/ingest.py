"""Ingest, the one path that writes events: spool or external files into the DuckDB store.

It takes the lab's writer lock (one ingest at a time; the next one waits), opens the database
read-write, validates every line in SQL (``feedback.ingest_sql``; no Python loop per event),
keeps valid events, puts invalid lines into ``rejected_events`` with the reason and line number,
records how far it read each file, commits, and closes. Running it again, or after a killed
run, stores nothing twice. An entry it cannot read is recorded in ``skipped_files`` with the
reason, and the run goes on with the next one (``feedback.ingest_files``).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from errors import DataProblemError
from feedback import privacy
from feedback.events import FIELDS
from feedback.ingest_files import (
    BadLine,
    Opened,
    Source,
    UnreadableEntry,
    Vanished,
    clean_copy,
    copy_slice,
    external_source,
    has_nul,
    last_newline,
    lines_table,
    open_source,
    spool_key,
    spools_sources,
)
from feedback.ingest_sql import BLANK, lines_csv, staging_sql
from feedback.lake.catalog import write_transaction
from feedback.sink import DONE_SUFFIX, finish
from feedback.store import connect, sql_literal
from feedback.writers import writer_lock

if TYPE_CHECKING:
    import duckdb

    from lab import Lab

EXAMPLES_PER_FILE = 5
# Lines that count as rejected: an empty line (BLANK) is neither kept nor rejected.
_REAL_REJECT = f"reason IS NOT NULL AND reason <> '{BLANK}'"
# A file another worker moved on while this one staged it is staged again, at most this often.
RESTAGE_ATTEMPTS = 20

Progress = Callable[[int, int, str], None]
RAW_CHARS = 2000  # of a rejected line, kept in rejected_events.raw
REDACTION_OFF = (
    "Personal data was NOT masked: [privacy] redact_text = false in storelab.toml "
    "(e-mail addresses, phone numbers and IBANs are stored as typed)."
)

# --- reports ---------------------------------------------------------------------------------


@dataclass
class FileReport:
    """What ingest did with one file."""

    source: str
    lines: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: bool = False
    note: str = ""
    examples: list[str] = field(default_factory=list)  # "line 7: unknown type 'tapp'"
    error: str = ""  # why the file could not be read at all (then skipped is true)


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    files: list[FileReport] = field(default_factory=list)
    redacted: bool = True  # personal data masked; False only with [privacy] redact_text = false

    @property
    def warning(self) -> str:
        """One line to show when redaction is off (empty otherwise)."""
        return "" if self.redacted else REDACTION_OFF

    removed: int = 0  # ingested spool files past the lab's retention, deleted

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def unreadable(self) -> list[FileReport]:
        """The files that could not be read, each with its ``error``."""
        return [f for f in self.files if f.error]

    def raise_if_problems(self) -> None:
        """``--strict``: a rejected line or an unreadable file is a data problem (exit 3).

        Valid events were stored all the same.
        """
        problems = []
        if self.unreadable:
            first = self.unreadable[0]
            problems.append(
                f"{len(self.unreadable)} file(s) could not be read (first: {first.source}: "
                f"{first.error}; all of them are in the table skipped_files)"
            )
        if self.rejected:
            worst = next(f for f in self.files if f.rejected)
            problems.append(
                f"{self.rejected} invalid line(s) rejected (first: {worst.source}: "
                f"{worst.examples[0]}; all of them are in the table rejected_events)"
            )
        if problems:
            raise DataProblemError(
                "; ".join(problems) + f". Valid events were stored: {self.inserted} new."
            )

    def to_dict(self) -> dict:
        return {
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "redacted": self.redacted,
            **({"warning": self.warning} if self.warning else {}),
            "unreadable": len(self.unreadable),
            "removed": self.removed,
            "files": [asdict(f) for f in self.files],
        }


# --- one run, file by file -------------------------------------------------------------------


def ingest(
    lab: Lab,
    files: list[Path] | None = None,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    worker: str | None = None,
    spools: list[Path] | None = None,
) -> IngestReport:
    """Move new events from the spool (default) or from ``files`` into the database.

    In a lake (``[storage] kind = "ducklake"``) many workers run this at once, each with its
    own ``worker`` name (its lock) and spool folders (``spools``; default the lab's): each file
    and each event id is stored once, whichever worker gets there first.

    Idempotent: event ids are unique and each file's progress is recorded in the same
    transaction as its events. Invalid lines go to ``rejected_events`` with their reason; a file
    that cannot be read goes to ``skipped_files`` with its reason, and the run goes on. After a
    spool run, spool files fully ingested and older than the lab's retention are deleted. With
    ``strict``, any rejected line or unreadable file raises ``DataProblemError`` after the valid
    events were stored.
    """
    external = [external_source(Path(f)) for f in files] if files else None
    redact = lab.config.privacy.redact_text
    report = IngestReport(redacted=redact)
    lake = lab.config.storage.kind == "ducklake"
    with (
        writer_lock(lab, worker),
        connect(lab, read_only=False) as con,
        tempfile.TemporaryDirectory() as tmp,
    ):
        skipped = frozenset(
            k for (k,) in con.execute("SELECT file_key FROM skipped_files").fetchall()
        )
        run = _Run(con, Path(tmp), redact, skipped, lake)
        folders = spools or [lab.spool_dir]
        sources = external if external is not None else spools_sources(folders, worker)
        for i, source in enumerate(sources):
            if progress:
                progress(i, len(sources), source.path.name)
            report.files.append(_ingest_one(run, source))
        if progress:
            progress(len(sources), len(sources), "")
        if external is None:
            report.removed = sum(_remove_expired(con, lab, d) for d in folders)
    if strict:
        report.raise_if_problems()
    return report


class _Moved(Exception):
    """Another worker stored more of this file since it was staged: stage it again."""


@dataclass(frozen=True)
class _Run:
    """What every file of one run shares."""

    con: duckdb.DuckDBPyConnection
    tmp: Path  # scratch folder for copies of slices
    redact: bool
    skipped: frozenset[str]  # keys in skipped_files when the run began
    lake: bool = False  # a DuckLake: commits may conflict with other workers' and are retried

    def write(self, work: Callable[[], object]) -> object:
        """Run ``work`` as one write transaction (retried on a lake's commit conflict)."""
        return write_transaction(self.con, work, lake=self.lake)


@dataclass(frozen=True)
class _FileJob:
    """One file's ingest: the connection it writes through, what it reads, and its report."""

    run: _Run
    opened: Opened
    report: FileReport  # filled in by the steps below

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.run.con

    @property
    def tmp(self) -> Path:  # scratch folder for copies of slices
        return self.run.tmp

    @property
    def redact(self) -> bool:
        return self.run.redact

    @property
    def source(self) -> Source:
        return self.opened.source


@dataclass(frozen=True)
class _Slice:
    """The new part of a file: from line ``lines_done`` / byte ``bytes_done`` to byte ``end``."""

    lines_done: int
    bytes_done: int
    end: int  # just past the last complete line this run reads; recorded as bytes_done
    complete: bool  # the file is finished: read to its end (False: a .part still written)
    torn: bool = False  # the last line has no newline and never will (its writer is gone)
    seen: int | None = None  # bytes_done recorded when the slice was taken (None: no record)


@dataclass(frozen=True)
class _Staged:
    """A slice in the temp table ``staged``; ``staged.rowid`` 0 is file line ``first``."""

    lines_sql: str  # reads the slice's lines again (raw text of rejected lines)
    bad: list[BadLine]  # lines DuckDB could not read, blanked, with their reason
    first: int


def _ingest_one(run: _Run, source: Source) -> FileReport:
    """Ingest one entry; whatever keeps it from being read is recorded, never raised."""
    import duckdb

    report = FileReport(source=str(source.path))
    try:
        for attempt in range(RESTAGE_ATTEMPTS):
            report = FileReport(source=str(source.path))
            try:
                _ingest_opened(run, source, report)
                break
            except _Moved:
                if attempt == RESTAGE_ATTEMPTS - 1:
                    raise UnreadableEntry("kept changing under other workers; try again") from None
        if source.key in run.skipped:  # readable again
            key = sql_literal(source.key)
            run.write(lambda: run.con.execute(f"DELETE FROM skipped_files WHERE file_key = {key}"))
    except UnreadableEntry as exc:
        _record_unreadable(run, source, report, exc)
    except (OSError, duckdb.Error) as exc:  # e.g. an I/O error in the middle of the file
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        _record_unreadable(run, source, report, UnreadableEntry(f"cannot be read: {reason}"))
    return report


def _ingest_opened(run: _Run, source: Source, report: FileReport) -> None:
    with open_source(source) as opened:
        report.source = str(opened.source.path)
        job = _FileJob(run, opened, report)
        new = _new_slice(job)
        if new is not None:
            staged = _stage_slice(job, new)
            try:
                run.write(lambda: _write(job, new, staged))
            finally:
                job.con.execute("DROP TABLE IF EXISTS staged")
        if opened.stale:
            _finish_stale(job)


def _record_unreadable(run: _Run, source: Source, report: FileReport, exc: UnreadableEntry) -> None:
    report.skipped = True
    con, key = run.con, sql_literal(source.key)
    if isinstance(exc, Vanished):
        done = con.execute(f"SELECT complete FROM ingested_files WHERE file_key = {key}").fetchone()
        if done and done[0]:  # removed after it was read to the end: nothing was lost
            report.note = "gone (it had been ingested)"
            return
    report.error = str(exc)
    path, reason = sql_literal(str(source.path)), sql_literal(report.error)
    run.write(
        lambda: _upsert(
            con,
            "skipped_files",
            key,
            f"path = {path}, reason = {reason}, last_skipped_at = now()",
            f"{key}, {path}, {reason}, now(), now()",
        )
    )


def _upsert(con: duckdb.DuckDBPyConnection, table: str, key: str, update: str, row: str) -> None:
    """Update the row of ``file_key`` ``key``, or insert ``row`` when there is none.

    Not ``ON CONFLICT``: a DuckLake has no keys to conflict on. Inside a write transaction,
    which no other writer interleaves with (feedback.lake.catalog.write_transaction).
    """
    con.execute(f"UPDATE {table} SET {update} WHERE file_key = {key}")
    con.execute(
        f"INSERT INTO {table} SELECT {row} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE file_key = {key})"
    )


def _skip(job: _FileJob, note: str) -> None:
    job.report.skipped, job.report.note = True, note


def _new_slice(job: _FileJob) -> _Slice | None:
    """What this run reads of the file, or ``None`` (and a note why) when there is nothing."""
    con, opened = job.con, job.opened
    row = con.execute(
        "SELECT lines_done, bytes_done, complete, path FROM ingested_files "
        f"WHERE file_key = {sql_literal(job.source.key)}"
    ).fetchone()
    lines_done, bytes_done, complete, path = row or (0, 0, False, "")
    size = opened.size
    seen = bytes_done if row else None
    if not job.source.spool:  # external files are taken whole; same size again = same file
        if row and bytes_done == size:
            _skip(job, "already ingested")
            return None
        return _Slice(0, 0, size, complete=True, seen=seen)
    if bytes_done >= size:
        _skip(job, "nothing new")
        if not opened.is_part and not (complete and path == str(job.source.path)):
            _mark_complete(job, job.source.path)
        return None
    if not opened.is_part:
        return _Slice(lines_done, bytes_done, size, complete=True, seen=seen)
    end = last_newline(opened, bytes_done, size)
    if opened.stale:  # its writer is gone: the rest of the file is all there will ever be
        return _Slice(lines_done, bytes_done, size, complete=True, torn=end < size, seen=seen)
    if end <= bytes_done:  # a writer may be mid-line: up to the last newline
        _skip(job, "no complete new line yet")
        return None
    return _Slice(lines_done, bytes_done, end, complete=False, seen=seen)


def _finish_stale(job: _FileJob) -> None:
    """Rename a stale ``.part`` (read to its end) to ``.jsonl``, as its writer would have."""
    try:
        done = finish(job.source.path)
    except FileNotFoundError:
        return  # renamed or removed by someone else meanwhile
    _mark_complete(job, done)
    job.report.note = "writer gone: finished the .part file"


def _mark_complete(job: _FileJob, path: Path) -> None:
    key, done = sql_literal(job.source.key), sql_literal(str(path))
    job.run.write(
        lambda: _upsert(
            job.con,
            "ingested_files",
            key,
            f"path = {done}, complete = true",
            f"{key}, {done}, 0, 0, true, 0, 0, 0, now()",
        )
    )


def _stage_slice(job: _FileJob, new: _Slice) -> _Staged:
    """Validate the slice's lines into the temp table ``staged``."""
    bad: list[BadLine] = []
    if job.source.kind == "jsonl":
        lines_sql, bad = _stage_jsonl(job, new)
    else:
        lines_sql, job.report.note = lines_table(job.source.path, job.source.kind, job.con)
        _stage(job, lines_sql)
    # staged.rowid counts this slice's lines from 0; CSV data starts on line 2.
    first = new.lines_done + (2 if job.source.kind == "csv" else 1)
    return _Staged(lines_sql, bad, first)


def _write(job: _FileJob, new: _Slice, staged: _Staged) -> None:
    """Store the staged slice (inside a write transaction): rejects, new events, progress.

    Raises ``_Moved`` when another worker recorded progress on the file since the slice was
    taken (its rows would be stored twice).
    """
    con, rep = job.con, job.report
    now = con.execute(
        f"SELECT bytes_done FROM ingested_files WHERE file_key = {sql_literal(job.source.key)}"
    ).fetchone()
    if (now[0] if now else None) != new.seen:
        raise _Moved()
    _reject_unreadable_lines(job, staged)
    n_lines, valid, distinct, rejected = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE reason IS NULL),
               count(DISTINCT event_id) FILTER (WHERE reason IS NULL),
               count(*) FILTER (WHERE {_REAL_REJECT}) FROM staged"""
    ).fetchone()
    if rejected:  # the raw text of rejected lines is read again only when there are any
        _reject_invalid(job, staged)
    rep.inserted = _insert_events(job, valid, distinct)
    rep.lines = new.lines_done + n_lines
    rep.duplicates = valid - rep.inserted
    rep.rejected = rejected + len(staged.bad)
    rep.examples = _examples(job, staged, rejected)
    _record_progress(job, new)


def _reject_unreadable_lines(job: _FileJob, staged: _Staged) -> None:
    for bad in staged.bad:  # rare; arbitrary text, so a parameter (see sql_literal)
        job.con.execute(
            "INSERT INTO rejected_events VALUES (?, ?, ?, ?, now())",
            [str(job.source.path), staged.first + bad.index - 1, _raw(job, bad.raw), bad.reason],
        )


def _raw(job: _FileJob, raw: str) -> str:
    """What is kept of a rejected line: its start, masked (a bit more is masked, then cut,
    so that an address across the cut is not half kept)."""
    return (privacy.redact(raw[: RAW_CHARS + 100]) if job.redact else raw)[:RAW_CHARS]


def _reject_invalid(job: _FileJob, staged: _Staged) -> None:
    raw = f"left(r.line, {RAW_CHARS + 100})"
    raw = f"left({privacy.redact_sql(raw) if job.redact else raw}, {RAW_CHARS})"
    job.con.execute(
        f"""INSERT INTO rejected_events
           SELECT {sql_literal(str(job.source.path))}, s.rowid + {sql_literal(staged.first)},
               {raw}, s.reason, now()
           FROM staged s LEFT JOIN (
               SELECT row_number() OVER () - 1 AS pos, line FROM ({staged.lines_sql})
           ) r ON r.pos = s.rowid
           WHERE {_REAL_REJECT.replace("reason", "s.reason")}"""
    )


def _insert_events(job: _FileJob, valid: int, distinct: int) -> int:
    """Insert the new valid events; returns how many.

    First occurrence of an id wins; later ones, and ids already stored, are duplicates.
    Each check runs only when it can find something: the window (which sorts every valid
    row) when the file repeats an id, the anti-join when events has rows. The anti-join reads
    only stored ids between the staged ids' least and greatest: exact (a duplicate has the
    same id, so it lies in that range), and cheap with the runtime's time-ordered UUIDv7 ids,
    whose range for one file is narrow, so DuckDB's row-group and DuckLake's file statistics
    skip the rest (20M stored ids, 100k new: 0.76 s → 0.002 s in memory).
    """
    keep = "reason IS NULL"
    if job.con.execute("SELECT EXISTS (SELECT 1 FROM events)").fetchone()[0]:
        lo, hi = job.con.execute(
            "SELECT min(event_id)::VARCHAR, max(event_id)::VARCHAR FROM staged WHERE reason IS NULL"
        ).fetchone()
        if lo is not None:
            keep += f""" AND event_id NOT IN (SELECT event_id FROM events
                WHERE event_id BETWEEN {sql_literal(lo)}::UUID AND {sql_literal(hi)}::UUID)"""
    first_seen = ""
    if distinct < valid:
        first_seen = "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY rowid) = 1"
    cols = ", ".join(f'"{f}"' for f in FIELDS)
    return job.con.execute(
        f"""INSERT INTO events SELECT {cols}, {sql_literal(str(job.source.path))}, now()
            FROM staged WHERE {keep} {first_seen}"""
    ).fetchone()[0]


def _examples(job: _FileJob, staged: _Staged, rejected: int) -> list[str]:
    """The first rejected lines of the file, as ``line N: reason``."""
    examples = []
    if rejected:
        examples = job.con.execute(
            f"""SELECT rowid + {sql_literal(staged.first)}, reason FROM staged
                WHERE {_REAL_REJECT} ORDER BY rowid LIMIT {EXAMPLES_PER_FILE}"""
        ).fetchall()
    examples += [(staged.first + b.index - 1, b.reason) for b in staged.bad]
    return [f"line {n}: {r}" for n, r in sorted(examples)[:EXAMPLES_PER_FILE]]


def _record_progress(job: _FileJob, new: _Slice) -> None:
    """How far the file was read, and its running totals, in the same transaction."""
    rep, key = job.report, sql_literal(job.source.key)
    path, lines, end = sql_literal(str(job.source.path)), sql_literal(rep.lines), new.end
    done, ins, dup, rej = (
        sql_literal(new.complete),
        sql_literal(rep.inserted),
        sql_literal(rep.duplicates),
        sql_literal(rep.rejected),
    )
    _upsert(
        job.con,
        "ingested_files",
        key,
        f"""path = {path}, lines_done = {lines}, bytes_done = {end}, complete = {done},
            inserted = inserted + {ins}, duplicates = duplicates + {dup},
            rejected = rejected + {rej}, ingested_at = now()""",
        f"{key}, {path}, {lines}, {end}, {done}, {ins}, {dup}, {rej}, now()",
    )


# --- lines to staged rows --------------------------------------------------------------------


def _stage(job: _FileJob, lines_sql: str) -> None:
    job.con.execute("CREATE OR REPLACE TEMP TABLE staged AS " + staging_sql(lines_sql, job.redact))


def _stage_jsonl(job: _FileJob, new: _Slice) -> tuple[str, list[BadLine]]:
    """Stage the slice of a JSONL file.

    Returns the SQL that reads the staged lines and the lines blanked because DuckDB cannot
    read them. A finished file is read by DuckDB directly; a slice of a ``.part`` file from a
    copy (the writer may append while DuckDB reads). Where DuckDB cannot read every line (a NUL
    byte, bytes that are not UTF-8, a line over ``LINE_BYTES``), it reads a cleaned copy.
    """
    import duckdb

    opened = job.opened
    if not new.torn and not has_nul(opened, new.bytes_done, new.end):
        path = opened.read_path
        if new.bytes_done or new.end != opened.size or opened.is_part:
            path = str(copy_slice(opened, new.bytes_done, new.end, job.tmp / "slice.jsonl"))
        try:
            _stage(job, lines_csv(path))
            return lines_csv(path), []
        except duckdb.Error:
            pass  # not UTF-8, or a line too long: the cleaned copy below names each such line
    copy = job.tmp / "clean.jsonl"
    bad = clean_copy(opened, new.bytes_done, new.end, copy, torn=new.torn)
    _stage(job, lines_csv(copy))
    return lines_csv(copy), bad


# --- retention -----------------------------------------------------------------------------------


def _remove_expired(con: duckdb.DuckDBPyConnection, lab: Lab, spool_dir: Path) -> int:
    """Delete finished spool files that were read to their end and are past retention.

    A file counts as read to its end when ``ingested_files`` has it complete with as many bytes
    as it has now; anything else stays. Returns how many files were deleted.
    """
    cutoff = time.time() - lab.config.privacy.retention_days * 86_400
    done = dict(
        con.execute(
            "SELECT file_key, bytes_done FROM ingested_files "
            "WHERE complete AND starts_with(file_key, 'spool:')"
        ).fetchall()
    )
    removed = 0
    for path in spool_dir.glob("*" + DONE_SUFFIX):
        try:
            info = path.stat()
        except OSError:
            continue
        if done.get(spool_key(path.name)) != info.st_size or info.st_mtime >= cutoff:
            continue
        if not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed
