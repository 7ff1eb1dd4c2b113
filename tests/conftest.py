"""Fixtures shared by the whole suite: fresh labs and well-formed events."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from feedback.events import Event
from lab import Lab
from tests.fixtures import new_lab

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """A freshly initialised, empty lab; STORELAB_LAB is cleared so discovery is explicit."""
    monkeypatch.delenv("STORELAB_LAB", raising=False)
    return new_lab(tmp_path / "lab")


def make_event(**overrides) -> dict:
    """A valid contract event as a JSON-ready dict; ``overrides`` replace or add fields."""
    base = Event(
        session_id=uuid.uuid4(),
        prototype_id="scan-and-discover",
        prototype_version=1,
        variant="control",
        store_id="S01",
        device="kiosk",
        type="tap",
        screen="home",
        element="btn-sizes",
        x=0.4,
        y=0.7,
    )
    data = json.loads(base.to_json())
    data.update(overrides)
    return data


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    """Write rows (dicts as JSON, strings verbatim) one per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_healthy(url: str) -> bool:
    """Whether a Streamlit server at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.read().decode().strip() == "ok"
    except OSError:
        return False


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    """Wait until the server ``proc`` started answers at ``url``; fail early if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode} before it was healthy")
        if server_healthy(url):
            return
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer ok on {url}/_stcore/health in {timeout:.0f}s")
