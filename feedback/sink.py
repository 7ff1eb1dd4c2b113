"""Append-only spool files: how prototypes and the simulator hand events to ingest.

Prototype processes never open the database (DuckDB locks the file per process). Each writer
process appends to its own ``spool/<host>-<pid>-<start>.jsonl.part``, flushed per event, and
renames it to ``.jsonl`` when it rotates or closes. Ingest reads finished files whole and the
complete lines of ``.part`` files, remembering how far it got, so nothing is read twice.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedback.events import FIELDS, Event, writer_id

if TYPE_CHECKING:
    import pyarrow as pa

PART_SUFFIX = ".jsonl.part"
DONE_SUFFIX = ".jsonl"
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time_ns() % 1_000_000_000:09d}"


def finish(part: Path) -> Path:
    """Rename a finished ``.jsonl.part`` to ``.jsonl`` (atomic on one file system)."""
    done = part.with_name(part.name[: -len(PART_SUFFIX)] + DONE_SUFFIX)
    os.replace(part, done)
    return done


class SpoolSink:
    """One process's spool file. ``emit`` is safe to call from several threads."""

    def __init__(self, spool_dir: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.spool_dir = Path(spool_dir)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._file = None
        self._path: Path | None = None

    @property
    def path(self) -> Path | None:
        """The part file currently written, if any."""
        return self._path

    def _open(self) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self._path = self.spool_dir / f"{writer_id()}-{_stamp()}{PART_SUFFIX}"
        # Line-buffered text file: each event line reaches the OS when it is written.
        self._file = open(self._path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def emit(self, event: Event | dict[str, Any]) -> None:
        """Append one event as a JSON line and flush it."""
        line = event.to_json() if isinstance(event, Event) else json.dumps(event, default=str)
        with self._lock:
            if self._file is None:
                self._open()
            self._file.write(line + "\n")
            self._file.flush()
            if self._file.tell() >= self.max_bytes:
                self._rotate_locked()

    def rotate(self) -> Path | None:
        """Finish the current file (rename to ``.jsonl``); the next event opens a new one."""
        with self._lock:
            return self._rotate_locked()

    def _rotate_locked(self) -> Path | None:
        if self._file is None:
            return None
        self._file.close()
        self._file = None
        done = finish(self._path)
        self._path = None
        return done

    def close(self) -> Path | None:
        """Finish the file; call on shutdown."""
        return self.rotate()

    def __enter__(self) -> SpoolSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_batch(spool_dir: Path | str, table: pa.Table, *, name: str | None = None) -> Path:
    """Write a whole table of events as one finished spool file (the simulator's bulk path).

    Columns must be ``events.FIELDS``; ``props`` may be a JSON string, a struct or a map. The
    file appears under its final name only once it is complete.
    """
    import duckdb

    missing = [f for f in FIELDS if f not in table.column_names]
    if missing:
        raise ValueError(f"write_batch: table lacks columns {missing}")
    spool = Path(spool_dir)
    spool.mkdir(parents=True, exist_ok=True)
    part = spool / f"{name or writer_id() + '-' + _stamp()}{PART_SUFFIX}"
    con = duckdb.connect()
    try:
        con.register("batch", table.select(list(FIELDS)))
        props_type = str(con.sql("SELECT typeof(props) FROM batch LIMIT 1").fetchone() or ["JSON"])
        props = "props::JSON" if "VARCHAR" in props_type else "to_json(props)"
        cols = ", ".join(
            "strftime(ts, '%Y-%m-%dT%H:%M:%S.%g%z') AS ts"
            if f == "ts" and _is_timestamp(table)
            else (f"{props} AS props" if f == "props" else f'"{f}"')
            for f in FIELDS
        )
        con.execute(f"COPY (SELECT {cols} FROM batch) TO '{_sql_path(part)}' (FORMAT json)")
    finally:
        con.close()
    return finish(part)


def _is_timestamp(table: pa.Table) -> bool:
    import pyarrow as pa

    return pa.types.is_timestamp(table.schema.field("ts").type)


def _sql_path(path: Path) -> str:
    # COPY TO takes no parameters; the path is ours (spool dir + generated name), quotes escaped.
    return str(path).replace("'", "''")
