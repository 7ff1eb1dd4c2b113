"""A file lab's store into its lake: ``storelab lake import``.

A lab switched to lake mode (``[storage] kind = "ducklake"``) starts with an empty lake; what
its DuckDB file holds (events, rejected lines, the ingested-files ledger, store KPIs, …)
stays in ``storelab.duckdb``. ``import_file_lab`` copies every table of that file into the
lake's table of the same name, in ONE lake transaction (``catalog.write_transaction``: all of
it commits, or nothing), with ingest's dedupe rules:

- a row whose key is already in the lake is not copied again. The key is the table's
  PRIMARY KEY in the file (``ingested_files``: an already ledgered file is not ledgered
  again; ``store_kpis``: a KPI the lake already has keeps the lake's value; ``skipped_files``)
  or, for ``events`` (no key index by design), the event id;
- ``rejected_events`` has no key either: a line is the same when its file, line number, text
  and reason are (not the time it was rejected);
- any other table without a key copies the rows the lake does not hold yet (``EXCEPT ALL``:
  a second import copies nothing);
- the store's own bookkeeping (``OWN_TABLES``) is the lake's own and is not copied;
- a table only the file has (one a user made) is created in the lake in the same transaction.

The file is only read (attached ``READ_ONLY``): switching the lab back to ``kind = "duckdb"``
reads it as before.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from errors import DatabaseBusyError, InvalidInputError, LakeImportError
from feedback.lake.catalog import ALIAS, write_transaction
from feedback.store import LOCK_RETRY_SECONDS, SCHEMA_VERSION, connect, sql_literal
from feedback.writers import writer_lock

if TYPE_CHECKING:
    import duckdb

    from lab import Lab

FILE_ALIAS = "lab_file"  # the DuckDB file, attached read-only next to the lake
# A store's bookkeeping, not its data: the lake has its own schema version and commit clock.
OWN_TABLES = ("schema_version", "ingest_clock")
# What makes a row the same row where the file has no PRIMARY KEY for it: events are unique
# by id (ingest's rule), without an index (docs/architecture.md); a rejected line is the same
# line of the same file rejected for the same reason, whenever (a lake that read the spool
# afresh rejected it again, later).
ID_COLUMNS = {
    "events": ("event_id",),
    "rejected_events": ("source", "line", "raw", "reason"),
}
CHUNK_ROWS = 500_000  # a keyed table is copied in slices of this many rows (progress)
IMPORT_WORKER = "lake-import"  # its writer lock: one import at a time

Progress = Callable[[int, int, str], None]  # rows done, rows in all, table


@dataclass(frozen=True)
class TablePlan:
    """One table of the file: its columns, the columns that identify a row, its row count."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    key: tuple[str, ...]  # empty: the whole row identifies it
    rows: int
    end: int  # past the greatest rowid (rowids may have gaps after deletes)
    nullable_first_key: bool = False  # the key's first column may hold NULL


@dataclass(frozen=True)
class TableCount:
    """What the import did with one table."""

    table: str
    rows: int  # in the file
    copied: int  # new in the lake

    @property
    def already(self) -> int:
        """Rows the lake held already (not copied twice)."""
        return self.rows - self.copied


@dataclass(frozen=True)
class ImportReport:
    """What ``import_file_lab`` copied, table by table."""

    source: str  # the DuckDB file
    lake: str  # the catalog's URL, without a password
    tables: tuple[TableCount, ...]

    @property
    def copied(self) -> int:
        return sum(t.copied for t in self.tables)

    @property
    def already(self) -> int:
        return sum(t.already for t in self.tables)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "lake": self.lake,
            "copied": self.copied,
            "already": self.already,
            "tables": {
                t.table: {"rows": t.rows, "copied": t.copied, "already": t.already}
                for t in self.tables
            },
        }


def import_file_lab(lab: Lab, *, progress: Progress | None = None) -> ImportReport:
    """Copy every table of the lab's DuckDB file into its lake, in one transaction.

    Refuses (and changes nothing) when the lab is not in lake mode, the file is missing, held
    by another process or not a storelab database, or the lake cannot be reached. Rows the
    lake already has (same event id, same ledgered file, same KPI key, same rejected line)
    are counted as ``already`` and not copied: importing twice copies nothing the second time.
    """
    import duckdb

    storage = lab.config.storage
    if storage.kind != "ducklake":
        raise InvalidInputError(
            'The lab is not in lake mode ([storage] kind = "duckdb"): `storelab lake up` '
            "switches it (or write [storage] yourself), then `storelab lake import` copies "
            f"{lab.db_path.name} into the lake. Nothing was imported."
        )
    path = lab.db_path
    plans = _read_plans(path)  # before the lake: a bad file leaves the lake untouched
    with (
        writer_lock(lab, IMPORT_WORKER),
        connect(lab, read_only=False) as con,
        _attached(con, path),
    ):
        lake_columns = _lake_columns(con)
        for plan in plans:
            _check_columns(path, plan, lake_columns.get(plan.name))
        total = sum(p.rows for p in plans)

        def work() -> list[TableCount]:
            done = [0]

            def tick(rows: int, table: str) -> None:
                done[0] += rows
                if progress:
                    progress(done[0], total, table)

            return [_copy(con, plan, plan.name in lake_columns, tick) for plan in plans]

        try:
            counts = write_transaction(con, work, lake=True)
        except duckdb.Error as exc:
            raise LakeImportError(
                f"The import failed and was rolled back; the lake is unchanged "
                f"({_first_line(exc)})."
            ) from None
    return ImportReport(str(path), _without_password(storage.catalog or ""), tuple(counts))


# --- the file: what it holds ------------------------------------------------------------------


def _read_plans(path: Path) -> list[TablePlan]:
    """The file's tables (events first), read through a connection of their own."""
    import duckdb

    if not path.is_file():
        raise InvalidInputError(
            f"{path} does not exist: this lab has no file store to import into the lake."
        )
    con = duckdb.connect()
    try:
        with _attached(con, path):
            _check_version(con, path)
            return _plans(con)
    finally:
        con.close()


@contextlib.contextmanager
def _attached(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[None]:
    """The file attached read-only as ``lab_file``; waits briefly for another process's lock."""
    import duckdb

    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    while True:
        try:
            con.execute(f"ATTACH {sql_literal(str(path))} AS {FILE_ALIAS} (READ_ONLY)")
            break
        except duckdb.Error as exc:
            if "lock" not in str(exc).lower():
                raise InvalidInputError(
                    f"{path} cannot be read as a DuckDB database ({_first_line(exc)}). "
                    "Nothing was imported."
                ) from None
            if time.monotonic() >= deadline:
                holder = str(exc).split("Conflicting lock is held in", 1)[-1].split(". See")[0]
                raise DatabaseBusyError(
                    f"{path} is in use by another process ({holder.strip()}): stop it (an "
                    "ingest or a dashboard still in file mode), then run `storelab lake "
                    "import` again. Nothing was imported."
                ) from None
            time.sleep(0.1)
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DETACH {FILE_ALIAS}")


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    import duckdb

    try:
        version = con.execute(
            f"SELECT max(version) FROM {FILE_ALIAS}.main.schema_version"
        ).fetchone()[0]
    except duckdb.Error:
        version = None
    if version is None:
        raise InvalidInputError(f"{path} is not a storelab database. Nothing was imported.")
    if version > SCHEMA_VERSION:
        raise InvalidInputError(
            f"{path} has schema version {version}, newer than this storelab's "
            f"{SCHEMA_VERSION}: import it with the storelab that wrote it."
        )


def _plans(con: duckdb.DuckDBPyConnection) -> list[TablePlan]:
    where = f"database_name = {sql_literal(FILE_ALIAS)} AND schema_name = 'main'"
    names = [
        t
        for (t,) in con.execute(
            f"SELECT table_name FROM duckdb_tables() WHERE {where} ORDER BY table_name"
        ).fetchall()
        if t not in OWN_TABLES
    ]
    keys = dict(
        con.execute(
            f"""SELECT table_name, constraint_column_names FROM duckdb_constraints()
                WHERE {where} AND constraint_type = 'PRIMARY KEY'"""
        ).fetchall()
    )
    plans = []
    for name in sorted(names, key=lambda n: (n != "events", n)):  # the big one first
        cols = con.execute(
            f"""SELECT column_name, data_type, is_nullable FROM duckdb_columns()
                WHERE {where} AND table_name = {sql_literal(name)} ORDER BY column_index"""
        ).fetchall()
        rows, end = con.execute(
            f"SELECT count(*), coalesce(max(rowid) + 1, 0) FROM {FILE_ALIAS}.main.{_q(name)}"
        ).fetchone()
        key = tuple(keys.get(name) or ID_COLUMNS.get(name, ()))
        columns, types = tuple(c for c, _, _ in cols), tuple(t for _, t, _ in cols)
        nullable = bool(key) and next(n for c, _, n in cols if c == key[0])
        plans.append(TablePlan(name, columns, types, key, rows, end, nullable))
    return plans


# --- the lake: where it goes --------------------------------------------------------------------


def _lake_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.execute(
        f"""SELECT table_name, column_name FROM duckdb_columns()
            WHERE database_name = {sql_literal(ALIAS)} AND schema_name = 'main'"""
    ).fetchall()
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


def _check_columns(path: Path, plan: TablePlan, lake: set[str] | None) -> None:
    """Every column of the file has a place in the lake (else its values would be lost)."""
    missing = [c for c in plan.columns if lake is not None and c not in lake]
    if missing:
        raise InvalidInputError(
            f"{path}: table {plan.name} has column(s) {', '.join(missing)} that the lake's "
            f"{plan.name} lacks. Nothing was imported."
        )


def _copy(
    con: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    exists: bool,
    tick: Callable[[int, str], None],
) -> TableCount:
    """Copy one table's rows the lake does not hold yet (inside the import's transaction)."""
    source, target = f"{FILE_ALIAS}.main.{_q(plan.name)}", f"{ALIAS}.main.{_q(plan.name)}"
    cols = ", ".join(_q(c) for c in plan.columns)
    if not exists:  # a table of the file's own: made in the lake, in the same transaction
        columns = ", ".join(f"{_q(c)} {t}" for c, t in zip(plan.columns, plan.types, strict=True))
        con.execute(f"CREATE TABLE {target} ({columns})")
    if not plan.key:
        copied = con.execute(
            f"""INSERT INTO {target} ({cols})
                SELECT {cols} FROM {source} EXCEPT ALL SELECT {cols} FROM {target}"""
        ).fetchone()[0]
        tick(plan.rows, plan.name)
        return TableCount(plan.name, plan.rows, copied)
    copied = done = 0
    for start in range(0, plan.end, CHUNK_ROWS):
        where = f"f.rowid >= {start} AND f.rowid < {start + CHUNK_ROWS}"
        rows, lo, hi = con.execute(
            f"SELECT count(*), min({_q(plan.key[0])})::VARCHAR, max({_q(plan.key[0])})::VARCHAR "
            f"FROM {source} f WHERE {where}"
        ).fetchone()
        if rows:
            copied += con.execute(
                f"""INSERT INTO {target} ({cols})
                    SELECT {", ".join(f"f.{_q(c)}" for c in plan.columns)} FROM {source} f
                    WHERE {where} AND NOT EXISTS (
                        SELECT 1 FROM {target} l WHERE {_same_key(plan, lo, hi)})"""
            ).fetchone()[0]
            done += rows
            tick(rows, plan.name)
    tick(plan.rows - done, plan.name)
    return TableCount(plan.name, plan.rows, copied)


def _same_key(plan: TablePlan, lo: str | None, hi: str | None) -> str:
    """The anti-join's condition. Like ingest's, it reads only the lake's rows whose first key
    lies between the slice's least and greatest: exact, and with time-ordered event ids the
    lake's file statistics skip the rest."""
    first = plan.key[0]
    kind = plan.types[plan.columns.index(first)]
    same = [f"l.{_q(k)} IS NOT DISTINCT FROM f.{_q(k)}" for k in plan.key]
    if lo is not None and not plan.nullable_first_key:  # a NULL key would fall outside
        same.append(
            f"l.{_q(first)} BETWEEN {sql_literal(lo)}::{kind} AND {sql_literal(hi)}::{kind}"
        )
    return " AND ".join(same)


# --- small helpers --------------------------------------------------------------------------------


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
