"""Which experiment a visit belongs to and which variant it gets: the same in every process.

A session's variant is a pure function of ``(experiment_id, session_id, allocation)``:
``sha256(f"{experiment_id}:{session_id}")``'s first 8 bytes as an integer / 2⁶⁴ gives a
uniform number u in [0, 1), and u is placed on the cumulative allocation in the order the
variants are listed. ``assign_many`` is the same function vectorised for the simulator.

Which experiment runs a prototype (``experiment_for``) and which of its arms a visit in a store
belongs to (``arm_for``) is decided here and only here; the prototype runtime asks these
functions and never reads experiment specs itself. Imports nothing heavy at module level (the
prototype runtime imports it); the experiment specs are read through ``experiments.spec`` on use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from errors import StorelabError

if TYPE_CHECKING:
    from experiments.spec import ExperimentSpec
    from lab import Lab

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


# --- which experiment and arm a visit belongs to ----------------------------------------------


@dataclass(frozen=True)
class Arm:
    """The experiment arm one visit belongs to."""

    experiment: ExperimentSpec
    name: str
    """The arm (variant) name written to events."""
    assignment: str
    """How it was chosen: ``store`` (unit=store), ``session`` (hash), ``forced`` (by name) or
    ``journey`` (the arm of the journey a handover continues, ``journey_arm``)."""


def experiments_on(lab: Lab, prototype_id: str) -> list[ExperimentSpec]:
    """The lab's experiments on this prototype, in id order.

    Unreadable experiment files are skipped (the CLI reports them; a kiosk must keep running).
    """
    from experiments.spec import list_experiments, load_experiment

    found = []
    for exp_id in list_experiments(lab):
        try:
            spec = load_experiment(lab, exp_id)
        except StorelabError:
            continue
        if spec.prototype == prototype_id:
            found.append(spec)
    return found


def experiment_for(
    lab: Lab, prototype_id: str, today: dt.date | None = None
) -> ExperimentSpec | None:
    """The experiment that runs this prototype: one running today first, else the latest start."""
    found = experiments_on(lab, prototype_id)
    if not found:
        return None
    day = today or dt.date.today()
    running = [s for s in found if s.start <= day <= s.end]
    return max(running or found, key=lambda s: (s.start, s.id))


def arm_for(
    lab: Lab,
    prototype_id: str,
    store_id: str,
    session_id: object,
    variant: str = "auto",
    *,
    today: dt.date | None = None,
) -> Arm | None:
    """Which experiment and arm a visit of prototype P in store S belongs to (None: none).

    ``variant="auto"``: the prototype's experiment decides (unit=store: the store's arm, None
    for a store outside it; unit=session: ``assign_variant(experiment, session_id,
    allocation)``). ``variant=NAME``: that arm of the experiment (``forced``), None when the
    experiment has no arm of that name.
    """
    exp = experiment_for(lab, prototype_id, today)
    if exp is None:
        return None
    if variant != "auto":
        return Arm(exp, variant, "forced") if variant in exp.variants else None
    if exp.unit == "store":
        name = variant_for_store(exp, store_id)
        return Arm(exp, name, "store") if name else None
    return Arm(exp, assign_variant(exp.id, session_id, exp.allocation), "session")


def journey_arm(
    lab: Lab,
    prototype_id: str,
    experiment_id: str | None,
    variant: str | None,
    *,
    today: dt.date | None = None,
) -> Arm | None:
    """The arm a journey handed to another device continues in (sticky bucketing): arm
    ``variant`` of ``experiment_id``, recorded with ``assignment="journey"``, while that
    experiment still runs this prototype and still has that arm; None otherwise (the spec
    changed between the two devices: the receiving session is assigned afresh)."""
    exp = experiment_for(lab, prototype_id, today)
    if exp is None or exp.id != experiment_id or variant not in exp.variants:
        return None
    return Arm(exp, variant, "journey")
