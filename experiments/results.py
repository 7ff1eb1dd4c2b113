"""Typed results of an experiment analysis, in the style of GrowthBook's gbstats.

``experiments.analysis.analyze`` returns an ``ExperimentResult``; the reports read its
attributes. Every class is a frozen dataclass whose ``to_dict()`` is exactly its part of the
``storelab experiment analyze --json`` output (DESIGN.md's shape and the documented extensions,
key order included), and ``from_dict`` reads that JSON back. Numbers are plain Python floats
and ints; a number that cannot be computed (or is not finite) is ``None``, as in the JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from experiments.slice_results import Breakdowns, Timeline


def finite(x: Any) -> float | None:
    """``x`` as a float, or ``None`` when it is missing, NaN or infinite (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _flat(obj: Any) -> dict:
    """The dataclass' fields, in declaration order, as a dict (no nesting)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass(frozen=True)
class VariantSummary:
    """One variant of one metric: units with a value, their sessions, and the mean.

    unit=session: ``units == sessions``. unit=store: ``units`` are stores with a value and
    ``mean`` is the ratio of sums (Σ values / Σ sessions over those stores).
    """

    variant: str
    units: int
    sessions: int
    mean: float | None

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> VariantSummary:
        return cls(d["variant"], d["units"], d["sessions"], d["mean"])


@dataclass(frozen=True)
class StoreSummary:
    """One store of a store-randomised experiment, for one metric: its sessions and mean."""

    store_id: str
    variant: str
    sessions: int  # sessions with a value of the metric
    mean: float | None

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> StoreSummary:
        return cls(d["store_id"], d["variant"], d["sessions"], d["mean"])


@dataclass(frozen=True)
class SequentialSummary:
    """The always-valid (sequential) reading of a comparison (``experiments.sequential``).

    ``p_value`` and the CI ``ci_low``..``ci_high`` stay valid however often the results are
    looked at (a mixture SPRT and its confidence sequence); ``p_adjusted`` is adjusted in the
    same family as the fixed-horizon p; ``planned_n`` is the sample size the test was tuned for
    (sessions in the two arms). Only this test may end an experiment before its planned end.
    """

    p_value: float | None
    p_adjusted: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    planned_n: float

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> SequentialSummary:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class KpiEstimate:
    """One estimator of a store-KPI effect (``ancova``, ``did`` or ``unadjusted``): the effect
    (pilot-period store means, variant − baseline), its HC2 standard error and t interval with
    ``dof`` degrees of freedom, and the randomisation p-value of that estimator."""

    estimator: str
    abs_effect: float | None
    se: float | None
    dof: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> KpiEstimate:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Placebo:
    """The same KPI analysis on the pre-period alone: its first half plays the pre-period,
    its second half the pilot. No variant ran yet, so it should find nothing; ``ok`` is
    ``p_value >= alpha`` (None without a p-value)."""

    pre: tuple[str, str]  # first and last day of the stand-in pre-period
    pilot: tuple[str, str]  # first and last day of the stand-in pilot
    method: str
    abs_effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    ok: bool | None

    def to_dict(self) -> dict:
        out = _flat(self)
        out["pre"], out["pilot"] = list(self.pre), list(self.pilot)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Placebo:
        values = {f.name: d[f.name] for f in fields(cls)}
        values["pre"], values["pilot"] = tuple(d["pre"]), tuple(d["pilot"])
        return cls(**values)


@dataclass(frozen=True)
class Comparison:
    """A challenger against the baseline on one metric; effects are variant − baseline.

    ``p_adjusted`` is adjusted within its family (``ExperimentResult.families``: primary ×
    challengers, secondaries; guardrails unadjusted);
    ``significant`` means ``p_adjusted < alpha``; ``risk`` is the expected loss of choosing
    the variant; ``method`` names the test (e.g. ``welch``, ``store_cr2+permutation_exact``,
    ``ancova+randomisation_exact``).

    ``sequential`` is the always-valid reading beside the fixed-horizon one (unit=session). It
    is ``None`` for unit=store: there the p-value is a permutation test over the one fixed store
    assignment, with a handful of stores, and a store experiment is read once, at its planned
    end (a confidence sequence needs many independent units arriving over time).

    Store KPIs (``kpi:<name>``) also have ``variance_reduction`` (1 − Var(adjusted) /
    Var(unadjusted): what the pre-period removed), ``estimates`` (every estimator that ran:
    ancova, did, unadjusted) and ``placebo``; these keys are in the JSON only for KPIs.
    """

    variant: str
    baseline: str
    abs_effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    rel_effect: float | None
    rel_ci_low: float | None
    rel_ci_high: float | None
    p_adjusted: float | None
    chance_to_win: float | None
    significant: bool
    risk: float | None
    se: float | None
    method: str
    dof: float | None = None
    """Degrees of freedom of the t behind the CI and chance to win (None: normal)."""
    sequential: SequentialSummary | None = None
    variance_reduction: float | None = None
    estimates: tuple[KpiEstimate, ...] | None = None
    placebo: Placebo | None = None

    def to_dict(self) -> dict:
        out = _flat(self)
        for key in ("variance_reduction", "estimates", "placebo"):
            del out[key]
        out["sequential"] = None if self.sequential is None else self.sequential.to_dict()
        if self.estimates is not None:
            out["variance_reduction"] = self.variance_reduction
            out["estimates"] = {e.estimator: e.to_dict() for e in self.estimates}
            out["placebo"] = None if self.placebo is None else self.placebo.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Comparison:
        extra = ("dof", "sequential", "variance_reduction", "estimates", "placebo")
        values = {f.name: d[f.name] for f in fields(cls) if f.name not in extra}
        seq = d.get("sequential")  # absent in JSON written before it existed
        estimates = d.get("estimates")
        placebo = d.get("placebo")
        return cls(
            **values,
            dof=d.get("dof"),  # absent in JSON written before it existed
            sequential=None if seq is None else SequentialSummary.from_dict(seq),
            variance_reduction=d.get("variance_reduction"),
            estimates=None
            if estimates is None
            else tuple(KpiEstimate.from_dict(e) for e in estimates.values()),
            placebo=None if placebo is None else Placebo.from_dict(placebo),
        )


@dataclass(frozen=True)
class MetricResult:
    """One metric: its role, kind and direction, every variant, every comparison.

    ``stores`` is the per-store breakdown of a store-randomised experiment (``None`` for
    unit=session, where every store runs every variant); it is in the JSON only when present.
    A store KPI (``kpi:<name>``) counts stores as units and store-days as ``sessions``, and
    says its ``pre_period``.
    """

    metric: str
    role: str  # primary | secondary | guardrail
    kind: str  # proportion | mean
    higher_is_better: bool
    variants: tuple[VariantSummary, ...]
    comparisons: tuple[Comparison, ...]
    stores: tuple[StoreSummary, ...] | None = None
    pre_period: tuple[str, str] | None = None  # store KPIs: first and last pre-period day

    @property
    def is_proportion(self) -> bool:
        return self.kind == "proportion"

    def variant(self, name: str) -> VariantSummary | None:
        """The summary of variant ``name``, if the metric has it."""
        return next((v for v in self.variants if v.variant == name), None)

    def to_dict(self) -> dict:
        out = {
            "metric": self.metric,
            "role": self.role,
            "kind": self.kind,
            "higher_is_better": self.higher_is_better,
            "variants": [v.to_dict() for v in self.variants],
            "comparisons": [c.to_dict() for c in self.comparisons],
        }
        if self.stores is not None:
            out["stores"] = [s.to_dict() for s in self.stores]
        if self.pre_period is not None:
            out["pre_period"] = list(self.pre_period)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> MetricResult:
        stores = d.get("stores")  # optional in the JSON: only unit=store has it
        return cls(
            metric=d["metric"],
            role=d["role"],
            kind=d["kind"],
            higher_is_better=d["higher_is_better"],
            variants=tuple(VariantSummary.from_dict(v) for v in d["variants"]),
            comparisons=tuple(Comparison.from_dict(c) for c in d["comparisons"]),
            stores=None if stores is None else tuple(StoreSummary.from_dict(s) for s in stores),
            pre_period=tuple(d["pre_period"]) if d.get("pre_period") else None,
        )


@dataclass(frozen=True)
class SrmCheck:
    """Sample ratio check: ``counts`` of randomised units against the plan (chi-square).

    ``unit`` says what is counted (stores for unit=store, sessions for unit=session);
    ``planned`` is the plan (stores per variant, or allocation shares), ``expected`` the counts
    the chi-square test expected from it, ``sessions`` the sessions behind the counts.
    """

    p_value: float | None
    ok: bool
    counts: dict[str, int]
    unit: str
    planned: dict[str, float]
    expected: dict[str, float]
    sessions: dict[str, int]
    threshold: float

    def to_dict(self) -> dict:
        return {name: dict(v) if isinstance(v, dict) else v for name, v in _flat(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> SrmCheck:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Extension:
    """How much more an inconclusive experiment needs (``experiments.extension``): the
    stores (unit=store) or sessions (unit=session) per variant that reach the planned ``power``
    for the spec's ``min_effect`` on the primary metric at the observed rates and variances.

    ``baseline`` is the baseline's observed mean; ``sd`` the observed sd behind the plan (a
    mean metric: per session for unit=session, of the store means for unit=store), ``icc`` the
    observed intra-store correlation (unit=store, proportions). ``now_per_variant`` is the
    smallest variant's count, ``more_per_variant`` what it lacks (0: the plan's size is already
    there). unit=session: ``sessions_per_day`` over the pilot so far, and the ``days`` /
    ``weeks`` (rounded up) more it takes at that rate.
    """

    unit: str  # store | session
    metric: str
    min_effect: float
    power: float
    baseline: float | None
    sd: float | None
    icc: float | None
    needed_per_variant: int
    now_per_variant: int
    more_per_variant: int
    sessions_per_day: float | None = None
    days: int | None = None
    weeks: int | None = None

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> Extension:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class ReworkScreen:
    """A screen to rework first, with its evidence: what an ``iterate`` or ``extend`` names.

    Composed outside ``experiments`` (``insights.advice``: the usability report of the
    sessions of ``variant``, which shows prototype ``version``); ``score`` is the screen's share
    of that variant's failures and misclicks (``insights.screens``), ``evidence`` one line.
    """

    screen: str
    score: float
    evidence: str
    variant: str
    version: int
    tasks: tuple[str, ...]
    failures: int  # failed runs that ended on the screen (the drop-off)
    drop_off_rate: float | None  # failures / runs that showed the screen
    misclicks: int
    misclick_rate: float | None  # misclicks / (taps + misclicks) on the screen

    def to_dict(self) -> dict:
        out = _flat(self)
        out["tasks"] = list(self.tasks)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ReworkScreen:
        values = {f.name: d[f.name] for f in fields(cls)}
        values["tasks"] = tuple(values["tasks"])
        return cls(**values)


@dataclass(frozen=True)
class Decision:
    """The recommendation (``roll_out``, ``extend``, ``iterate``, ``scrap``, ``keep_running``)
    and the reasons a person can read; ``extend_by`` says how much more an ``extend`` needs
    (None for every other recommendation, or when the spec has no ``min_effect``);
    ``rework_screens`` the screens an ``iterate`` or ``extend`` should rework first (empty
    otherwise, and until the reports or the command layer add them: ``insights.advice``)."""

    recommendation: str
    reasons: tuple[str, ...]
    extend_by: Extension | None = None
    rework_screens: tuple[ReworkScreen, ...] = ()

    def to_dict(self) -> dict:
        return {
            "recommendation": self.recommendation,
            "reasons": list(self.reasons),
            "extend_by": None if self.extend_by is None else self.extend_by.to_dict(),
            "rework_screens": [s.to_dict() for s in self.rework_screens],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Decision:
        ext = d.get("extend_by")  # absent in JSON written before it existed
        return cls(
            d["recommendation"],
            tuple(d["reasons"]),
            None if ext is None else Extension.from_dict(ext),
            tuple(ReworkScreen.from_dict(s) for s in d.get("rework_screens", [])),
        )


@dataclass(frozen=True)
class ExperimentResult:
    """The full read-out of one experiment (``storelab experiment analyze --json``).

    ``mislabelled_sessions`` (unit=store): ``{store: {label: sessions}}`` for sessions whose
    variant label is not the variant the spec assigns to their store (a misconfigured
    device). They are left out of every metric and the SRM; the reports warn about them.
    """

    experiment: str
    unit: str  # session | store
    alpha: float
    correction: str  # holm | bh | none
    srm: SrmCheck
    metrics: tuple[MetricResult, ...]
    decision: Decision
    mislabelled_sessions: dict[str, dict[str, int]] = field(default_factory=dict)
    # results over time and by segment (``experiments.readout``); None when not computed.
    # Made after the decision and never read by it.
    timeline: Timeline | None = None
    breakdowns: Breakdowns | None = None
    design: str = "random"  # unit=store: random | stratified | matched (the spec's design)

    @property
    def mislabelled_total(self) -> int:
        """Sessions left out because their label is not their store's variant."""
        return sum(n for labels in self.mislabelled_sessions.values() for n in labels.values())

    @property
    def variant_names(self) -> tuple[str, ...]:
        """Every variant of the experiment, baseline first (the spec's order)."""
        return tuple(self.srm.counts)

    @property
    def primary(self) -> MetricResult:
        return next(m for m in self.metrics if m.role == "primary")

    @property
    def families(self) -> dict[str, dict]:
        """How each family of comparisons was adjusted: the decision (primary × challengers),
        the secondaries, the guardrails (never adjusted). Derived, so not read back."""

        def count(role: str) -> int:
            return sum(len(m.comparisons) for m in self.metrics if m.role == role)

        return {
            "decision": {"correction": self.correction, "comparisons": count("primary")},
            "secondary": {"correction": self.correction, "comparisons": count("secondary")},
            "guardrail": {"correction": "none", "comparisons": count("guardrail")},
        }

    def to_dict(self) -> dict:
        return {
            "experiment": self.experiment,
            "unit": self.unit,
            "alpha": self.alpha,
            "correction": self.correction,
            "families": self.families,
            "srm": self.srm.to_dict(),
            "mislabelled_sessions": {
                store: dict(labels) for store, labels in self.mislabelled_sessions.items()
            },
            "metrics": [m.to_dict() for m in self.metrics],
            "decision": self.decision.to_dict(),
        } | self._slices_dict()

    def _slices_dict(self) -> dict:
        """The optional keys: ``timeline`` and ``breakdowns`` when computed, ``design`` when the
        stores were not completely randomised."""
        out = {}
        if self.timeline is not None:
            out["timeline"] = self.timeline.to_dict()
        if self.breakdowns is not None:
            out["breakdowns"] = self.breakdowns.to_dict()
        if self.design != "random":  # stratified | matched; absent: completely randomised
            out["design"] = self.design
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ExperimentResult:
        timeline, breakdowns = d.get("timeline"), d.get("breakdowns")
        return cls(
            experiment=d["experiment"],
            unit=d["unit"],
            alpha=d["alpha"],
            correction=d["correction"],
            srm=SrmCheck.from_dict(d["srm"]),
            metrics=tuple(MetricResult.from_dict(m) for m in d["metrics"]),
            decision=Decision.from_dict(d["decision"]),
            mislabelled_sessions={
                store: dict(labels) for store, labels in d.get("mislabelled_sessions", {}).items()
            },
            timeline=None if timeline is None else Timeline.from_dict(timeline),
            breakdowns=None if breakdowns is None else Breakdowns.from_dict(breakdowns),
            design=d.get("design", "random"),
        )


@dataclass(frozen=True)
class AnalysisFailure:
    """An experiment ``analyze --all`` could not analyse, and why (one line for a person)."""

    experiment: str
    error: str

    def to_dict(self) -> dict:
        return _flat(self)
