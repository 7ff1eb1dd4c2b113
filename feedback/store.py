"""The DuckDB system of record: schema, connections, and the one ingest path that writes it.

All SQL of the ``feedback`` package lives here. Ingest is the only writer: it opens the file
read-write, validates every line in SQL (no Python loop per event), keeps valid events, puts
invalid lines into ``rejected_events`` with the reason and line number, records how far it read
each file, commits, and closes. Running it again, or after a killed run, stores nothing twice.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from errors import DatabaseBusyError, DataProblemError, InvalidInputError
from feedback.events import DEVICES, EVENT_TYPES, FIELDS, MAX_TEXT_CHARS, REQUIRED
from feedback.privacy import redact_sql
from feedback.sink import DONE_SUFFIX, PART_SUFFIX

if TYPE_CHECKING:
    import duckdb

    from lab import Lab

SCHEMA_VERSION = 1
LOCK_RETRY_SECONDS = 3.0
EXAMPLES_PER_FILE = 5

# --- schema and migrations -------------------------------------------------------------------

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE events (
        -- Unique by construction: ingest, the only writer, drops known ids in the same
        -- transaction. No PRIMARY KEY index: it made inserts 7x slower (docs/architecture.md).
        event_id UUID NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        session_id UUID NOT NULL,
        experiment_id VARCHAR,
        prototype_id VARCHAR NOT NULL,
        prototype_version INTEGER NOT NULL,
        variant VARCHAR NOT NULL,
        store_id VARCHAR NOT NULL,
        device VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        screen VARCHAR,
        element VARCHAR,
        task VARCHAR,
        question VARCHAR,
        x DOUBLE,
        y DOUBLE,
        "value" DOUBLE,
        "text" VARCHAR,
        props JSON,
        source VARCHAR NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE rejected_events (
        source VARCHAR NOT NULL,
        line BIGINT,
        raw VARCHAR,
        reason VARCHAR NOT NULL,
        rejected_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE ingested_files (
        file_key VARCHAR PRIMARY KEY,
        path VARCHAR NOT NULL,
        lines_done BIGINT NOT NULL,
        bytes_done BIGINT NOT NULL,
        complete BOOLEAN NOT NULL,
        inserted BIGINT NOT NULL,
        duplicates BIGINT NOT NULL,
        rejected BIGINT NOT NULL,
        ingested_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE store_kpis (
        store_id VARCHAR NOT NULL,
        date DATE NOT NULL,
        metric VARCHAR NOT NULL,
        "value" DOUBLE NOT NULL,
        PRIMARY KEY (store_id, date, metric)
    );
    """,
}


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMPTZ)"
    )
    current = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
    for version in sorted(v for v in _MIGRATIONS if v > current):
        con.execute("BEGIN")
        con.execute(_MIGRATIONS[version])
        # A literal, not a parameter: see _lit (a parameter would import pandas).
        con.execute(f"INSERT INTO schema_version VALUES ({int(version)}, now())")
        con.execute("COMMIT")


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a connection's database to the current schema (tests use it on scratch files)."""
    _migrate(con)


# --- connections -----------------------------------------------------------------------------


@contextlib.contextmanager
def connect(lab: Lab, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to the lab's database; retries briefly while it is locked."""
    import duckdb

    path = lab.db_path
    if read_only and not path.exists():
        raise InvalidInputError(
            f"{path} has no data yet. Run `storelab feedback ingest` (or `storelab sample "
            "generate` for simulated data) first."
        )
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                holder = str(exc).split("Conflicting lock is held in", 1)[-1].strip()
                raise DatabaseBusyError(
                    f"{path} is in use by another process ({holder}). Only one process can "
                    "write it at a time: wait for the running ingest to finish, or stop the "
                    "process that holds it, then try again."
                ) from exc
            time.sleep(0.1)
    try:
        con.execute("SET TimeZone = 'UTC'")
        if read_only:
            _check_schema(con, path)
        else:
            _migrate(con)
        yield con
    finally:
        con.close()


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:

    try:
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - any failure here means "not our database"
        raise InvalidInputError(f"{path} is not a storelab database.") from exc
    if version is None or version < SCHEMA_VERSION:
        raise InvalidInputError(
            f"{path} has schema version {version}; run `storelab feedback ingest` to upgrade it."
        )


# --- ingest ----------------------------------------------------------------------------------


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
            "files": [asdict(f) for f in self.files],
        }


Progress = Callable[[int, int, str], None]

_TYPES_SQL = "[" + ", ".join(f"'{t}'" for t in EVENT_TYPES) + "]"
_DEVICES_SQL = "[" + ", ".join(f"'{d}'" for d in DEVICES) + "]"
_FIELDS_SQL = "[" + ", ".join(f"'{f}'" for f in FIELDS) + "]"
_STRUCT = "{" + ", ".join(f'"{f}": "{"JSON" if f == "props" else "VARCHAR"}"' for f in FIELDS) + "}"
_OFFSET_RE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
# A date alone ("2026-11-02") casts to a timestamp and its "-02" looks like an offset.
_HAS_TIME = "substr(j.ts, 11, 1) IN ('T', 't', ' ')"
# The INTEGER cast rounds "1.5" to 2; a version must be a whole number as written.
_WHOLE_VERSION = "prototype_version = TRY_CAST(j.prototype_version AS DOUBLE)"
_BLANK = "blank line"


def _staging_sql(lines_source: str, redact: bool, *, fast: bool = True) -> str:
    """SQL that turns ``line`` rows (in file order) into typed events plus a rejection reason.

    Every rule of the event contract is here once; a NULL reason means the line is valid,
    ``_BLANK`` marks an empty line (neither kept nor rejected). No window function: the
    resulting table's ``rowid`` is the line's position, and the parse stays parallel.

    Two tiers, for speed: ``valid`` is a conjunction of cheap vectorised predicates that holds
    for a valid line; the human-readable ``CASE`` with the reason runs only for the rows where
    it does not hold (rare), because a ``CASE`` evaluates a branch only for the rows that reach
    it. ``valid`` must never accept a line the reason ``CASE`` rejects (tests/test_events.py
    checks this on the contract corpus); where it is unsure it says no and the ``CASE`` decides.
    ``fast=False`` runs the ``CASE`` on every row, for that test.
    """
    # Text is rare; the regexes run only where there is some.
    text = (
        f"CASE WHEN j.text IS NULL THEN NULL ELSE {redact_sql('j.text')} END"
        if redact
        else "j.text"
    )
    return f"""
    WITH parsed AS (
        SELECT line, try(json_transform(line, '{_STRUCT}')) AS j FROM ({lines_source})
    ),
    typed AS (
        -- Computed once for every row: the casts (needed for storing anyway) and the keys.
        SELECT line, j,
            CASE WHEN j IS NOT NULL THEN json_keys(line) END AS keys,
            TRY_CAST(j.event_id AS UUID) AS event_id,
            TRY_CAST(j.ts AS TIMESTAMPTZ) AS ts,
            TRY_CAST(j.session_id AS UUID) AS session_id,
            TRY_CAST(j.prototype_version AS INTEGER) AS prototype_version,
            TRY_CAST(j.x AS DOUBLE) AS x,
            TRY_CAST(j.y AS DOUBLE) AS y,
            TRY_CAST(j."value" AS DOUBLE) AS "value",
            json_type(j.props) AS props_type
        FROM parsed
    )
    SELECT
        CASE WHEN {_valid_sql() if fast else "false"} THEN NULL ELSE {_reason_sql()} END AS reason,
        event_id, ts, session_id, j.experiment_id AS experiment_id, j.prototype_id AS prototype_id,
        prototype_version, j.variant AS variant, j.store_id AS store_id, j.device AS device,
        j.type AS type, j.screen AS screen, j.element AS element, j.task AS task,
        j.question AS question, x, y, "value", {text} AS "text",
        coalesce(CASE WHEN props_type = 'OBJECT' THEN j.props END, '{{}}'::JSON) AS props
    FROM typed
    """


def _valid_sql() -> str:
    """The fast check over ``typed``: true only for lines that break no rule of ``_reason_sql``.

    NULL counts as "not sure" (the reason CASE decides). Required fields that must parse as a
    UUID, timestamp, number or list member cannot be blank when they do.
    """
    free_text_required = [
        f"trim(j.{f}) <> ''"
        for f in REQUIRED
        if f not in ("event_id", "ts", "session_id", "prototype_version", "device", "type")
    ]
    return " AND ".join(
        [
            f"(keys = {_FIELDS_SQL} OR list_has_all({_FIELDS_SQL}, keys))",
            "event_id IS NOT NULL",
            "session_id IS NOT NULL",
            # The offset pattern is anchored at the end and at most 6 characters long.
            f"ts IS NOT NULL AND {_HAS_TIME} AND regexp_matches(right(j.ts, 6), '{_OFFSET_RE}')",
            # Not ``IN (…)``: a long IN list becomes a join, and the plan stops keeping order.
            f"list_contains({_TYPES_SQL}, j.type)",
            f"list_contains({_DEVICES_SQL}, j.device)",
            f"prototype_version >= 1 AND {_WHOLE_VERSION}",
            *free_text_required,
            "(j.x IS NULL OR (x >= 0 AND x <= 1))",
            "(j.y IS NULL OR (y >= 0 AND y <= 1))",
            '(j."value" IS NULL OR "value" IS NOT NULL)',
            "(j.props IS NULL OR props_type IN ('OBJECT', 'NULL'))",
            f"(j.text IS NULL OR length(j.text) <= {MAX_TEXT_CHARS})",
        ]
    )


def _reason_sql() -> str:
    """The first rule a row of ``typed`` breaks, in words; NULL when it breaks none."""
    blank = {f: f"nullif(trim(j.{f}), '') IS NULL" for f in REQUIRED}
    missing = ", ".join(f"CASE WHEN {blank[f]} THEN '{f}' END" for f in REQUIRED)
    unknown = f"list_filter(keys, k -> NOT list_contains({_FIELDS_SQL}, k))"
    return f"""CASE
            WHEN coalesce(trim(line), '') = '' THEN '{_BLANK}'
            WHEN j IS NULL THEN CASE WHEN json_valid(line)
                THEN 'not a JSON object' ELSE 'not valid JSON (truncated or broken line)' END
            WHEN len({unknown}) > 0 THEN 'unknown field ''' || {unknown}[1] || ''''
            WHEN {" OR ".join(blank.values())} THEN CASE WHEN json_type(line) <> 'OBJECT'
                THEN 'not a JSON object'
                ELSE 'missing required field(s): ' || concat_ws(', ', {missing}) END
            WHEN event_id IS NULL THEN 'event_id is not a UUID: ' || j.event_id
            WHEN session_id IS NULL THEN 'session_id is not a UUID: ' || j.session_id
            WHEN ts IS NULL OR NOT {_HAS_TIME} OR NOT regexp_matches(j.ts, '{_OFFSET_RE}')
                THEN 'ts is not ISO-8601 with a UTC offset: ' || j.ts
            WHEN NOT list_contains({_TYPES_SQL}, j.type) THEN 'unknown type ''' || j.type || ''''
            WHEN NOT list_contains({_DEVICES_SQL}, j.device)
                THEN 'device must be kiosk, phone or web, not ''' || j.device || ''''
            WHEN prototype_version IS NULL OR prototype_version < 1 OR NOT {_WHOLE_VERSION}
                THEN 'prototype_version must be a whole number >= 1: ' || j.prototype_version
            WHEN j.x IS NOT NULL AND (x IS NULL OR x < 0 OR x > 1)
                THEN 'x must be a number from 0 to 1: ' || j.x
            WHEN j.y IS NOT NULL AND (y IS NULL OR y < 0 OR y > 1)
                THEN 'y must be a number from 0 to 1: ' || j.y
            WHEN j."value" IS NOT NULL AND "value" IS NULL
                THEN 'value must be a number: ' || j."value"
            WHEN j.props IS NOT NULL AND props_type NOT IN ('OBJECT', 'NULL')
                THEN 'props must be a JSON object'
            WHEN length(j.text) > {MAX_TEXT_CHARS}
                THEN 'text longer than {MAX_TEXT_CHARS} characters'
        END"""


# Lines up to this size are read in parallel, in buffers of twice the size. DuckDB's CSV reader
# reads a file in buffers larger than its max_line_size, so a huge limit (50 MB: 4 buffers for
# 200 MB) leaves one core idle. A longer line (not an event: corrupt data) makes the reader fail;
# that file is read again with the huge limit (_LONG_LINE_BYTES), as before.
_LINE_BYTES = 8 * 1024 * 1024
_LONG_LINE_BYTES = 50_000_000


def _lines_csv(path: Path, long_lines: bool = False) -> str:
    """Each line of a text file as one VARCHAR row, in file order (blank lines included)."""
    size = (
        f"max_line_size={_LONG_LINE_BYTES}"
        if long_lines
        else f"max_line_size={_LINE_BYTES}, buffer_size={2 * _LINE_BYTES}"
    )
    return (
        f"SELECT line FROM read_csv({_lit(str(path))}, columns={{'line': 'VARCHAR'}}, "
        "delim=chr(0), "
        f"quote='', escape='', header=false, auto_detect=false, strict_mode=false, {size})"
    )


def _lines_table(path: Path, kind: str, con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """Rows of a CSV/Parquet import as JSON lines, so they pass the same validation.

    Returns the SQL and a note (e.g. when a CSV had to be read as Latin-1).
    """

    p = _lit(str(path))
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
    report = IngestReport()
    redact = lab.config.privacy.redact_text
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


def _ingest_one(
    con: duckdb.DuckDBPyConnection, source: _Source, tmp: Path, redact: bool
) -> FileReport:
    rep = FileReport(source=str(source.path))
    row = con.execute(
        f"SELECT lines_done, bytes_done FROM ingested_files WHERE file_key = {_lit(source.key)}"
    ).fetchone()
    lines_done, bytes_done = row or (0, 0)
    is_part = source.path.name.endswith(PART_SUFFIX)
    size = source.path.stat().st_size
    if not source.spool:  # external files are taken whole; same size again = same file
        if row and bytes_done == size:
            rep.skipped, rep.note = True, "already ingested"
            return rep
        lines_done, bytes_done = 0, 0
    elif bytes_done >= size:
        rep.skipped, rep.note = True, "nothing new"
        if not is_part:
            con.execute(
                f"UPDATE ingested_files SET path = {_lit(str(source.path))}, complete = true "
                f"WHERE file_key = {_lit(source.key)}"
            )
        return rep

    bad_utf8: list[tuple[int, str]] = []
    if source.kind == "jsonl":
        end = size
        if is_part:  # a writer may be mid-line: read up to the last complete line only
            end = _last_newline(source.path, bytes_done, size)
            if end <= bytes_done:
                rep.skipped, rep.note = True, "no complete new line yet"
                return rep
        lines_sql, bad_utf8 = _stage_jsonl(con, source.path, tmp, bytes_done, end, size, redact)
        new_bytes = end
    else:
        lines_sql, rep.note = _lines_table(source.path, source.kind, con)
        _stage(con, lines_sql, redact)
        new_bytes = size
    # staged.rowid counts this slice's lines from 0; CSV data starts on line 2.
    first = lines_done + (2 if source.kind == "csv" else 1)
    real_reject = f"reason IS NOT NULL AND reason <> '{_BLANK}'"

    con.execute("BEGIN")
    try:
        for index, raw in bad_utf8:  # rare; arbitrary text, so a parameter (see _lit)
            con.execute(
                "INSERT INTO rejected_events VALUES (?, ?, ?, 'line is not valid UTF-8', now())",
                [str(source.path), first + index - 1, raw[:2000]],
            )
        n_lines, valid, distinct, rejected = con.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE reason IS NULL),
                   count(DISTINCT event_id) FILTER (WHERE reason IS NULL),
                   count(*) FILTER (WHERE {real_reject}) FROM staged"""
        ).fetchone()
        if rejected:  # the raw text of rejected lines is read again only when there are any
            con.execute(
                f"""INSERT INTO rejected_events
                   SELECT {_lit(str(source.path))}, s.rowid + {_lit(first)}, left(r.line, 2000),
                       s.reason, now()
                   FROM staged s LEFT JOIN (
                       SELECT row_number() OVER () - 1 AS pos, line FROM ({lines_sql})
                   ) r ON r.pos = s.rowid
                   WHERE {real_reject.replace("reason", "s.reason")}"""
            )
        # First occurrence of an id wins; later ones, and ids already stored, are duplicates.
        # Each check runs only when it can find something: the window (which sorts every
        # valid row) when the file repeats an id, the anti-join when events has rows.
        keep = "reason IS NULL"
        if con.execute("SELECT EXISTS (SELECT 1 FROM events)").fetchone()[0]:
            keep += " AND event_id NOT IN (SELECT event_id FROM events)"
        first_seen = ""
        if distinct < valid:
            first_seen = "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY rowid) = 1"
        cols = ", ".join(f'"{f}"' for f in FIELDS)
        rep.inserted = con.execute(
            f"""INSERT INTO events SELECT {cols}, {_lit(str(source.path))}, now()
                FROM staged WHERE {keep} {first_seen}"""
        ).fetchone()[0]
        rep.lines = lines_done + n_lines
        rep.duplicates = valid - rep.inserted
        rep.rejected = rejected + len(bad_utf8)
        examples = []
        if rejected:
            examples = con.execute(
                f"""SELECT rowid + {_lit(first)}, reason FROM staged WHERE {real_reject}
                    ORDER BY rowid LIMIT {EXAMPLES_PER_FILE}"""
            ).fetchall()
        examples += [(first + i - 1, "line is not valid UTF-8") for i, _ in bad_utf8]
        rep.examples = [f"line {n}: {r}" for n, r in sorted(examples)[:EXAMPLES_PER_FILE]]
        key = _lit(source.key)
        con.execute(
            f"""INSERT OR REPLACE INTO ingested_files
               SELECT {key}, {_lit(str(source.path))}, {_lit(rep.lines)}, {_lit(new_bytes)},
                 {_lit(not is_part)},
                 coalesce((SELECT inserted FROM ingested_files WHERE file_key = {key}), 0)
                   + {_lit(rep.inserted)},
                 coalesce((SELECT duplicates FROM ingested_files WHERE file_key = {key}), 0)
                   + {_lit(rep.duplicates)},
                 coalesce((SELECT rejected FROM ingested_files WHERE file_key = {key}), 0)
                   + {_lit(rep.rejected)},
                 now()"""
        )
        con.execute("DROP TABLE staged")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rep


def _lit(value: str | int) -> str:
    """A SQL literal for a value ingest itself made: a file's key or path, a count.

    Why not a parameter: DuckDB's Python client imports pandas to compare any non-None
    parameter with ``pandas.NA``, 0.4-0.5 s per ingest process (a fifth of a bare
    ``read_json`` of 500k events). Only values of these types pass through here; quotes
    are doubled, which is all a DuckDB string literal needs. Text from the data itself
    (raw lines) still goes in as parameters.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if not isinstance(value, str) or "\x00" in value:
        raise TypeError(f"_lit takes a str without NUL or an int, not {value!r}")
    return "'" + value.replace("'", "''") + "'"


def _stage(con: duckdb.DuckDBPyConnection, lines_sql: str, redact: bool) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE staged AS " + _staging_sql(lines_sql, redact))


def _stage_jsonl(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    tmp: Path,
    start: int,
    end: int,
    size: int,
    redact: bool,
) -> tuple[str, list[tuple[int, str]]]:
    """Stage bytes [start, end) of a JSONL file.

    Returns the SQL that reads the staged lines and the lines blanked for not being UTF-8.

    Whole files are read by DuckDB directly; a slice (a growing ``.part`` file), or a file with
    bytes that are not UTF-8, is first copied with the bad lines blanked, so nothing else is lost.
    """
    if start == 0 and end == size:
        try:
            return _stage_lines(con, path, redact), []
        except Exception as exc:  # noqa: BLE001 - DuckDB's error type varies by reader
            if not _is_encoding_error(exc):
                raise
    copy, bad = _utf8_clean_copy(path, tmp, start, end)
    return _stage_lines(con, copy, redact), bad


def _stage_lines(con: duckdb.DuckDBPyConnection, path: Path, redact: bool) -> str:
    """Stage every line of a UTF-8 text file; returns the SQL that reads its lines."""
    try:
        _stage(con, _lines_csv(path), redact)
        return _lines_csv(path)
    except Exception as exc:  # noqa: BLE001 - DuckDB's error type varies by reader
        if "maximum line size" not in str(exc).lower():
            raise
    _stage(con, _lines_csv(path, long_lines=True), redact)
    return _lines_csv(path, long_lines=True)


def _last_newline(path: Path, start: int, size: int) -> int:
    """Byte offset just past the last newline in [start, size), or ``start`` if none."""
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(size - start)
    cut = data.rfind(b"\n")
    return start + cut + 1 if cut >= 0 else start


# --- store KPIs, export, summaries -------------------------------------------------------------


def import_kpis(lab: Lab, csv_path: Path) -> dict:
    """Load daily store KPIs (``store_id,date,metric,value``); later values replace earlier ones.

    Bad rows are reported with their line numbers and skipped; good rows are kept.
    """

    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise InvalidInputError(f"{csv_path} does not exist.")
    reader = f"read_csv({_lit(str(csv_path))}, all_varchar=true, header=true)"
    with connect(lab, read_only=False) as con:
        try:
            columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
        except Exception as exc:  # noqa: BLE001
            raise InvalidInputError(f"{csv_path}: cannot read as CSV: {exc}") from exc
        expected = ["store_id", "date", "metric", "value"]
        if sorted(columns) != sorted(expected):
            raise InvalidInputError(
                f"{csv_path}: columns are {', '.join(columns)}; expected exactly "
                f"{','.join(expected)}. Nothing was imported."
            )
        con.execute("BEGIN")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE kpi_staged AS
            SELECT row_number() OVER () + 1 AS lineno, store_id,
                TRY_CAST(date AS DATE) AS date, metric, TRY_CAST("value" AS DOUBLE) AS "value",
                CASE WHEN store_id IS NULL THEN 'store_id is empty'
                     WHEN TRY_CAST(date AS DATE) IS NULL THEN 'date is not YYYY-MM-DD: ' || date
                     WHEN metric IS NULL THEN 'metric is empty'
                     WHEN TRY_CAST("value" AS DOUBLE) IS NULL THEN 'value is not a number'
                END AS reason
            FROM {reader}"""
        )
        imported = con.execute(
            """INSERT OR REPLACE INTO store_kpis
               SELECT store_id, date, metric, "value" FROM kpi_staged WHERE reason IS NULL
               QUALIFY row_number() OVER (
                   PARTITION BY store_id, date, metric ORDER BY lineno DESC) = 1"""
        ).fetchone()[0]
        bad = con.execute(
            "SELECT lineno, reason FROM kpi_staged WHERE reason IS NOT NULL ORDER BY lineno"
        ).fetchall()
        con.execute("DROP TABLE kpi_staged")
        con.execute("COMMIT")
    return {
        "imported": imported,
        "rejected": len(bad),
        "examples": [f"line {n}: {r}" for n, r in bad[:EXAMPLES_PER_FILE]],
    }


def export(lab: Lab, fmt: str, out: Path | None = None) -> Path:
    """Write all stored events to one Parquet or CSV file and return its path."""

    if fmt not in ("parquet", "csv"):
        raise InvalidInputError(f"format must be parquet or csv, not {fmt!r}.")
    out = Path(out) if out else lab.root / "exports" / f"events.{fmt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    target = _lit(str(out))
    with connect(lab) as con:
        con.execute(f"COPY (SELECT * FROM events ORDER BY ts, event_id) TO {target} (FORMAT {fmt})")
    return out


def summary(lab: Lab) -> dict:
    """Counts an analyst looks at first: events, sessions, stores, rejects, per prototype."""
    with connect(lab) as con:
        totals = con.execute(
            """SELECT count(*), count(DISTINCT session_id), count(DISTINCT store_id),
                      min(ts)::VARCHAR, max(ts)::VARCHAR FROM events"""
        ).fetchone()
        rejected = con.execute("SELECT count(*) FROM rejected_events").fetchone()[0]
        by_proto = con.execute(
            """SELECT prototype_id, prototype_version, variant, count(DISTINCT session_id)
               FROM events GROUP BY ALL ORDER BY ALL"""
        ).fetchall()
    return {
        "events": totals[0],
        "sessions": totals[1],
        "stores": totals[2],
        "first": totals[3],
        "last": totals[4],
        "rejected": rejected,
        "by_prototype": [
            {"prototype": p, "version": v, "variant": var, "sessions": n}
            for p, v, var, n in by_proto
        ],
    }
