"""Who may write the store at a time: the writer lock.

With the lab's DuckDB file there is one writer at a time per lab: ingest and the KPI import
take ``.ingest.lock`` in the spool folder, and the next one waits. In a DuckLake
(``[storage] kind = "ducklake"``) many workers write at once; each worker name has its own lock
(``.ingest.<worker>.lock``), so one worker never runs twice, and the lake's commits keep the
workers apart (``feedback.lake.catalog.write_transaction``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from errors import DatabaseBusyError, InvalidInputError
from feedback.events import writer_id

if TYPE_CHECKING:
    from lab import Lab

# How long an ingest waits for another one (cron, the dashboard's button) to finish.
LOCK_WAIT_SECONDS = 60.0
LOCK_FILE = ".ingest.lock"  # in the spool folder (not in the lab's git)
WORKER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_worker(worker: str | None) -> None:
    """A worker name is a short word (letters, digits, ``_.-``): it names a lock file."""
    if worker is not None and not WORKER_NAME.match(worker):
        raise InvalidInputError(
            f"--worker {worker!r}: use up to 64 letters, digits, '_', '.' or '-' "
            "(starting with a letter or digit), e.g. the host's name."
        )


@contextlib.contextmanager
def writer_lock(lab: Lab, worker: str | None = None) -> Iterator[None]:
    """Hold the writer lock: one ingest or KPI import at a time, the next one waits.

    In a lake only the same ``worker`` waits for itself. A ``flock`` on a file in the spool
    folder: released when the process ends, however it ends, and it also keeps apart two
    threads of one process (two dashboard sessions). After ``LOCK_WAIT_SECONDS`` the waiting
    one gives up with a ``DatabaseBusyError``.
    """
    check_worker(worker)
    lake = lab.config.storage.kind == "ducklake"
    name = f".ingest.{worker or 'default'}.lock" if lake else LOCK_FILE
    path = lab.spool_dir / name
    try:
        lab.spool_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise InvalidInputError(
            f"Cannot create {path} ({exc.strerror or exc}): ingest needs a spool folder it "
            "can write in."
        ) from None
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                    raise DatabaseBusyError(
                        f"Another ingest is still running ({holder or 'unknown process'}); "
                        f"waited {LOCK_WAIT_SECONDS:.0f} s. It goes on by itself: try again "
                        "once it has finished."
                    ) from None
                time.sleep(0.1)
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {writer_id()}, since {since}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
