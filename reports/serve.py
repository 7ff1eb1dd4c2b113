"""Start the analyst dashboard: ``python -m streamlit run reports/app.py`` for one lab.

``storelab dashboard`` and ``storelab demo`` both call ``serve_dashboard``; it blocks until the
server stops (Ctrl-C) and returns the server's exit code.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab import Lab

APP = Path(__file__).resolve().parent / "app.py"
REPO_ROOT = APP.parents[1]


def dashboard_command(port: int) -> list[str]:
    """The command line that runs the dashboard server on ``port``."""
    from prototypes.runtime.launch import streamlit_command

    return streamlit_command(port, APP, toolbar="viewer")


def dashboard_env(lab: Lab, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """This process' environment plus ``STORELAB_LAB`` and the code's folder on PYTHONPATH."""
    env = dict(os.environ)
    env["STORELAB_LAB"] = str(lab.root)
    paths = [str(REPO_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.update(extra_env or {})
    return env


def dashboard_url(lab: Lab, port: int, host: str = "localhost") -> str:
    """The address to open, with the lab's access token."""
    from urllib.parse import quote

    return f"http://{host}:{port}/?token={quote(lab.config.dashboard.token, safe='')}"


def serve_dashboard(lab: Lab, port: int = 8501, extra_env: dict[str, str] | None = None) -> int:
    """Run the dashboard for ``lab`` on ``port`` until it stops; returns its exit code."""
    from prototypes.runtime.launch import serve_until_stopped

    proc = subprocess.Popen(
        dashboard_command(port), env=dashboard_env(lab, extra_env), start_new_session=True
    )
    return serve_until_stopped(proc)
