"""What ingest reads: spool entries and files, opened once, and their lines made readable.

Every entry is opened once (``open_source``); from then on everything reads the open file
through ``/dev/fd/N``, DuckDB included, so a writer renaming ``.part`` to ``.jsonl`` or someone
deleting the file mid-run changes nothing. An entry that cannot be opened raises
``UnreadableEntry`` with the reason, which ingest records before it goes on with the next one.

DuckDB reads a file's lines fast as long as every line is UTF-8 text without NUL bytes and at
most ``LINE_BYTES`` long. A file that breaks that (found by a scan for NUL or by DuckDB's
error) is read through ``clean_copy`` instead: a copy with each such line blanked, and the
line with its reason, so the valid lines around it are still stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from errors import InvalidInputError
from feedback.events import FIELDS, REQUIRED
from feedback.ingest_sql import LINE_BYTES, NUMBER_FIELDS, STRING_FIELDS
from feedback.sink import DONE_SUFFIX, PART_SUFFIX, part_writer, this_host
from feedback.store import sql_literal

if TYPE_CHECKING:
    import duckdb

# A .part file whose writer process is gone (its pid is dead on this host) and that has not
# changed for this long is finished by ingest: read to the end and renamed to .jsonl.
STALE_PART_MINUTES = 10
RAW_CHARS = 2000  # characters of a rejected line kept in rejected_events.raw

TORN = "torn last line: the writer stopped mid-line"
NUL = "line contains NUL bytes (a damaged file?)"
NOT_UTF8 = "line is not valid UTF-8"
VANISHED = "gone: it was deleted or renamed while ingest ran"


class UnreadableEntry(Exception):
    """A spool entry or file ingest cannot read; the message is the reason."""


class Vanished(UnreadableEntry):
    """The entry was listed but is gone (deleted while ingest ran)."""


# --- sources ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One thing to ingest: a spool entry or a file named on the command line."""

    path: Path
    key: str  # identity across the .part → .jsonl rename
    kind: str  # jsonl | csv | parquet
    spool: bool


def spool_key(name: str) -> str | None:
    """The key of a spool entry's name (without .jsonl / .jsonl.part); None for other names."""
    for suffix in (PART_SUFFIX, DONE_SUFFIX):
        if name.endswith(suffix):
            return "spool:" + name[: -len(suffix)]
    return None


def spool_sources(spool_dir: Path) -> list[Source]:
    """Every spool entry, once per key (a finished ``.jsonl`` wins over its ``.part``)."""
    found: dict[str, Source] = {}
    # Sorted, so x.jsonl comes before x.jsonl.part: a listing that caught a rename in flight
    # sees both names, and the finished one is read.
    for path in sorted(spool_dir.glob("*")):
        key = spool_key(path.name)
        if key is not None and key not in found:
            found[key] = Source(path, key, "jsonl", True)
    return list(found.values())


def spools_sources(folders: list[Path], worker: str | None) -> list[Source]:
    """The entries of the spool folders, each key once; a worker visits them in its own order
    (so that workers over a shared folder start on different files)."""
    by_key: dict[str, Source] = {}
    for folder in folders:
        for source in spool_sources(folder):
            if source.key not in by_key or not source.path.name.endswith(".part"):
                by_key[source.key] = source
    sources = list(by_key.values())
    if worker:
        sources.sort(key=lambda s: hashlib.sha256(f"{worker}/{s.key}".encode()).digest())
    return sources


def external_source(path: Path) -> Source:
    """A file named on the command line; refuses what cannot be read before anything starts."""
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
    return Source(path.resolve(), "file:" + str(path.resolve()), kind, False)


# --- opening -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """A source opened for this run, with its size and age when it was opened."""

    source: Source  # its path is the name it was opened under (.jsonl after a rename)
    fd: int
    size: int
    mtime: float
    stale: bool  # a .part whose writer is gone: read to the end, then finish it

    @property
    def read_path(self) -> str:
        """The open file as a path (any reader sees this file, whatever its name is now)."""
        return f"/dev/fd/{self.fd}"

    @property
    def is_part(self) -> bool:
        return self.source.path.name.endswith(PART_SUFFIX)


@contextlib.contextmanager
def open_source(source: Source) -> Iterator[Opened]:
    """Open ``source`` for reading; raises ``UnreadableEntry`` with the reason if it cannot be.

    A listed ``.part`` that is gone was renamed by its writer: it is opened as ``.jsonl``.
    """
    try:
        fd = _open(source.path)
    except FileNotFoundError:
        if not (source.spool and source.path.name.endswith(PART_SUFFIX)):
            raise Vanished(VANISHED) from None
        done = source.path.with_name(source.path.name[: -len(PART_SUFFIX)] + DONE_SUFFIX)
        try:
            fd = _open(done)
        except FileNotFoundError:
            raise Vanished(VANISHED) from None
        source = replace(source, path=done)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableEntry("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableEntry("is not a regular file (a pipe, socket or device)")
        opened = Opened(source, fd, info.st_size, info.st_mtime, False)
        yield replace(opened, stale=writer_gone(opened))
    finally:
        os.close(fd)


def _open(path: Path) -> int:
    # O_NONBLOCK: opening a named pipe would otherwise wait for a writer, forever.
    try:
        return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError:
        raise UnreadableEntry("cannot be read: permission denied") from None
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnreadableEntry(f"cannot be read: {exc.strerror or exc}") from None


def writer_gone(opened: Opened) -> bool:
    """Whether a ``.part`` is stale: its writer's pid is dead on this host and it is idle."""
    writer = part_writer(opened.source.path.name) if opened.is_part else None
    if writer is None or writer[0] != this_host():
        return False  # not ours to judge: another host's writer, or a name we did not make
    if time.time() - opened.mtime < STALE_PART_MINUTES * 60:
        return False
    return not _alive(writer[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OverflowError:
        return False
    return True


# --- bytes ---------------------------------------------------------------------------------------


def last_newline(opened: Opened, start: int, end: int) -> int:
    """Offset just past the last newline in [start, end), or ``start`` if there is none."""
    if end <= start:
        return start
    with mmap.mmap(opened.fd, end, access=mmap.ACCESS_READ) as data:
        cut = data.rfind(b"\n", start, end)
    return cut + 1 if cut >= 0 else start


def has_nul(opened: Opened, start: int, end: int) -> bool:
    """Whether bytes [start, end) hold a NUL byte (the CSV reader would cut the line there)."""
    if end <= start:
        return False
    with mmap.mmap(opened.fd, end, access=mmap.ACCESS_READ) as data:
        return data.find(b"\0", start, end) >= 0


def copy_slice(opened: Opened, start: int, end: int, out: Path) -> Path:
    """Bytes [start, end) of the open file as a file of their own."""
    with open(opened.read_path, "rb") as src, open(out, "wb") as dst:
        src.seek(start)
        left = end - start
        while left > 0:
            chunk = src.read(min(left, 16 * 1024 * 1024))
            if not chunk:
                break
            dst.write(chunk)
            left -= len(chunk)
    return out


@dataclass(frozen=True)
class BadLine:
    """A line DuckDB cannot read, blanked in the copy: where, what it said, and why."""

    index: int  # 1-based within the slice
    raw: str
    reason: str


def clean_copy(opened: Opened, start: int, end: int, out: Path, *, torn: bool) -> list[BadLine]:
    """Copy bytes [start, end) line by line, blanking each line DuckDB cannot read.

    Blanked: lines with NUL bytes, longer than ``LINE_BYTES`` (read in pieces, never whole),
    not UTF-8, and with ``torn`` the last line when it has no newline. Blank lines keep the
    numbering of the others. A Python loop per line, so only for files that need it.
    """
    bad: list[BadLine] = []
    with open(opened.read_path, "rb") as src, open(out, "wb") as dst:
        src.seek(start)
        left, index = end - start, 0
        while left > 0:
            index += 1
            line = src.readline(min(left, LINE_BYTES + 1))
            left -= len(line)
            size, ended = len(line), line.endswith(b"\n")
            while not ended and left > 0 and size > LINE_BYTES:  # skip the rest of a huge line
                more = src.readline(min(left, 1024 * 1024))
                left, size, ended = left - len(more), size + len(more), more.endswith(b"\n")
            reason = _problem(line, size, torn and not ended and left == 0)
            if reason is None:
                dst.write(line)
            else:
                bad.append(BadLine(index, _raw(line), reason))
                dst.write(b"\n")
    return bad


def _problem(line: bytes, size: int, torn: bool) -> str | None:
    if torn:
        return TORN
    if size > LINE_BYTES:
        return f"line is {size:,} bytes long, far longer than any event (limit {LINE_BYTES:,})"
    if b"\0" in line:
        return NUL
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    return None


def _raw(line: bytes) -> str:
    text = line[: RAW_CHARS * 4].decode("utf-8", errors="replace").rstrip("\r\n")
    return text.replace("\0", "\\x00")[:RAW_CHARS]


# --- CSV and Parquet -----------------------------------------------------------------------------


def csv_rows_problem(path: Path) -> str | None:
    """Why a CSV file has nothing to import (empty, or a header only); None when it has rows."""
    lines = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip(b" \t\r\n\x00").removeprefix(b"\xef\xbb\xbf").strip():
                lines += 1
                if lines == 2:
                    return None
    if lines == 0:
        return f"{path} is empty: there is nothing to import."
    return f"{path} has a header but no rows: there is nothing to import."


def lines_table(path: Path, kind: str, con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """Rows of a CSV/Parquet import as JSON lines, so they pass the same validation.

    Returns the SQL and a note (e.g. when a CSV had to be read as Latin-1). A cell's type is
    its column's: a text column of a number field becomes a number where the text is one.
    """
    p = sql_literal(str(path))
    note = ""
    if kind == "parquet":
        reader = f"read_parquet({p})"
    else:
        if problem := csv_rows_problem(path):
            raise InvalidInputError(problem)
        reader = f"read_csv({p}, all_varchar=true, header=true)"
        try:
            con.execute(f"SELECT count(*) FROM {reader}")
        except Exception as exc:  # noqa: BLE001 - DuckDB raises several types for this
            if not is_encoding_error(exc):
                raise InvalidInputError(f"{path}: cannot read as CSV: {exc}") from exc
            reader = f"read_csv({p}, all_varchar=true, header=true, encoding='latin-1')"
            note = "not UTF-8; read as Latin-1 (Windows/Excel export?)"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except Exception as exc:  # noqa: BLE001
        raise InvalidInputError(f"{path}: cannot read as {kind.upper()}: {exc}") from exc
    columns = {row[0]: row[1] for row in described}
    _check_columns(path, list(columns))
    replaced = [_as_contract(c, t) for c, t in columns.items()]
    select = "*"
    if any(replaced):
        select = "* REPLACE (" + ", ".join(r for r in replaced if r) + ")"
    return f"SELECT to_json(t)::VARCHAR AS line FROM (SELECT {select} FROM {reader}) t", note


def _check_columns(path: Path, columns: list[str]) -> None:
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


def _as_contract(column: str, type_: str) -> str:
    """A column in the JSON type the contract wants, or "" when it has it already."""
    c = f'"{column}"'
    if column == "props":
        return f"TRY_CAST({c} AS JSON) AS {c}"
    if column in NUMBER_FIELDS and type_ == "VARCHAR":
        number = f"CASE WHEN TRY_CAST({c} AS DOUBLE) IS NOT NULL THEN TRY_CAST({c} AS JSON) END"
        return f"coalesce({number}, to_json({c})) AS {c}"
    if column in STRING_FIELDS and type_ != "VARCHAR":
        return f"CAST({c} AS VARCHAR) AS {c}"
    return ""


def is_encoding_error(exc: Exception) -> bool:
    """Whether a DuckDB error says the bytes are not the expected encoding."""
    text = str(exc).lower()
    return "unicode" in text or "utf-8" in text or "utf8" in text
