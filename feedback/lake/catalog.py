"""A DuckLake as the lab's store: attaching it, committing to it with retries, its live files.

``feedback.store.connect`` attaches the lake when ``[storage] kind = "ducklake"``; every SQL
statement after that is the one the DuckDB file runs. DuckLake differs in what it refuses:
no PRIMARY KEY / UNIQUE constraints (hence no ``ON CONFLICT`` / ``INSERT OR REPLACE``; the
store's writes are UPDATE-then-INSERT-if-missing, portable to both) and in concurrency: many
processes write at once, and a commit that overlaps another one's fails with a conflict.
``write_transaction`` retries it, and makes every write conflict with every concurrent write
(``ingest_clock``), so an anti-join against ``events`` inside it sees all committed events:
optimistic serialisation, no lock server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlsplit

from errors import DatabaseBusyError, InvalidInputError

if TYPE_CHECKING:
    import duckdb

    from lab import Lab

ALIAS = "lake"  # the attached lake's name; ``USE lake`` makes it the default database
METADATA = f"__ducklake_metadata_{ALIAS}"  # DuckDB's name for the attached catalog database
EXTENSIONS = ("postgres", "ducklake")
# Conflicting commits are retried this often, waiting base * 2^n (capped, with jitter).
COMMIT_ATTEMPTS = 30
BACKOFF_BASE_S = 0.02
BACKOFF_CAP_S = 1.0
# ``events`` never inlines rows into the catalog: Spark reads only its Parquet files.
EVENTS_TABLE = "events"

T = TypeVar("T")


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """Load DuckDB's ducklake and postgres extensions from their PyPI packages (offline).

    Installed once into DuckDB's extension folder; later connections only load them (the
    copy costs ~0.3 s per extension).
    """
    import duckdb

    for name in EXTENSIONS:
        try:
            con.execute(f"LOAD {name}")
            continue
        except duckdb.Error:
            pass  # not installed yet for this DuckDB version
        spec = importlib.util.find_spec(f"duckdb_extension_{name}")
        found = []
        if spec and spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                found += sorted(Path(folder).glob(f"extensions/*/{name}.duckdb_extension"))
        if not found:
            raise InvalidInputError(
                f"Lake mode needs the package duckdb-extension-{name} "
                f"(pip install 'duckdb-extension-{name}==<duckdb version>')."
            )
        con.execute(f"INSTALL '{found[-1]}'")
        con.execute(f"LOAD {name}")


def libpq_dsn(url: str) -> str:
    """``postgresql://user:pw@host:port/db`` as a libpq key=value string (what DuckLake takes)."""
    parts = urlsplit(url)
    pairs = {
        "host": parts.hostname,
        "port": parts.port,
        "dbname": unquote(parts.path.lstrip("/")) or None,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
    }
    for item in filter(None, parts.query.split("&")):
        key, _, value = item.partition("=")
        pairs[key] = unquote(value)
    return " ".join(f"{k}={v}" for k, v in pairs.items() if v not in (None, ""))


def attach(con: duckdb.DuckDBPyConnection, lab: Lab, *, read_only: bool) -> None:
    """Attach the lab's lake as ``lake`` and make it the default database."""
    import duckdb

    storage = lab.config.storage
    data = lab.lake_data_path
    load_extensions(con)
    if not read_only:
        data.mkdir(parents=True, exist_ok=True)
    options = [f"DATA_PATH '{_quoted(str(data) + '/')}'"]
    if read_only:
        options.append("READ_ONLY")
    target = _quoted(f"ducklake:postgres:{libpq_dsn(storage.catalog or '')}")
    try:
        _attach_retrying(con, f"ATTACH '{target}' AS {ALIAS} ({', '.join(options)})")
    except duckdb.Error as exc:
        if read_only and "does not exist" in str(exc):  # reachable, but nothing ingested yet
            raise InvalidInputError(
                f"The lake {storage.catalog} has no data yet. Run `storelab feedback ingest` "
                "(or `storelab sample generate` for simulated data) first."
            ) from None
        raise DatabaseBusyError(
            f"Cannot open the lake's catalog {storage.catalog} ({_first_line(exc)}). Is its "
            "PostgreSQL running? `storelab lake up` starts the lab's own."
        ) from None
    con.execute(f"USE {ALIAS}")


def _attach_retrying(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """ATTACH; when several workers attach a new lake at once, all but one fail to create its
    catalog tables (PostgreSQL: duplicate key): they attach again and find the lake made."""
    import duckdb

    for attempt in range(COMMIT_ATTEMPTS):
        try:
            con.execute(sql)
            return
        except duckdb.Error as exc:
            racing = "duplicate key" in str(exc) or "already exists" in str(exc)
            if not racing or attempt == COMMIT_ATTEMPTS - 1:
                raise
        delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)
        time.sleep(delay * (0.5 + random.random()))


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def keep_events_in_parquet(con: duckdb.DuckDBPyConnection) -> None:
    """Events are never inlined into the catalog (Spark reads only the Parquet files)."""
    done = con.execute(
        f"""SELECT count(*) FROM {ALIAS}.options() WHERE option_name = 'data_inlining_row_limit'
            AND scope = 'TABLE' AND scope_entry = 'main.{EVENTS_TABLE}' AND value = '0'"""
    ).fetchone()[0]
    if done:
        return
    con.execute(
        f"CALL {ALIAS}.set_option('data_inlining_row_limit', 0, table_name => '{EVENTS_TABLE}')"
    )


def is_conflict(exc: BaseException) -> bool:
    """A DuckLake commit that lost against a concurrent one (retry it)."""
    text = str(exc).lower()
    return "conflict" in text and ("transaction" in text or "ducklake" in text)


def write_transaction(
    con: duckdb.DuckDBPyConnection, work: Callable[[], T], *, lake: bool, clock: bool = True
) -> T:
    """Run ``work`` in one transaction and commit; in a lake, retry it on a commit conflict.

    Every write transaction bumps ``ingest_clock``'s one row, so any two concurrent ones
    conflict and one of them runs again on the new snapshot (its anti-joins then see the
    other's events). ``work`` must be safe to run again from scratch. ``clock=False`` only
    for the migrations that create it.
    """
    import duckdb

    for attempt in range(COMMIT_ATTEMPTS):
        con.execute("BEGIN")
        try:
            result = work()
            if clock:
                con.execute("UPDATE ingest_clock SET commits = commits + 1")
            con.execute("COMMIT")
            return result
        except duckdb.Error as exc:
            _rollback(con)
            if not (lake and is_conflict(exc)) or attempt == COMMIT_ATTEMPTS - 1:
                raise
        except BaseException:
            _rollback(con)
            raise
        delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)
        time.sleep(delay * (0.5 + random.random()))
    raise AssertionError("unreachable")


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    import duckdb

    with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already ended it
        con.execute("ROLLBACK")


# --- the live files of a table, for engines that read Parquet themselves (Spark) -------------


def live_files(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[str]]:
    """The table's data files and delete files at the current snapshot, as absolute paths.

    A delete file (Parquet: ``file_path``, ``pos``) lists rows of a data file that were
    deleted; a reader must drop them. Ingest never deletes events; DuckLake itself writes
    delete files when rows are deleted or files are compacted.
    """
    if not re.fullmatch(r"[a-z_]+", table):
        raise ValueError(table)
    m = METADATA
    root = con.execute(
        f"SELECT value FROM {m}.ducklake_metadata WHERE key = 'data_path'"
    ).fetchone()[0]
    full = f"""CASE WHEN NOT f.path_is_relative THEN f.path
        ELSE (CASE WHEN t.path_is_relative THEN
                (CASE WHEN s.path_is_relative THEN '{_quoted(root)}' || s.path ELSE s.path END)
                || t.path ELSE t.path END) || f.path END"""
    live = f"""JOIN {m}.ducklake_table t USING (table_id)
        JOIN {m}.ducklake_schema s USING (schema_id)
        WHERE t.table_name = '{table}' AND t.end_snapshot IS NULL
          AND s.end_snapshot IS NULL AND f.end_snapshot IS NULL"""
    data = con.execute(
        f"SELECT {full} FROM {m}.ducklake_data_file f {live} ORDER BY f.data_file_id"
    ).fetchall()
    deletes = con.execute(
        f"SELECT {full} FROM {m}.ducklake_delete_file f {live} ORDER BY f.delete_file_id"
    ).fetchall()
    return [r[0] for r in data], [r[0] for r in deletes]
