"""Typed results over time and by segment: the ``timeline`` and ``breakdowns`` of ``analyze``.

Frozen dataclasses like ``experiments.results`` (which holds them on ``ExperimentResult``);
``to_dict()`` is their part of ``storelab experiment analyze --json`` and ``from_dict`` reads it
back. Computed by ``experiments.timeline`` and ``experiments.breakdowns``. Neither ever enters
the decision: the recommendation is made before they exist.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date


def _flat(obj) -> dict:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass(frozen=True)
class DayPoint:
    """The analysis as it stood at the end of one local day: every session that started on or
    before ``day``, tested with the final test. ``*_units`` are sessions (unit=session) or
    stores (unit=store) with a value; ``p_value`` is unadjusted."""

    day: date
    baseline_units: int
    variant_units: int
    baseline_mean: float | None
    variant_mean: float | None
    abs_effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    def to_dict(self) -> dict:
        return {**_flat(self), "day": self.day.isoformat()}

    @classmethod
    def from_dict(cls, d: dict) -> DayPoint:
        values = {f.name: d[f.name] for f in fields(cls)}
        return cls(**{**values, "day": date.fromisoformat(d["day"])})


@dataclass(frozen=True)
class MetricTimeline:
    """One metric × challenger, day by day (cumulative)."""

    metric: str
    role: str
    variant: str
    baseline: str
    points: tuple[DayPoint, ...]

    def to_dict(self) -> dict:
        return {**_flat(self), "points": [p.to_dict() for p in self.points]}

    @classmethod
    def from_dict(cls, d: dict) -> MetricTimeline:
        points = tuple(DayPoint.from_dict(p) for p in d["points"])
        return cls(d["metric"], d["role"], d["variant"], d["baseline"], points)


@dataclass(frozen=True)
class Timeline:
    """The cumulative effect and its CI, day by day, for every metric × challenger.

    A session belongs to the local day (in ``time_zone``, the lab's ``[pilot] timezone``) of its
    first event. The last point is the final analysis (before family adjustment).
    """

    time_zone: str
    series: tuple[MetricTimeline, ...]

    def for_metric(self, metric: str) -> tuple[MetricTimeline, ...]:
        return tuple(s for s in self.series if s.metric == metric)

    def to_dict(self) -> dict:
        return {"time_zone": self.time_zone, "series": [s.to_dict() for s in self.series]}

    @classmethod
    def from_dict(cls, d: dict) -> Timeline:
        return cls(d["time_zone"], tuple(MetricTimeline.from_dict(s) for s in d["series"]))


@dataclass(frozen=True)
class SegmentComparison:
    """One segment value (``dimension`` = device, locale, store, region or format), one metric,
    one challenger: both arms' units, sessions and means, the effect with its CI and the
    unadjusted p-value of the test the final analysis uses, run on the segment alone."""

    dimension: str
    segment: str
    metric: str
    variant: str
    baseline: str
    baseline_units: int
    variant_units: int
    baseline_sessions: int
    variant_sessions: int
    baseline_mean: float | None
    variant_mean: float | None
    abs_effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    method: str

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> SegmentComparison:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Breakdowns:
    """Every segment comparison, and the caveat that goes beside them wherever they are shown.

    ``comparisons`` counts the rows with a p-value; ``caveat`` says how many of them look
    significant by chance alone. For exploring only: never adjusted, never in the decision.
    """

    alpha: float
    comparisons: int
    caveat: str
    rows: tuple[SegmentComparison, ...]

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The dimensions that have rows, in order of first appearance."""
        return tuple(dict.fromkeys(r.dimension for r in self.rows))

    def for_metric(self, metric: str) -> tuple[SegmentComparison, ...]:
        return tuple(r for r in self.rows if r.metric == metric)

    def to_dict(self) -> dict:
        return {
            "alpha": self.alpha,
            "comparisons": self.comparisons,
            "caveat": self.caveat,
            "rows": [r.to_dict() for r in self.rows],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Breakdowns:
        rows = tuple(SegmentComparison.from_dict(r) for r in d["rows"])
        return cls(d["alpha"], d["comparisons"], d["caveat"], rows)
