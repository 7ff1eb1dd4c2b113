"""Fixtures shared by the whole suite: fresh labs and well-formed events."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from feedback.events import Event
from lab import Lab, init_lab

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """A freshly initialised, empty lab; STORELAB_LAB is cleared so discovery is explicit."""
    monkeypatch.delenv("STORELAB_LAB", raising=False)
    return init_lab(tmp_path / "lab")


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
