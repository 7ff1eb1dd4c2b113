"""Results over time: the cumulative effect and its CI at the end of every day of the pilot.

Pure: ``build_timeline(spec, slices)`` takes the per-day statistics of
``experiments.slice_statistics.statistics_with_slices`` (grouping sets of the analysis' own query),
adds the days up in Python and runs, for every day, the very test the final analysis runs
(``analysis.unadjusted_metric_result``: Welch for unit=session, the store-level test for
unit=store), so the last point is the final result and a change of the test changes both. A
session belongs to the local day of its first event, clamped to the spec's dates (the analysis
window is in UTC days, so a session just after midnight UTC on the last day can fall on the
next local day; it stays on the last day).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from experiments.analysis import unadjusted_metric_result
from experiments.metrics import MetricData
from experiments.slice_results import DayPoint, MetricTimeline, Timeline
from experiments.slice_statistics import add_cell
from feedback.catalogue import CATALOGUE
from feedback.custom_measures import is_custom

if TYPE_CHECKING:
    from experiments.results import MetricResult
    from experiments.slice_statistics import SliceData
    from experiments.spec import ExperimentSpec


def session_metrics(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """The spec's (metric, role) pairs that are per-session metrics of the catalogue (store
    KPIs and other metrics not measured per session have no day or segment)."""
    return [(m, role) for m, role in spec.metric_roles() if m in CATALOGUE.metrics or is_custom(m)]


def _day(spec: ExperimentSpec, day: date) -> date:
    return min(max(day, spec.start), spec.end)


def build_timeline(spec: ExperimentSpec, slices: SliceData) -> Timeline:
    """Every metric × challenger of ``spec``, day by day from the first day with data to the
    last (days without sessions repeat the day before)."""
    by_day: dict[date, list] = {}
    for (variant, store, day), stats in slices.cells["day"].items():
        by_day.setdefault(_day(spec, day), []).append((variant, store, stats))
    metrics = session_metrics(spec)
    points: dict[tuple[str, str], list[DayPoint]] = {}
    running = MetricData()
    day, last = min(by_day, default=None), max(by_day, default=None)
    while day is not None and day <= last:
        for variant, store, stats in by_day.get(day, ()):
            add_cell(running, variant, store, stats)
        for metric, role in metrics:
            result = unadjusted_metric_result(spec, running, metric, role)
            for point_of in _points(result, day):
                points.setdefault(point_of[0], []).append(point_of[1])
        day += timedelta(days=1)
    series = tuple(
        MetricTimeline(metric, role, v, spec.baseline, tuple(points.get((metric, v), ())))
        for metric, role in metrics
        for v in list(spec.variants)[1:]
    )
    return Timeline(slices.time_zone, series)


def _points(result: MetricResult, day: date):
    """((metric, challenger), DayPoint) for each comparison of ``result``."""
    for c in result.comparisons:
        base, var = result.variant(c.baseline), result.variant(c.variant)
        yield (
            (result.metric, c.variant),
            DayPoint(
                day=day,
                baseline_units=base.units if base else 0,
                variant_units=var.units if var else 0,
                baseline_mean=base.mean if base else None,
                variant_mean=var.mean if var else None,
                abs_effect=c.abs_effect,
                ci_low=c.ci_low,
                ci_high=c.ci_high,
                p_value=c.p_value,
            ),
        )
