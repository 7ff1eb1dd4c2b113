"""The SQL of the insights room: every query over ``events`` that ``insights`` runs.

One place, in sections; each section says which module calls it. Values are bound as
parameters (``$name``; NULL = no filter), never pasted into SQL text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feedback.events import team_event_sql

if TYPE_CHECKING:
    import duckdb

# === tap maps (insights.tapmaps) ===============================================================
#
# Taps and misclicks with a position, as the runtime writes them (``prototypes.runtime.taps``:
# x, y are shares of the browser viewport; a tap without a browser has none and is left out).
# Sessions the team ran (preview, "try it": ``feedback.events.TEAM_FLAGS``) never count, as in
# ``experiments.metrics``. The density is binned here (``bins`` × ``bins`` cells over the unit
# square, cell = floor(share · bins), 1.0 in the last cell), so Python sees cells, not events;
# the points drawn are a deterministic sample of at most ``$limit`` per screen and kind.

_TAP_EVENTS = f"""
WITH team AS (
    SELECT DISTINCT session_id FROM events
    WHERE prototype_id = $prototype AND {team_event_sql()} IS TRUE
),
pts AS (
    SELECT event_id, device, screen, type, x, y
    FROM events
    WHERE prototype_id = $prototype AND prototype_version = $version
      AND type IN ('tap', 'misclick') AND x IS NOT NULL AND y IS NOT NULL
      AND screen IS NOT NULL
      AND ($variant IS NULL OR variant = $variant)
      AND ($store IS NULL OR store_id = $store)
      AND ($device IS NULL OR device = $device)
      AND ($screen IS NULL OR screen = $screen)
      AND session_id NOT IN (SELECT session_id FROM team)
)
"""

TAP_CELLS_SQL = (
    _TAP_EVENTS
    + """
SELECT device, screen, type,
       least(CAST(floor(x * $bins) AS INTEGER), $bins - 1) AS ix,
       least(CAST(floor(y * $bins) AS INTEGER), $bins - 1) AS iy,
       count(*) AS n
FROM pts
GROUP BY ALL
ORDER BY device, screen, type, iy, ix
"""
)

TAP_SAMPLE_SQL = (
    _TAP_EVENTS
    + """
SELECT device, screen, type, x, y
FROM pts
QUALIFY row_number() OVER (PARTITION BY device, screen, type ORDER BY hash(event_id)) <= $limit
ORDER BY device, screen, type, hash(event_id)
"""
)

# What the pickers offer: versions, devices, screens, variants and stores with positioned taps.
TAP_OPTIONS_SQL = f"""
SELECT prototype_version AS version, device, screen, variant, store_id, count(*) AS n
FROM events
WHERE prototype_id = $prototype AND type IN ('tap', 'misclick')
  AND x IS NOT NULL AND y IS NOT NULL AND screen IS NOT NULL
  AND session_id NOT IN (
      SELECT DISTINCT session_id FROM events
      WHERE prototype_id = $prototype AND {team_event_sql()} IS TRUE)
GROUP BY ALL
ORDER BY ALL
"""


def tap_cells(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[tuple]:
    """(device, screen, type, ix, iy, n) per non-empty density cell (``TAP_CELLS_SQL``)."""
    return con.execute(TAP_CELLS_SQL, _tap_params(params, "bins")).fetchall()


def tap_sample(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[tuple]:
    """(device, screen, type, x, y): at most ``limit`` points per screen and kind."""
    return con.execute(TAP_SAMPLE_SQL, _tap_params(params, "limit")).fetchall()


def tap_options(con: duckdb.DuckDBPyConnection, prototype: str) -> list[tuple]:
    """(version, device, screen, variant, store_id, n): where counted positioned taps exist."""
    return con.execute(TAP_OPTIONS_SQL, {"prototype": prototype}).fetchall()


def _tap_params(params: dict[str, Any], extra: str) -> dict[str, Any]:
    names = ("prototype", "version", "variant", "store", "device", "screen", extra)
    return {name: params.get(name) for name in names}
