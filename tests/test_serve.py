"""Server commands stop their Streamlit server when they are stopped, however that happens."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from prototypes.scaffold import new_prototype
from tests.fixtures import ROOT, free_port, server_healthy, wait_healthy


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.parametrize("command", ["prototype-run", "dashboard"])
def test_sigterm_to_the_cli_stops_the_streamlit_server(lab, command):
    """A kiosk supervisor (systemd, a script, `timeout`) stops storelab with SIGTERM; the
    server must not be left behind holding the port."""
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = {
        "prototype-run": ["prototype", "run", "scan-and-discover", "--port", str(port)],
        "dashboard": ["dashboard", "--port", str(port)],
    }[command]
    cli = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), *args, "--lab", str(lab.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(url, cli)
        cli.send_signal(signal.SIGTERM)
        cli.wait(timeout=30)
        assert wait_until(lambda: not server_healthy(url), 20), "the server outlived the CLI"
    finally:
        if cli.poll() is None:
            cli.kill()
