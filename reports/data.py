"""Where the reports get their numbers: the analysis, the experiment list and the lab summary.

A thin layer over ``experiments`` and ``feedback.store`` so that the HTML report, the terminal
scorecard and the dashboard ask for data the same way. Connections are opened per call
(``feedback.store.connect`` is short-lived and read-only) and never kept.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import TYPE_CHECKING

from experiments.results import ExperimentResult, MetricResult

if TYPE_CHECKING:
    from experiments.spec import ExperimentSpec
    from lab import Lab


@dataclass(frozen=True)
class ExperimentReport:
    """What a report shows: the analysis and the spec's context around it.

    ``min_effect`` is the spec's minimum effect of interest, in the primary metric's units.
    """

    result: ExperimentResult
    hypothesis: str | None = None
    prototype: str | None = None
    start: date | None = None
    end: date | None = None
    min_effect: float | None = None

    @classmethod
    def of(cls, spec: ExperimentSpec, result: ExperimentResult) -> ExperimentReport:
        """The report of ``result`` with the context of its ``spec``."""
        return cls(
            result=result,
            hypothesis=spec.hypothesis,
            prototype=spec.prototype,
            start=spec.start,
            end=spec.end,
            min_effect=spec.min_effect,
        )

    def mde_for(self, metric: MetricResult) -> float | None:
        """The minimum effect of interest of ``metric`` (the spec gives one for the primary)."""
        return self.min_effect if metric.role == "primary" else None

    def to_dict(self) -> dict:
        """The analysis JSON plus the context that is known (dates as ISO strings)."""
        out = self.result.to_dict()
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "result" and value is not None:
                out[f.name] = value.isoformat() if isinstance(value, date) else value
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ExperimentReport:
        """Read ``to_dict()``'s JSON back."""

        def day(key: str) -> date | None:
            return date.fromisoformat(d[key]) if d.get(key) else None

        return cls(
            result=ExperimentResult.from_dict(d),
            hypothesis=d.get("hypothesis"),
            prototype=d.get("prototype"),
            start=day("start"),
            end=day("end"),
            min_effect=d.get("min_effect"),
        )


def analyze(lab: Lab, experiment_id: str) -> ExperimentReport:
    """``experiments.readout.read_out`` (the analysis with its timeline and breakdowns) with the
    spec's context (hypothesis, dates, min effect); an ``iterate``/``extend`` names the screens
    to rework first (``insights.advice``)."""
    from experiments.readout import read_out
    from experiments.spec import load_experiment
    from insights.advice import with_rework
    from prototypes.measures import check_experiment_measures

    spec = load_experiment(lab, experiment_id)
    check_experiment_measures(lab, spec)  # goal:/question: metrics its prototype defines
    return ExperimentReport.of(spec, with_rework(lab, spec, read_out(lab, experiment_id)))


def list_experiments(lab: Lab) -> list[str]:
    """Ids of the lab's experiment specs, sorted."""
    from experiments.spec import list_experiments as list_specs

    return list_specs(lab)


def lab_summary(lab: Lab) -> dict | None:
    """``feedback.store.summary`` or ``None`` when the lab has no database yet."""
    if not lab.db_path.exists():
        return None
    from feedback.store import summary

    return summary(lab)


def db_version(lab: Lab) -> int:
    """Changes whenever the database file (or its WAL) changes: a cache key for derived data."""
    version = 0
    for path in (lab.db_path, lab.db_path.with_name(lab.db_path.name + ".wal")):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        version = version * 31 + stat.st_mtime_ns + stat.st_size
    return version
