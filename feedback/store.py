"""The DuckDB system of record: its schema, its migrations, and short-lived connections to it.

Ingest (``feedback.ingest``) is the only writer of events; ``feedback.exchange`` imports store
KPIs and exports events. Both open their connection here, where a read-write connection brings
the file to the current schema and a read-only one checks that it is a current storelab database.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from errors import DatabaseBusyError, InvalidInputError
from feedback.events import team_event_sql

if TYPE_CHECKING:
    import duckdb

    from lab import Lab

SCHEMA_VERSION = 3
LOCK_RETRY_SECONDS = 3.0
# Readers (analyze, reports, the dashboard) cap DuckDB's own memory (its default is 80 % of
# the machine's). Not lower than 2 GB: below about 1.5 GB DuckDB's hash aggregates take a
# partitioned path that made `experiment analyze` on 10M events ~20 % slower while its peak
# stayed the same (measured: 512 MB → 3.2 s query, 671 MiB; 2 GB → 2.6 s, 685 MiB whole
# process; bench/analyze_scale.py). A bigger lab spills to ``<db>.tmp`` instead of growing.
# Threads stay DuckDB's default (all cores).
READ_MEMORY_LIMIT = "2GB"

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
    # Spool entries and files ingest could not read (a folder, gone, no permission, …): one row
    # per file with the last reason, removed once the file is read. Lines are in rejected_events.
    2: """
    CREATE TABLE skipped_files (
        file_key VARCHAR PRIMARY KEY,
        path VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        first_skipped_at TIMESTAMPTZ NOT NULL,
        last_skipped_at TIMESTAMPTZ NOT NULL
    );
    """,
    # One row every write transaction updates (feedback.lake.catalog.write_transaction): in a
    # DuckLake two concurrent writes then conflict and one is retried on the newer snapshot.
    3: """
    CREATE TABLE ingest_clock (commits BIGINT NOT NULL);
    INSERT INTO ingest_clock VALUES (0);
    """,
}
# DuckLake has no PRIMARY KEY / UNIQUE constraints: the lake gets the same tables without them
# (the writes never rely on them: UPDATE, then INSERT … WHERE NOT EXISTS).
_KEY_CLAUSE = re.compile(r",\s*PRIMARY KEY \([^)]*\)|\s+PRIMARY KEY\b")


def _for_lake(sql: str) -> str:
    return _KEY_CLAUSE.sub("", sql)


def _migrate(con: duckdb.DuckDBPyConnection, lake: bool = False) -> None:
    from feedback.lake.catalog import keep_events_in_parquet, write_transaction

    def step() -> bool:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMPTZ)"
        )
        # Read again in every attempt: a concurrent worker may have applied it meanwhile.
        current = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        pending = sorted(v for v in _MIGRATIONS if v > current[0])
        if not pending:
            return False
        version = pending[0]
        con.execute(_for_lake(_MIGRATIONS[version]) if lake else _MIGRATIONS[version])
        # A literal, not a parameter: see sql_literal (a parameter would import pandas).
        con.execute(f"INSERT INTO schema_version VALUES ({int(version)}, now())")
        return True

    while write_transaction(con, step, lake=lake, clock=False):
        pass
    if lake:  # a table setting; DuckLake takes it only once the table is committed
        keep_events_in_parquet(con)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a connection's database to the current schema (tests use it on scratch files)."""
    _migrate(con)


# --- connections -----------------------------------------------------------------------------


@contextlib.contextmanager
def connect(lab: Lab, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to the lab's store: its DuckDB file, or its DuckLake
    (``[storage] kind``); the same SQL runs on both. A writer brings it to the current schema.
    """
    lake = lab.config.storage.kind == "ducklake"
    con = _open_lake(lab, read_only) if lake else _open_file(lab.db_path, read_only)
    where = str(lab.config.storage.catalog) if lake else str(lab.db_path)
    try:
        con.execute("SET TimeZone = 'UTC'")
        # DuckDB draws a progress bar on the terminal for queries over 2 s: not ours to show
        con.execute("SET enable_progress_bar = false")
        if read_only:
            con.execute(f"SET memory_limit = {sql_literal(READ_MEMORY_LIMIT)}")
            _check_schema(con, where, lake)
        else:
            _migrate(con, lake)
        yield con
    finally:
        con.close()


def _open_lake(lab: Lab, read_only: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lab's lake attached (readers never block writers)."""
    import duckdb

    from feedback.lake.catalog import attach

    con = duckdb.connect()
    try:
        # An in-memory database spills to ./.tmp by default: keep it in the lab instead.
        con.execute(f"SET temp_directory = {sql_literal(str(lab.root / '.lake.tmp'))}")
        attach(con, lab, read_only=read_only)
    except BaseException:
        con.close()
        raise
    return con


def _open_file(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """The lab's DuckDB file; retries briefly while another process holds its lock."""
    import duckdb

    if read_only and not path.exists():
        raise InvalidInputError(
            f"{path} has no data yet. Run `storelab feedback ingest` (or `storelab sample "
            "generate` for simulated data) first."
        )
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
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


def _check_schema(con: duckdb.DuckDBPyConnection, path: str, lake: bool) -> None:
    try:
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - any failure here means "not our database"
        if lake:  # a lake whose catalog has no tables yet
            raise InvalidInputError(
                f"The lake {path} has no data yet. Run `storelab feedback ingest` first."
            ) from exc
        raise InvalidInputError(f"{path} is not a storelab database.") from exc
    if version is None or version < SCHEMA_VERSION:
        raise InvalidInputError(
            f"{path} has schema version {version}; run `storelab feedback ingest` to upgrade it."
        )


# --- SQL literals ----------------------------------------------------------------------------


def sql_literal(value: str | int) -> str:
    """A SQL literal for a value storelab itself made: a file's key or path, a count.

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
        raise TypeError(f"sql_literal takes a str without NUL or an int, not {value!r}")
    return "'" + value.replace("'", "''") + "'"


# --- reads -----------------------------------------------------------------------------------


def summary(lab: Lab) -> dict:
    """Counts an analyst looks at first: events, sessions (all; customers'; the team's, which
    never count in an analysis: ``feedback.events.TEAM_FLAGS``), stores, rejects, and the
    customers' and the team's sessions per prototype, version and variant."""
    with connect(lab) as con:
        totals = con.execute(
            """SELECT count(*), count(DISTINCT session_id), count(DISTINCT store_id),
                      min(ts)::VARCHAR, max(ts)::VARCHAR FROM events"""
        ).fetchone()
        rejected = con.execute("SELECT count(*) FROM rejected_events").fetchone()[0]
        rows = con.execute(
            f"""WITH team AS (
                    SELECT session_id, bool_or({team_event_sql()}) IS TRUE AS team
                    FROM events GROUP BY session_id
                )
                SELECT grouping(prototype_id) = 0, prototype_id, prototype_version, variant,
                       count(DISTINCT session_id) FILTER (WHERE NOT team),
                       count(DISTINCT session_id) FILTER (WHERE team)
                FROM events JOIN team USING (session_id)
                GROUP BY GROUPING SETS ((prototype_id, prototype_version, variant), ())
                ORDER BY ALL"""
        ).fetchall()
    overall = next((r for r in rows if not r[0]), (False, None, None, None, 0, 0))
    return {
        "events": totals[0],
        "sessions": totals[1],
        "customer_sessions": overall[4],
        "team_sessions": overall[5],
        "stores": totals[2],
        "first": totals[3],
        "last": totals[4],
        "rejected": rejected,
        "by_prototype": [
            {
                "prototype": p,
                "version": v,
                "variant": var,
                "customer_sessions": customers,
                "team_sessions": team,
            }
            for grouped, p, v, var, customers, team in rows
            if grouped
        ],
    }
