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


# --- lake mode: one PostgreSQL for the session, a fresh catalog database per test -----------

REQUIRE_LAKE = "STORELAB_REQUIRE_LAKE"  # CI sets it: missing PostgreSQL fails instead of skipping


@pytest.fixture(scope="session")
def pg_catalog():
    """A throwaway PostgreSQL (Debian's binaries) started with the same library function as
    ``storelab lake up``; skipped with the reason when the binaries are missing."""
    import os
    import shutil
    import tempfile

    from errors import InvalidInputError
    from feedback.lake import server

    try:
        server.pg_bin()
    except InvalidInputError as exc:
        if os.environ.get(REQUIRE_LAKE):
            raise
        pytest.skip(f"lake tests need PostgreSQL: {exc}")
    folder = Path(tempfile.mkdtemp(prefix="storelab-pg-"))
    folder.chmod(0o755)  # under root the server runs as the postgres user
    catalog = server.start(folder / "catalog")
    yield catalog
    server.stop(catalog.folder, throwaway=True)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def lake_lab(lab: Lab, pg_catalog, request: pytest.FixtureRequest) -> Lab:
    """``lab`` switched to lake mode, with its own empty catalog database."""
    import uuid

    from feedback.lake.server import create_database
    from lab import StorageSection, write_storage

    url = create_database(pg_catalog, f"t_{uuid.uuid4().hex[:12]}")
    write_storage(lab, StorageSection(kind="ducklake", catalog=url, data_path="lake"))
    return lab
