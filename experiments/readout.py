"""The full read-out of ``storelab experiment analyze``: the analysis, then results over time
and breakdowns beside it.

``analysis.analyze`` makes the result and its decision; only then does one more GROUP BY
(``metrics.slice_statistics``, on a second short read-only connection) give the per-day and
per-segment statistics that ``timeline`` and ``breakdowns`` turn into ``ExperimentResult.
timeline`` and ``.breakdowns``. So nothing seen over time or in a segment can reach the
decision, and ``--no-timeline --no-breakdowns`` costs exactly what ``analyze`` costs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from errors import StorelabError
from experiments.analysis import analyze, analyze_all
from experiments.breakdowns import build_breakdowns
from experiments.metrics import slice_statistics
from experiments.pilot.hours import time_zone
from experiments.results import AnalysisFailure, ExperimentResult
from experiments.spec import load_experiment
from experiments.timeline import build_timeline
from lab import lab_stores

if TYPE_CHECKING:
    import duckdb

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
    result = analyze(lab, experiment_id, today=options.today, correction=options.correction)
    if not options.slices:
        return result
    with connect(lab, read_only=True) as con:
        return with_slices(lab, con, result, options)


def read_out_all(
    lab: Lab, options: ReadOut | None = None
) -> list[ExperimentResult | AnalysisFailure]:
    """``analysis.analyze_all`` plus timeline and breakdowns; one experiment that fails becomes
    an ``AnalysisFailure`` in its place, as there."""
    from feedback.store import connect

    options = options or ReadOut()
    results = analyze_all(lab, today=options.today, correction=options.correction)
    if not options.slices or not any(isinstance(r, ExperimentResult) for r in results):
        return results
    out: list[ExperimentResult | AnalysisFailure] = []
    with connect(lab, read_only=True) as con:
        for result in results:
            if isinstance(result, AnalysisFailure):
                out.append(result)
                continue
            try:
                out.append(with_slices(lab, con, result, options))
            except StorelabError as exc:
                out.append(AnalysisFailure(result.experiment, str(exc)))
    return out


def with_slices(
    lab: Lab, con: duckdb.DuckDBPyConnection, result: ExperimentResult, options: ReadOut
) -> ExperimentResult:
    """``result`` with its timeline and breakdowns (as ``options`` asks), from one query."""
    spec = load_experiment(lab, result.experiment)
    zone = lab.config.pilot.timezone
    time_zone(zone, "storelab.toml [pilot] timezone")  # a clear error before DuckDB's
    slices = slice_statistics(con, spec, zone)
    return replace(
        result,
        timeline=build_timeline(spec, slices) if options.timeline else None,
        breakdowns=build_breakdowns(spec, slices, lab_stores(lab)) if options.breakdowns else None,
    )
