"""The full read-out of ``storelab experiment analyze``: the analysis, then results over time
and breakdowns beside it.

One query (``slice_statistics.statistics_with_slices``) returns the analysis' statistics per variant
and store and, as three more grouping sets over the same counted sessions, per variant × store
× local day, device and locale. ``analysis.analyze_data`` makes the result and its decision
from the first part alone; only then do ``timeline`` and ``breakdowns`` turn the slices into
``ExperimentResult.timeline`` and ``.breakdowns``. So nothing seen over time or in a segment
can reach the decision, and the slices cost a few grouping sets over sessions instead of a
second pass over the events. ``--no-timeline --no-breakdowns`` runs ``analysis.analyze``
(the query without the slices; no time zone needed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from experiments.analysis import analyze, analyze_all, analyze_data, analyze_each
from experiments.breakdowns import build_breakdowns
from experiments.kpis import load_kpis
from experiments.pilot.hours import time_zone
from experiments.profile_slices import recorded_dimensions
from experiments.results import AnalysisFailure, ExperimentResult
from experiments.slice_statistics import statistics_with_slices
from experiments.spec import load_experiment
from experiments.timeline import build_timeline
from lab import lab_stores

if TYPE_CHECKING:
    import duckdb

    from experiments.spec import ExperimentSpec
    from lab import Lab


@dataclass(frozen=True)
class ReadOut:
    """What to compute besides the analysis (both by default)."""

    timeline: bool = True
    breakdowns: bool = True
    today: date | None = None
    correction: str = "holm"

    @property
    def slices(self) -> bool:
        return self.timeline or self.breakdowns


def read_out(lab: Lab, experiment_id: str, options: ReadOut | None = None) -> ExperimentResult:
    """``analysis.analyze`` plus the timeline and breakdowns that ``options`` asks for."""
    from feedback.store import connect

    options = options or ReadOut()
    if not options.slices:
        return analyze(lab, experiment_id, today=options.today, correction=options.correction)
    spec = load_experiment(lab, experiment_id)
    with connect(lab, read_only=True) as con:
        return with_slices(lab, con, spec, options)


def read_out_all(
    lab: Lab, options: ReadOut | None = None
) -> list[ExperimentResult | AnalysisFailure]:
    """``analysis.analyze_all`` plus timeline and breakdowns; one experiment that fails becomes
    an ``AnalysisFailure`` in its place, as there."""
    options = options or ReadOut()
    if not options.slices:
        return analyze_all(lab, today=options.today, correction=options.correction)
    return analyze_each(lab, lambda con, spec: with_slices(lab, con, spec, options))


def with_slices(
    lab: Lab, con: duckdb.DuckDBPyConnection, spec: ExperimentSpec, options: ReadOut
) -> ExperimentResult:
    """The analysis of ``spec`` with its timeline and breakdowns (as ``options`` asks), from
    one query; the decision is made from the per-variant and per-store statistics alone."""
    zone = lab.config.pilot.timezone
    time_zone(zone, "storelab.toml [pilot] timezone")  # a clear error before DuckDB's
    dims = recorded_dimensions(con, spec)  # persona and context only where recorded
    data, slices = statistics_with_slices(con, spec, zone, dims)
    kpis = load_kpis(con, spec)
    result = analyze_data(spec, data, today=options.today, correction=options.correction, kpis=kpis)
    return replace(
        result,
        timeline=build_timeline(spec, slices) if options.timeline else None,
        breakdowns=build_breakdowns(spec, slices, lab_stores(lab)) if options.breakdowns else None,
    )
