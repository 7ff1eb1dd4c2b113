"""Which variant a session or store gets: deterministic, the same in every process.

A session's variant is a pure function of ``(experiment_id, session_id, allocation)``:
``sha256(f"{experiment_id}:{session_id}")``'s first 8 bytes as an integer / 2⁶⁴ gives a
uniform number u in [0, 1), and u is placed on the cumulative allocation in the order the
variants are listed. ``assign_many`` is the same function vectorised for the simulator.
Imports nothing heavy at module level (the prototype runtime imports it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from experiments.spec import ExperimentSpec

_SCALE = float(2**64)


def bucket(experiment_id: str, session_id: object) -> float:
    """Uniform number in [0, 1) from the hash of ``experiment_id:session_id``."""
    digest = hashlib.sha256(f"{experiment_id}:{session_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def _cumulative(allocation: Mapping[str, float]) -> tuple[list[str], list[float]]:
    names = list(allocation)
    if not names:
        raise ValueError("allocation is empty")
    total = float(sum(allocation.values()))
    if total <= 0 or any(v < 0 for v in allocation.values()):
        raise ValueError("allocation shares must be >= 0 and not all 0")
    edges, running = [], 0.0
    for name in names:
        running += allocation[name] / total
        edges.append(running)
    edges[-1] = 1.0  # no gap from rounding
    return names, edges


def assign_variant(experiment_id: str, session_id: object, allocation: Mapping[str, float]) -> str:
    """The variant of one session (stable across processes and machines)."""
    names, edges = _cumulative(allocation)
    u = bucket(experiment_id, session_id)
    for name, edge in zip(names, edges, strict=True):
        if u < edge:
            return name
    return names[-1]


def assign_many(experiment_id: str, session_ids: Sequence[object], allocation: Mapping[str, float]):
    """``assign_variant`` for many sessions at once; returns a numpy array of variant names."""
    import numpy as np

    names, edges = _cumulative(allocation)
    u = np.fromiter(
        (bucket(experiment_id, s) for s in session_ids), dtype=float, count=len(session_ids)
    )
    idx = np.searchsorted(np.asarray(edges), u, side="right")
    return np.asarray(names, dtype=object)[np.minimum(idx, len(names) - 1)]


def variant_for_store(spec: ExperimentSpec, store_id: str) -> str | None:
    """unit=store: the variant the store runs (None if it is not in the experiment).

    unit=session: None, because every store runs every variant (use ``assign_variant``).
    """
    return spec.store_variants.get(store_id)
