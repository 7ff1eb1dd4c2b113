"""What every runtime page looks up: the lab, its prototypes and its stores, cached per server.

The runtime's pages (``play``, ``gallery``) and the analyst dashboard that mounts them share
these. Prototypes come from ``prototypes.library`` and stores from ``lab.lab_stores``; the
caches only keep them until their file changes (the team edits a spec while previewing it).
"""

from __future__ import annotations

import streamlit as st

from errors import StorelabError
from lab import Lab, find_lab, lab_stores
from prototypes.library import load_lab_prototype, prototype_file
from prototypes.spec import Prototype

STANDALONE = "sl_standalone"
"""Session-state flag: the runtime serves its pages itself (not mounted in the dashboard)."""


def current_lab() -> Lab:
    """The lab from ``STORELAB_LAB`` (or the folder walk), raising ``StorelabError``."""
    return find_lab()


@st.cache_resource(show_spinner=False, max_entries=32)
def _prototype(_lab: Lab, root: str, prototype_id: str, mtime_ns: int) -> Prototype:
    return load_lab_prototype(_lab, prototype_id)


def cached_prototype(lab: Lab, prototype_id: str) -> Prototype:
    """The lab's prototype, re-read when its file changes (``UnknownPrototypeError``,
    ``SpecError`` as ``prototypes.library.load_lab_prototype`` raises them)."""
    path = prototype_file(lab, prototype_id)
    return _prototype(lab, str(lab.root), prototype_id, path.stat().st_mtime_ns)


@st.cache_data(show_spinner=False, ttl=60)
def _store_rows(_lab: Lab, path: str, mtime_ns: int) -> dict[str, dict[str, str]]:
    return {
        sid: {"store_id": sid, "name": s.name, "city": s.city}
        for sid, s in lab_stores(_lab).items()
    }


def store_rows(lab: Lab) -> dict[str, dict[str, str]]:
    """store_id -> {store_id, name, city}; empty when the lab has no readable stores.csv.

    These three are what a spec text's ``{{store.…}}`` placeholders can name.
    """
    path = lab.stores_csv
    if not path.is_file():
        return {}
    try:
        return _store_rows(lab, str(path), path.stat().st_mtime_ns)
    except StorelabError:
        return {}


__all__ = [
    "STANDALONE",
    "cached_prototype",
    "current_lab",
    "store_rows",
]
