"""A local PostgreSQL for a lake's catalog: initdb in a folder of the lab, run it on loopback.

Debian's binaries (``/usr/lib/postgresql/<version>/bin``, or ``$STORELAB_PG_BIN``) do the work;
storelab only calls them. The server listens on 127.0.0.1 only, with ``trust`` authentication
for the one role ``storelab``: a development and test catalog, not a production one (there,
``[storage] catalog`` names the retailer's PostgreSQL). PostgreSQL refuses to run as root, so
under root (CI containers) the folder is given to the ``postgres`` system user and the
binaries run as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from errors import InvalidInputError

ROLE = "storelab"
DATABASE = "storelab"
PG_BIN_ENV = "STORELAB_PG_BIN"
START_TIMEOUT_S = 30


@dataclass(frozen=True)
class Catalog:
    """A running local catalog server: its folder and port."""

    folder: Path
    port: int

    def url(self, database: str = DATABASE) -> str:
        """The ``postgresql://`` URL of one of its databases (what storelab.toml names)."""
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"


def pg_bin() -> Path:
    """The folder of Debian's PostgreSQL binaries (newest version), or a clear error."""
    given = os.environ.get(PG_BIN_ENV)
    candidates = [Path(given)] if given else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    if on_path := shutil.which("initdb"):
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise InvalidInputError(
        "PostgreSQL's server binaries were not found (initdb, pg_ctl). Install them with "
        f"`apt-get install postgresql`, or set {PG_BIN_ENV} to their folder."
    )


def _run_as() -> dict:
    """subprocess arguments that run a binary as a non-root user when we are root."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    raise InvalidInputError("PostgreSQL cannot run as root and there is no 'postgres' user.")


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, **_run_as(), **kwargs)
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).split())[-400:]
        raise InvalidInputError(f"{Path(args[0]).name} failed: {tail}")
    return done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _give_to_runner(folder: Path) -> None:
    """Under root, the server's folder belongs to the user the binaries run as."""
    run_as = _run_as()
    if run_as:
        for path in (folder, *folder.rglob("*")):
            os.chown(path, run_as["user"], run_as["group"])


def start(folder: Path, port: int | None = None) -> Catalog:
    """Initialise (once) and start a PostgreSQL in ``folder``; returns it when it accepts
    connections. Starting a running one returns it as it is."""
    folder = Path(folder).resolve()
    data = folder / "pgdata"
    port_file = folder / "port"
    if (running := status(folder)) is not None:
        return running
    bin_ = pg_bin()
    folder.mkdir(parents=True, exist_ok=True)
    fresh = not (data / "PG_VERSION").exists()
    if fresh:
        _give_to_runner(folder)
        _run([str(bin_ / "initdb"), "-D", str(data), "-U", ROLE, "--auth=trust", "-E", "UTF8",
              "--no-instructions"])  # fmt: skip
    port = port or (int(port_file.read_text()) if port_file.exists() else _free_port())
    port_file.write_text(str(port))
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    _give_to_runner(folder)
    _run([str(bin_ / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"),
          "-w", "-t", str(START_TIMEOUT_S), "start"])  # fmt: skip
    catalog = Catalog(folder, port)
    if fresh:
        create_database(catalog, DATABASE)
    return catalog


def stop(folder: Path, *, throwaway: bool = False) -> bool:
    """Stop the PostgreSQL in ``folder``; False when none was running. ``throwaway`` (tests)
    skips the shutdown checkpoint: the folder is deleted next."""
    folder = Path(folder).resolve()
    if status(folder) is None:
        return False
    mode = "immediate" if throwaway else "fast"
    _run([str(pg_bin() / "pg_ctl"), "-D", str(folder / "pgdata"), "-m", mode, "-w", "stop"])
    return True


def status(folder: Path) -> Catalog | None:
    """The server running in ``folder``, or None."""
    folder = Path(folder).resolve()
    pid_file = folder / "pgdata" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        port = int((folder / "port").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return Catalog(folder, port)


def create_database(catalog: Catalog, name: str) -> str:
    """Create an empty database on the server (a lab's catalog, a test's); returns its URL."""
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with psycopg.connect(catalog.url("postgres"), autocommit=True) as con:
                con.execute(f'CREATE DATABASE "{name}"')
            return catalog.url(name)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
