"""Slices of the analysis' own statistics: per variant, store and one segment (local day,
device, locale, persona, context variable), for results over time and breakdowns.

``statistics_with_slices`` runs the one query of ``experiments.metrics`` with its grouping
sets for the slices (``sufficient_statistics_sql(..., slices=True)``), and
``metrics.read_statistics`` fills a ``SliceData`` next to the ``MetricData``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from experiments.journey_units import has_journeys
from experiments.measures import catalogue_for
from experiments.metrics import (
    SESSIONS,
    SLICE_DIMENSIONS,
    MetricData,
    execute,
    query_parameters,
    read_statistics,
    sufficient_statistics_sql,
)
from experiments.statistics import Statistic

if TYPE_CHECKING:
    import duckdb

    from experiments.spec import ExperimentSpec


def statistics_with_slices(
    con: duckdb.DuckDBPyConnection, spec: ExperimentSpec, time_zone: str = "UTC", dims=None
) -> tuple[MetricData, SliceData]:
    """``sufficient_statistics`` and, from the same query, the ``SliceData`` of the spec's
    metrics (``dims``, default all): days are local days in ``time_zone`` (an IANA name)."""
    params = {**query_parameters(spec), "time_zone": time_zone}
    catalogue = catalogue_for(spec)
    journeys = has_journeys(con, spec.id)
    sql = sufficient_statistics_sql(catalogue, slices=True, dims=dims, journeys=journeys)
    rows = execute(con, sql, params)
    keep = {m for m, _role in spec.metric_roles()} | {SESSIONS}
    return read_statistics(rows, SliceData(time_zone), keep, catalogue)


SliceKey = tuple[str, str, object]  # (variant, store, the value of one SLICE_DIMENSIONS)


@dataclass
class SliceData:
    """Sufficient statistics per (variant, store, segment value) for each slice dimension.

    ``cells[dimension][(variant, store, value)][metric]``; the pseudo-metric ``SESSIONS`` holds
    the counted sessions. ``value`` is a ``date`` for ``day`` and a string or None otherwise.
    """

    time_zone: str
    cells: dict[str, dict[SliceKey, dict[str, Statistic]]] = field(
        default_factory=lambda: {d: {} for d in SLICE_DIMENSIONS}
    )

    def metric_data(self, dimension: str, keep) -> MetricData:
        """The ``MetricData`` of the cells of ``dimension`` whose key ``keep(key)`` accepts:
        per variant and per store, summed over the kept cells (what ``analysis`` reads)."""
        data = MetricData()
        for key, stats in self.cells[dimension].items():
            if keep(key):
                add_cell(data, key[0], key[1], stats)
        return data


def add_cell(data: MetricData, variant: str, store: str, stats: dict) -> None:
    """Add one cell's statistics of ``variant`` in ``store`` to ``data`` (in place)."""
    for metric, stat in stats.items():
        if metric == SESSIONS:
            data.sessions_by_variant[variant] = data.sessions_by_variant.get(variant, 0) + stat.n
            data.sessions_by_store[store] = data.sessions_by_store.get(store, 0) + stat.n
            continue
        for target, name in ((data.by_variant, variant), (data.by_store, store)):
            row = target.setdefault(name, {})
            row[metric] = row[metric] + stat if metric in row else stat
