"""Which persona and context slices an experiment's sessions recorded at all.

Each slice is one more grouping set over every counted session's wide row: the persona and
five context variables cost about as much again as the slices before them, and most
prototypes declare none of them. One look at the experiment's ``session_start`` props (only
those that name a persona or a context are parsed) says which ones any session recorded; the
read-out groups by those alone (``experiments.slice_statistics.statistics_with_slices``'s ``dims``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.metrics import SLICE_DIMENSIONS, START_FACTS, execute
from feedback.events import CONTEXT_PROP, PERSONA_PROP

if TYPE_CHECKING:
    import duckdb

    from experiments.spec import ExperimentSpec

PROFILE_FACTS = {k: v for k, v in START_FACTS.items() if k != "locale"}


def recorded_dimensions(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> tuple[str, ...]:
    """``SLICE_DIMENSIONS`` without the persona and context variables no session of ``spec``
    recorded on its ``session_start``."""
    seen = ", ".join(
        f"bool_or(json_extract_string(props, '{path}') IS NOT NULL)"
        for path in PROFILE_FACTS.values()
    )
    text = "CAST(props AS VARCHAR)"
    (row,) = execute(
        con,
        f"""SELECT {seen} FROM events
            WHERE experiment_id = $experiment_id AND type = 'session_start'
              AND (contains({text}, '"{PERSONA_PROP}"') OR contains({text}, '"{CONTEXT_PROP}"'))""",
        {"experiment_id": spec.id},
    )
    present = {name for name, hit in zip(PROFILE_FACTS, row, strict=True) if hit}
    return tuple(d for d in SLICE_DIMENSIONS if d not in PROFILE_FACTS or d in present)


__all__ = ["recorded_dimensions"]
