"""The suite's fixtures: a fresh lab, and one with ingested events. Helpers live in
``tests/fixtures.py`` and are imported from there (``from tests.fixtures import …``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import Lab
from tests.fixtures import add_events, new_lab

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """A freshly initialised, empty lab; STORELAB_LAB is cleared so discovery is explicit."""
    monkeypatch.delenv("STORELAB_LAB", raising=False)
    return new_lab(tmp_path / "lab")


@pytest.fixture
def lab_with_events(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """``lab`` with 8 ingested sessions (48 events), the scan-and-discover prototype and the
    store experiment scan-pos-v2; STORELAB_LAB points at it (the dashboard reads it)."""
    monkeypatch.setenv("STORELAB_LAB", str(lab.root))
    return add_events(lab, 8)
