"""Ingest, the one path that writes events: spool or external files into the DuckDB store.

It opens the database read-write, validates every line in SQL (``feedback.ingest_sql``; no
Python loop per event), keeps valid events, puts invalid lines into ``rejected_events`` with the
reason and line number, records how far it read each file, commits, and closes. Running it
again, or after a killed run, stores nothing twice.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from errors import DataProblemError, InvalidInputError
from feedback import privacy
from feedback.events import FIELDS, REQUIRED
from feedback.ingest_sql import BLANK, lines_csv, staging_sql
from feedback.sink import DONE_SUFFIX, PART_SUFFIX
from feedback.store import connect, sql_literal

if TYPE_CHECKING:
    import duckdb

    from lab import Lab

EXAMPLES_PER_FILE = 5
# Lines that count as rejected: an empty line (BLANK) is neither kept nor rejected.
_REAL_REJECT = f"reason IS NOT NULL AND reason <> '{BLANK}'"

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


@dataclass
class IngestReport:
    """What one ingest run did, file by file."""

    files: list[FileReport] = field(default_factory=list)
    redacted: bool = True  # personal data masked; False only with [privacy] redact_text = false

    @property
    def warning(self) -> str:
        """One line to show when redaction is off (empty otherwise)."""
        return "" if self.redacted else REDACTION_OFF

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def raise_if_rejected(self) -> None:
        """``--strict``: any rejected line is a data problem (exit 3); valid events stay stored."""
        if not self.rejected:
            return

        worst = next(f for f in self.files if f.rejected)
        raise DataProblemError(
            f"{self.rejected} invalid line(s) rejected (valid events were stored: "
            f"{self.inserted} new). First: {worst.source}: {worst.examples[0]}. "
            "All of them are in the table rejected_events."
        )

    def to_dict(self) -> dict:
        return {
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "redacted": self.redacted,
            **({"warning": self.warning} if self.warning else {}),
            "files": [asdict(f) for f in self.files],
        }


# --- sources ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    path: Path
    key: str  # identity across the .part → .jsonl rename
    kind: str  # jsonl | csv | parquet
    spool: bool


def _spool_sources(spool_dir: Path) -> list[_Source]:
    found = []
    for path in sorted(spool_dir.glob("*")):
        if path.name.endswith(PART_SUFFIX):
            found.append(_Source(path, "spool:" + path.name[: -len(PART_SUFFIX)], "jsonl", True))
        elif path.name.endswith(DONE_SUFFIX):
            found.append(_Source(path, "spool:" + path.name[: -len(DONE_SUFFIX)], "jsonl", True))
    return found


def _external_source(path: Path) -> _Source:

    if not path.exists():
        raise InvalidInputError(f"{path} does not exist.")
    if not path.is_file():
        raise InvalidInputError(f"{path} is not a file.")
    if not os.access(path, os.R_OK):
        raise InvalidInputError(f"{path} cannot be read (permission denied).")
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson", ".json", ".jsonl.part")):
        kind = "jsonl"
    elif name.endswith((".csv", ".tsv")):
        kind = "csv"
    elif name.endswith(".parquet"):
        kind = "parquet"
    else:
        raise InvalidInputError(
            f"{path}: unknown file type. Ingest reads .jsonl (one event per line), .csv or "
            ".parquet with the event columns."
        )
    return _Source(path.resolve(), "file:" + str(path.resolve()), kind, False)


# --- one run, file by file -------------------------------------------------------------------


def ingest(
    lab: Lab,
    files: list[Path] | None = None,
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Move new events from the spool (default) or from ``files`` into the database.

    Idempotent: event ids are unique and each file's progress is recorded in the same
    transaction as its events. Invalid lines go to ``rejected_events`` with their reason.
    With ``strict``, any rejected line raises ``DataProblemError`` after the valid events were
    stored.
    """
    sources = [_external_source(Path(f)) for f in files] if files else _spool_sources(lab.spool_dir)
    redact = lab.config.privacy.redact_text
    report = IngestReport(redacted=redact)
    with connect(lab, read_only=False) as con, tempfile.TemporaryDirectory() as tmp:
        for i, source in enumerate(sources):
            if progress:
                progress(i, len(sources), source.path.name)
            report.files.append(_ingest_one(con, source, Path(tmp), redact))
        if progress:
            progress(len(sources), len(sources), "")
    if strict:
        report.raise_if_rejected()
    return report


@dataclass(frozen=True)
class _FileJob:
    """One file's ingest: the connection it writes through, what it reads, and its report."""

    con: duckdb.DuckDBPyConnection
    source: _Source
    tmp: Path  # scratch folder for cleaned copies of slices
    redact: bool
    report: FileReport  # filled in by the steps below


@dataclass(frozen=True)
class _Slice:
    """The new part of a file: from line ``lines_done`` / byte ``bytes_done`` to byte ``end``."""

    lines_done: int
    bytes_done: int
    end: int  # just past the last complete line this run reads; recorded as bytes_done
    size: int
    is_part: bool  # a spool file still being written


@dataclass(frozen=True)
class _Staged:
    """A slice in the temp table ``staged``; ``staged.rowid`` 0 is file line ``first``."""

    lines_sql: str  # reads the slice's lines again (raw text of rejected lines)
    bad_utf8: list[tuple[int, str]]  # (line within the slice, 1-based; raw text), blanked
    first: int


def _ingest_one(
    con: duckdb.DuckDBPyConnection, source: _Source, tmp: Path, redact: bool
) -> FileReport:
    job = _FileJob(con, source, tmp, redact, FileReport(source=str(source.path)))
    new = _new_slice(job)
    if new is not None:
        _write(job, new, _stage_slice(job, new))
    return job.report


def _skip(job: _FileJob, note: str) -> None:
    job.report.skipped, job.report.note = True, note


def _new_slice(job: _FileJob) -> _Slice | None:
    """What this run reads of the file, or ``None`` (and a note why) when there is nothing."""
    con, source = job.con, job.source
    row = con.execute(
        "SELECT lines_done, bytes_done FROM ingested_files "
        f"WHERE file_key = {sql_literal(source.key)}"
    ).fetchone()
    lines_done, bytes_done = row or (0, 0)
    is_part = source.path.name.endswith(PART_SUFFIX)
    size = source.path.stat().st_size
    if not source.spool:  # external files are taken whole; same size again = same file
        if row and bytes_done == size:
            _skip(job, "already ingested")
            return None
        lines_done, bytes_done = 0, 0
    elif bytes_done >= size:
        _skip(job, "nothing new")
        if not is_part:
            con.execute(
                f"UPDATE ingested_files SET path = {sql_literal(str(source.path))}, "
                f"complete = true WHERE file_key = {sql_literal(source.key)}"
            )
        return None
    end = size
    if source.kind == "jsonl" and is_part:  # a writer may be mid-line: up to the last newline
        end = _last_newline(source.path, bytes_done, size)
        if end <= bytes_done:
            _skip(job, "no complete new line yet")
            return None
    return _Slice(lines_done, bytes_done, end, size, is_part)


def _stage_slice(job: _FileJob, new: _Slice) -> _Staged:
    """Validate the slice's lines into the temp table ``staged``."""
    bad_utf8: list[tuple[int, str]] = []
    if job.source.kind == "jsonl":
        lines_sql, bad_utf8 = _stage_jsonl(job, new)
    else:
        lines_sql, job.report.note = _lines_table(job.source.path, job.source.kind, job.con)
        _stage(job, lines_sql)
    # staged.rowid counts this slice's lines from 0; CSV data starts on line 2.
    first = new.lines_done + (2 if job.source.kind == "csv" else 1)
    return _Staged(lines_sql, bad_utf8, first)


def _write(job: _FileJob, new: _Slice, staged: _Staged) -> None:
    """Store the staged slice in one transaction: rejects, new events, the file's progress."""
    con, rep = job.con, job.report
    con.execute("BEGIN")
    try:
        _reject_undecodable(job, staged)
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
        rep.rejected = rejected + len(staged.bad_utf8)
        rep.examples = _examples(job, staged, rejected)
        _record_progress(job, new)
        con.execute("DROP TABLE staged")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _reject_undecodable(job: _FileJob, staged: _Staged) -> None:
    for index, raw in staged.bad_utf8:  # rare; arbitrary text, so a parameter (see sql_literal)
        job.con.execute(
            "INSERT INTO rejected_events VALUES (?, ?, ?, 'line is not valid UTF-8', now())",
            [str(job.source.path), staged.first + index - 1, _raw(job, raw)],
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
    row) when the file repeats an id, the anti-join when events has rows.
    """
    keep = "reason IS NULL"
    if job.con.execute("SELECT EXISTS (SELECT 1 FROM events)").fetchone()[0]:
        keep += " AND event_id NOT IN (SELECT event_id FROM events)"
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
    examples += [(staged.first + i - 1, "line is not valid UTF-8") for i, _ in staged.bad_utf8]
    return [f"line {n}: {r}" for n, r in sorted(examples)[:EXAMPLES_PER_FILE]]


def _record_progress(job: _FileJob, new: _Slice) -> None:
    """How far the file was read, and its running totals, in the same transaction."""
    rep, key = job.report, sql_literal(job.source.key)
    job.con.execute(
        f"""INSERT OR REPLACE INTO ingested_files
           SELECT {key}, {sql_literal(str(job.source.path))}, {sql_literal(rep.lines)},
             {sql_literal(new.end)}, {sql_literal(not new.is_part)},
             coalesce((SELECT inserted FROM ingested_files WHERE file_key = {key}), 0)
               + {sql_literal(rep.inserted)},
             coalesce((SELECT duplicates FROM ingested_files WHERE file_key = {key}), 0)
               + {sql_literal(rep.duplicates)},
             coalesce((SELECT rejected FROM ingested_files WHERE file_key = {key}), 0)
               + {sql_literal(rep.rejected)},
             now()"""
    )


# --- lines to staged rows --------------------------------------------------------------------


def _stage(job: _FileJob, lines_sql: str) -> None:
    job.con.execute("CREATE OR REPLACE TEMP TABLE staged AS " + staging_sql(lines_sql, job.redact))


def _stage_jsonl(job: _FileJob, new: _Slice) -> tuple[str, list[tuple[int, str]]]:
    """Stage the slice of a JSONL file.

    Returns the SQL that reads the staged lines and the lines blanked for not being UTF-8.

    Whole files are read by DuckDB directly; a slice (a growing ``.part`` file), or a file with
    bytes that are not UTF-8, is first copied with the bad lines blanked, so nothing else is lost.
    """
    path = job.source.path
    if new.bytes_done == 0 and new.end == new.size:
        try:
            return _stage_lines(job, path), []
        except Exception as exc:  # noqa: BLE001 - DuckDB's error type varies by reader
            if not _is_encoding_error(exc):
                raise
    copy, bad = _utf8_clean_copy(path, job.tmp, new.bytes_done, new.end)
    return _stage_lines(job, copy), bad


def _stage_lines(job: _FileJob, path: Path) -> str:
    """Stage every line of a UTF-8 text file; returns the SQL that reads its lines."""
    try:
        _stage(job, lines_csv(path))
        return lines_csv(path)
    except Exception as exc:  # noqa: BLE001 - DuckDB's error type varies by reader
        if "maximum line size" not in str(exc).lower():
            raise
    _stage(job, lines_csv(path, long_lines=True))
    return lines_csv(path, long_lines=True)


def _last_newline(path: Path, start: int, size: int) -> int:
    """Byte offset just past the last newline in [start, size), or ``start`` if none."""
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(size - start)
    cut = data.rfind(b"\n")
    return start + cut + 1 if cut >= 0 else start


def _lines_table(path: Path, kind: str, con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """Rows of a CSV/Parquet import as JSON lines, so they pass the same validation.

    Returns the SQL and a note (e.g. when a CSV had to be read as Latin-1).
    """

    p = sql_literal(str(path))
    note = ""
    if kind == "parquet":
        reader = f"read_parquet({p})"
    else:
        reader = f"read_csv({p}, all_varchar=true, header=true)"
        try:
            con.execute(f"SELECT count(*) FROM {reader}")
        except Exception as exc:  # noqa: BLE001 - DuckDB raises several types for this
            if not _is_encoding_error(exc):
                raise InvalidInputError(f"{path}: cannot read as CSV: {exc}") from exc
            reader = f"read_csv({p}, all_varchar=true, header=true, encoding='latin-1')"
            note = "not UTF-8; read as Latin-1 (Windows/Excel export?)"
    try:
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except Exception as exc:  # noqa: BLE001
        raise InvalidInputError(f"{path}: cannot read as {kind.upper()}: {exc}") from exc
    unknown = [c for c in columns if c not in FIELDS]
    missing = [c for c in REQUIRED if c not in columns]
    if unknown or missing:
        parts = []
        if missing:
            parts.append("missing column(s): " + ", ".join(missing))
        if unknown:
            parts.append("unknown column(s): " + ", ".join(unknown))
        raise InvalidInputError(
            f"{path}: {'; '.join(parts)}. Expected the event columns: {', '.join(FIELDS)}. "
            "Nothing from this file was imported."
        )
    select = "*"
    if "props" in columns:
        select = "* REPLACE (TRY_CAST(props AS JSON) AS props)"
    return f"SELECT to_json(t)::VARCHAR AS line FROM (SELECT {select} FROM {reader}) t", note


def _is_encoding_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "unicode" in text or "utf-8" in text or "utf8" in text


def _utf8_clean_copy(path: Path, tmpdir: Path, start_byte: int, end_byte: int) -> tuple[Path, list]:
    """Copy bytes [start, end) of a JSONL file, blanking lines that are not UTF-8.

    Returns the copy and ``(line_index, raw)`` of each blanked line (1-based within the slice).
    Blanking keeps the numbering of the remaining lines intact.
    """
    with open(path, "rb") as fh:
        fh.seek(start_byte)
        data = fh.read(end_byte - start_byte)
    bad: list[tuple[int, str]] = []
    lines = data.split(b"\n")
    for i, raw in enumerate(lines):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            bad.append((i + 1, raw.decode("utf-8", errors="replace")))
            lines[i] = b""
    copy = tmpdir / (path.name + ".slice")
    copy.write_bytes(b"\n".join(lines))
    return copy, bad
