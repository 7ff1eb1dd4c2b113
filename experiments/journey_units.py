"""A journey across devices as one experiment unit: the ``ev`` CTE of the metric SQL.

A session that continued a journey (the event that took it: a ``?journey=`` ``session_start``
or the keypad's tap) adds its events from that point to the journey's first session, whose arm
was drawn (docs/architecture.md, "A journey keeps its experiment arm across devices"), unless
its arm was gone (``journey_arm: gone``: assigned afresh, a unit of its own). Written before
sticky arms (no ``journey_arm``), a journey whose two sessions got different arms shows two
variants and is dropped, never counted in both. Only the props of events that name a journey
are parsed.

Most experiments have no journeys, and joining every event to an empty ``journeys`` table
still costs a fifth of the query on 10M events; ``has_journeys`` (one narrow scan of the
session starts and taps, about 0.05 s there) lets ``experiments.metrics`` use the plain ``ev``
then. Spark always runs the journey form (``journeys=True``): the same numbers either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedback.events import ARM_GONE, JOURNEY_ARM_PROP, JOURNEY_PROP
from feedback.store import sql_literal

if TYPE_CHECKING:
    import duckdb

_COLUMNS = 'ts, variant, store_id, device, type, screen, element, task, question, "value", props'
_TAKEN = f"""experiment_id = $experiment_id AND type IN ('session_start', 'tap')
      AND contains(CAST(props AS VARCHAR), '"{JOURNEY_PROP}"')
      AND json_extract_string(props, '$.{JOURNEY_PROP}') IS NOT NULL
      AND json_extract_string(props, '$.{JOURNEY_ARM_PROP}') IS DISTINCT FROM '{ARM_GONE}'"""

PLAIN_EV = f"""ev AS NOT MATERIALIZED (
    SELECT session_id, {_COLUMNS}
    FROM events
    WHERE experiment_id = $experiment_id
)"""

JOURNEY_EV = f"""journeys AS MATERIALIZED (
    SELECT session_id, min(ts) AS _joined,
           TRY_CAST(arg_min(json_extract_string(props, '$.{JOURNEY_PROP}'), ts) AS UUID)
               AS _journey
    FROM events
    WHERE {_TAKEN}
    GROUP BY session_id
),
ev AS NOT MATERIALIZED (
    SELECT coalesce(j._journey, e.session_id) AS session_id, {_COLUMNS}
    FROM events e LEFT JOIN journeys j ON e.session_id = j.session_id
    WHERE experiment_id = $experiment_id AND (j._joined IS NULL OR ts >= j._joined)
)"""


def ev_sql(journeys: bool = True) -> str:
    """The ``ev`` CTE (with ``journeys`` before it when asked): the experiment's events, each
    under its unit's id."""
    return JOURNEY_EV if journeys else PLAIN_EV


def has_journeys(con: duckdb.DuckDBPyConnection, experiment_id: str) -> bool:
    """Whether any session of the experiment took a journey from another device."""
    sql = f"SELECT EXISTS (SELECT 1 FROM events WHERE {_TAKEN})".replace(
        "$experiment_id", sql_literal(experiment_id)
    )
    return bool(con.execute(sql).fetchone()[0])


__all__ = ["JOURNEY_EV", "PLAIN_EV", "ev_sql", "has_journeys"]
