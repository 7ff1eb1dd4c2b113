"""Validation study: do storelab's CIs, p-values and power plans hold, measured with known truth.

Simulated per-session data (``bench.truth``: one model per metric kind, with store effects) is
reduced with numpy to exactly the sufficient statistics the metric SQL returns (per variant, or
per store: sessions with a value, Σ value, Σ value²), put into ``experiments.metrics.MetricData``
and read out by the product's own ``experiments.analysis.analyze_data``. Nothing here computes a
test: the study only counts how often the product's CIs cover the truth and its p-values reject.

Three measurements (``make validate`` runs them all and writes the table into README.md; the
slow tests in ``tests/test_validation_study.py`` run smaller versions and assert the goals):

- **coverage**: 95% CIs (absolute, and relative where the metric has one) against the true
  effect, for every metric kind, unit=session and unit=store (6+6 and 12+12 stores, equal and
  lognormal store sizes), and the A/A false-positive rate of the p-value and of the CI.
  Goals: coverage 93–97%, A/A rates 3–7%.
- **peeking**: a four-week A/A pilot (unit=session) read every day; the share of pilots in which
  any look rejects, for the fixed-horizon test (inflated: the reason for a sequential test) and
  for ``experiments.sequential`` when it exists. Goal for the sequential test: at most alpha.
- **power**: ``experiments.power`` plans n (sessions) or the effect (stores); the simulation at
  that n and effect measures the power achieved. Goal: within ±5 points of the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import date

import numpy as np

from bench.truth import MODELS, MetricModel, Parts, UnitSums, store_sizes, unit_statistics
from experiments.analysis import analyze_data
from experiments.metrics import MetricData
from experiments.spec import ExperimentSpec
from experiments.statistics import RatioStatistic, SampleMeanStatistic, Statistic
from feedback.catalogue import CATALOGUE

ALPHA = 0.05
START, END = date(2026, 11, 2), date(2026, 11, 29)
AFTER_END = date(2026, 12, 31)  # the read-out after the pilot, as `experiment analyze` gives it
COVERAGE_GOAL = (0.93, 0.97)
AA_GOAL = (0.03, 0.07)
POWER_GOAL = 0.05  # ± around the planned power
VARIANTS = ("control", "treatment")
METRICS = tuple(MODELS)  # primary, then secondaries, then the guardrail (see ``spec_for``)


@dataclass(frozen=True)
class Design:
    """How units are randomised: ``session`` (``sessions`` per arm) or ``store``
    (``stores`` per arm, ``sessions`` per store on average, lognormal log-sd ``size_sd``)."""

    unit: str
    sessions: int
    stores: int = 0
    size_sd: float = 0.0

    @property
    def label(self) -> str:
        if self.unit == "session":
            return f"session, {self.sessions} per arm"
        sizes = "equal" if self.size_sd == 0 else f"lognormal sd {self.size_sd:g}"
        return f"store, {self.stores}+{self.stores}, {self.sessions}/store, {sizes}"

    @property
    def units(self) -> int:
        return 2 if self.unit == "session" else 2 * self.stores

    def treated(self) -> np.ndarray:
        """Which units are treatment (the first half control; store effects and sizes are
        drawn independently of the assignment, so a fixed split is a random one)."""
        half = self.units // 2
        return np.arange(self.units) >= half

    def store_ids(self) -> list[str]:
        return [f"S{i + 1:02d}" for i in range(self.units)]

    def sizes(self, rng: np.random.Generator, runs: int) -> np.ndarray:
        if self.unit == "session":
            return np.full((runs, 2), self.sessions)
        return store_sizes(rng, runs, self.units, self.sessions, self.size_sd)


DESIGNS: tuple[Design, ...] = (
    Design("session", 800),
    Design("store", 150, 6, 0.0),
    Design("store", 150, 6, 0.8),
    Design("store", 150, 6, 1.2),
    Design("store", 150, 12, 1.2),
)


def spec_for(
    design: Design, metrics: tuple[str, ...] = METRICS, *, planned_sessions: int | None = None
) -> ExperimentSpec:
    """An experiment spec for ``design``: the first metric primary, the last a guardrail.

    ``planned_sessions`` (all arms) tunes the sequential test, once the spec has that key."""
    stores: dict | list = []
    if design.unit == "store":
        ids = design.store_ids()
        half = len(ids) // 2
        stores = {"control": ids[:half], "treatment": ids[half:]}
    plan = {}
    if planned_sessions is not None and "planned_sessions" in ExperimentSpec.model_fields:
        plan["planned_sessions"] = planned_sessions
    return ExperimentSpec.model_validate(
        {
            **plan,
            "id": "validation",
            "hypothesis": "The study's known truth.",
            "prototype": "validation",
            "unit": design.unit,
            "variants": {v: {"version": i + 1} for i, v in enumerate(VARIANTS)},
            "allocation": {"control": 0.5, "treatment": 0.5},
            "stores": stores,
            "start": START,
            "end": END,
            "primary_metric": metrics[0],
            "secondary_metrics": list(metrics[1:-1]) if len(metrics) > 2 else [],
            "guardrails": [metrics[-1]] if len(metrics) > 1 else [],
            "alpha": ALPHA,
        }
    )


def _is_ratio(metric: str) -> bool:
    """A ratio-of-totals metric in the catalogue (numerator / denominator per session)?"""
    return bool(getattr(CATALOGUE.metric(metric), "is_ratio", False))


def statistic(sums: UnitSums, metric: str, run: int, unit: int) -> Statistic | None:
    """One unit's statistic as ``experiments.metrics`` builds it from its SQL row (None: no
    session with a value): ``RatioStatistic`` over sessions for a ratio metric, else
    ``SampleMeanStatistic`` of the per-session values."""
    at = (run, unit)
    n = int(sums.n[at])
    if n == 0:
        return None
    if not _is_ratio(metric):
        return SampleMeanStatistic(n, float(sums.total[at]), float(sums.squares[at]))
    return RatioStatistic(
        n=n,
        m_statistic=SampleMeanStatistic(n, float(sums.num[at]), float(sums.num_squares[at])),
        d_statistic=SampleMeanStatistic(n, float(sums.den[at]), float(sums.den_squares[at])),
        m_d_sum_of_products=float(sums.products[at]),
    )


@dataclass
class Simulated:
    """One batch of simulated pilots: per metric the (runs × units) sums, and sizes."""

    design: Design
    sizes: np.ndarray
    stats: dict[str, UnitSums] = field(default_factory=dict)

    def data(self, run: int) -> MetricData:
        """Run ``run`` as the metric SQL would return it."""
        data = MetricData()
        variants = np.where(self.design.treated(), VARIANTS[1], VARIANTS[0])
        for u in range(self.design.units):
            key, sessions = str(variants[u]), int(self.sizes[run, u])
            by_metric = {}
            for metric, sums in self.stats.items():
                stat = statistic(sums, metric, run, u)
                if stat is not None:
                    by_metric[metric] = stat
            if self.design.unit == "session":
                data.by_variant[key] = by_metric
                data.sessions_by_variant[key] = sessions
            else:
                store = self.design.store_ids()[u]
                data.by_store[store] = by_metric
                data.sessions_by_store[store] = sessions
        return data


def simulate(
    design: Design, models: dict[str, MetricModel], runs: int, rng: np.random.Generator
) -> Simulated:
    """``runs`` pilots of ``design``, every metric of ``models`` drawn per session."""
    sim = Simulated(design, design.sizes(rng, runs))
    for metric, model in models.items():
        sim.stats[metric] = unit_statistics(
            rng, model, sim.sizes, design.treated(), clustered=design.unit == "store"
        )
    return sim


# --- coverage and A/A rates ----------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    """One design × metric: CI coverage of the true effect, A/A rates, and the run count."""

    design: str
    metric: str
    runs: int
    coverage: float
    rel_coverage: float | None  # None: the metric has no relative effect (crosses zero)
    aa_p: float  # share of A/A runs with p < alpha
    aa_ci: float  # share of A/A runs whose CI excludes 0
    method: str

    def failures(self) -> list[str]:
        """The goals this row misses, in words (empty: all met)."""
        out = []
        lo, hi = COVERAGE_GOAL
        if not lo <= self.coverage <= hi:
            out.append(f"coverage {self.coverage:.3f}")
        if self.rel_coverage is not None and not lo <= self.rel_coverage <= hi:
            out.append(f"relative coverage {self.rel_coverage:.3f}")
        lo, hi = AA_GOAL
        if not lo <= self.aa_p <= hi:
            out.append(f"A/A p<alpha {self.aa_p:.3f}")
        if not lo <= self.aa_ci <= hi:
            out.append(f"A/A CI excludes 0 {self.aa_ci:.3f}")
        return out


def _covers(low: float | None, high: float | None, truth: float) -> bool:
    # a missing CI (too few units) counts as not covering: a user got no interval
    return low is not None and high is not None and low <= truth <= high


def coverage(design: Design, runs: int, seed: int = 1) -> list[CoverageRow]:
    """Coverage (true effect) and A/A rates for every metric model under ``design``."""
    rng = np.random.default_rng(seed)
    spec = spec_for(design)
    effect = simulate(design, MODELS, runs, rng)
    null = simulate(design, {m: model.null() for m, model in MODELS.items()}, runs, rng)
    hits = {m: np.zeros(4) for m in METRICS}  # covered, rel covered, A/A p, A/A CI
    methods: dict[str, str] = {}
    for run in range(runs):
        for kind, sim in (("effect", effect), ("null", null)):
            result = analyze_data(spec, sim.data(run), today=AFTER_END)
            for m in result.metrics:
                c, model = m.comparisons[0], MODELS[m.metric]
                methods[m.metric] = c.method
                if kind == "effect":
                    hits[m.metric][0] += _covers(c.ci_low, c.ci_high, model.effect)
                    hits[m.metric][1] += _covers(c.rel_ci_low, c.rel_ci_high, model.rel_effect)
                else:
                    hits[m.metric][2] += c.p_value is not None and c.p_value < ALPHA
                    hits[m.metric][3] += not _covers(c.ci_low, c.ci_high, 0.0)
    rows = []
    for metric in METRICS:
        covered, rel, aa_p, aa_ci = hits[metric] / runs
        crosses = CATALOGUE.metric(metric).crosses_zero
        rows.append(
            CoverageRow(
                design.label,
                metric,
                runs,
                float(covered),
                None if crosses else float(rel),
                float(aa_p),
                float(aa_ci),
                methods.get(metric, ""),
            )
        )
    return rows


# --- daily peeking -------------------------------------------------------------------------

PEEK_DAYS = 28
PEEK_SESSIONS_PER_DAY = 30  # per arm: 840 per arm over four weeks


@dataclass(frozen=True)
class PeekRow:
    """A/A pilots read every day: the share in which any look rejected (None: not measured)."""

    test: str
    runs: int
    looks: int
    ever_rejected: float | None
    note: str = ""

    @property
    def sequential(self) -> bool:
        return self.test.startswith("sequential")

    def failures(self) -> list[str]:
        """Sequential: at most alpha (plus nothing: the goal is a bound). Fixed: none expected
        to hold; the row is the reason for the sequential test, not a goal of its own."""
        if self.sequential and self.ever_rejected is not None and self.ever_rejected > ALPHA:
            return [f"ever rejected {self.ever_rejected:.3f} > alpha"]
        return []


def _sequential_test():
    """``experiments.sequential.sequential_test`` when the branch that adds it is merged."""
    try:
        from experiments import sequential
    except ImportError:
        return None
    return getattr(sequential, "sequential_test", None)


def _p_of(answer) -> float | None:
    """The p-value of whatever the sequential test returns (object with ``p_value``, or dict)."""
    if isinstance(answer, dict):
        return answer.get("p_value")
    return getattr(answer, "p_value", None)


def daily_stats(runs: int, rng: np.random.Generator, metric: str = "task_success_rate"):
    """(cumulative sums, cumulative sessions) of an A/A session pilot, by day: ``UnitSums``
    and sessions shaped (runs × days·2), day-major, control then treatment each day."""
    model = MODELS[metric].null()
    sizes = rng.poisson(PEEK_SESSIONS_PER_DAY, (runs, PEEK_DAYS * 2))
    treated = np.tile([False, True], PEEK_DAYS)
    sums = unit_statistics(rng, model, sizes, treated, clustered=False)

    def cumulative(x: np.ndarray) -> np.ndarray:
        return np.cumsum(x.reshape(runs, PEEK_DAYS, 2), axis=1).reshape(runs, PEEK_DAYS * 2)

    return UnitSums(*(cumulative(getattr(sums, f.name)) for f in fields(UnitSums))), cumulative(
        sizes
    )


def _sequential_p(comparison, a: Statistic, b: Statistic, planned_n: float) -> float | None:
    """The always-valid p of a comparison: as the analysis reports it (``sequential``), else
    from ``experiments.sequential.sequential_test`` directly. Raises LookupError without."""
    reported = getattr(comparison, "sequential", None)
    if reported is not None:
        return reported.p_value
    test = _sequential_test()
    if test is None:
        raise LookupError("experiments.sequential not in this branch yet")
    return _p_of(test(a, b, alpha=ALPHA, planned_n=planned_n))


def peeking(runs: int, seed: int = 2, metric: str = "task_success_rate") -> list[PeekRow]:
    """Daily looks at A/A session pilots: the product's analysis at each look, its
    fixed-horizon p and its sequential p (when there is a sequential test)."""
    rng = np.random.default_rng(seed)
    planned = 2 * PEEK_SESSIONS_PER_DAY * PEEK_DAYS  # both arms, as `experiment power` totals
    spec = spec_for(Design("session", planned // 2), (metric,), planned_sessions=planned)
    sums, sessions = daily_stats(runs, rng, metric)
    hits = {"fixed": 0, "sequential": 0}
    note = ""
    for run in range(runs):
        rejected = {"fixed": False, "sequential": False}
        for day in range(PEEK_DAYS):
            a, b = (statistic(sums, metric, run, 2 * day + k) for k in (0, 1))
            data = MetricData(
                by_variant={"control": {metric: a}, "treatment": {metric: b}},
                sessions_by_variant={
                    v: int(sessions[run, 2 * day + k]) for k, v in enumerate(VARIANTS)
                },
            )
            c = analyze_data(spec, data, today=AFTER_END).metrics[0].comparisons[0]
            rejected["fixed"] |= c.p_value is not None and c.p_value < ALPHA
            if not note:
                try:
                    p_seq = _sequential_p(c, a, b, planned)
                except (LookupError, TypeError) as exc:  # none yet, or another signature
                    note = str(exc)
                else:
                    rejected["sequential"] |= p_seq is not None and p_seq < ALPHA
        for test, value in rejected.items():
            hits[test] += value
    return [
        PeekRow("fixed-horizon Welch, every look", runs, PEEK_DAYS, hits["fixed"] / runs),
        PeekRow(
            "sequential (experiments.sequential)",
            runs,
            PEEK_DAYS,
            None if note else hits["sequential"] / runs,
            note,
        ),
    ]


# --- power achieved against power planned --------------------------------------------------


@dataclass(frozen=True)
class PowerRow:
    """A plan from ``experiments.power`` and the share of simulated pilots that rejected."""

    design: str
    metric: str
    plan: str  # what the plan said, in words (n for the effect, or the effect for n)
    planned: float
    achieved: float
    runs: int
    goal: bool = True  # False: a row that explains another (no goal of its own)
    note: str = ""  # what a row without a goal shows (default: it explains the row above)

    def failures(self) -> list[str]:
        if self.goal and abs(self.achieved - self.planned) > POWER_GOAL:
            return [f"power {self.achieved:.3f} vs planned {self.planned:.2f}"]
        return []


def _rejections(spec: ExperimentSpec, sim: Simulated, runs: int) -> float:
    hits = 0
    for run in range(runs):
        c = analyze_data(spec, sim.data(run), today=AFTER_END).metrics[0].comparisons[0]
        hits += c.p_value is not None and c.p_value < ALPHA
    return hits / runs


def _bernoulli(metric: str, p: float, effect: float, store_sd: float = 0.0) -> MetricModel:
    """One task per session (a 0/1 value): exactly the proportion the power formula plans."""

    def draw(rng: np.random.Generator, loc: np.ndarray) -> Parts:
        return (rng.random(loc.size) < np.clip(loc, 0.0, 1.0)).astype(float), 1.0

    return MetricModel(metric, p, p + effect, store_sd, 1.0, draw, lambda loc, s: loc)


def _true_sd(model: MetricModel, rng: np.random.Generator, draws: int = 2_000_000) -> float:
    """The sd of a session's value, from a large sample (both arms pooled as the plan's σ)."""
    values = [
        np.divide(
            *model.draw(rng, np.full(draws, loc) + model.store_sd * rng.standard_normal(draws))
        )
        for loc in (model.loc_control, model.loc_treatment)
    ]
    return float(math.sqrt((values[0].var() + values[1].var()) / 2))


def session_power(runs: int, seed: int = 3) -> list[PowerRow]:
    """Sessions planned by ``sessions_needed`` for a proportion and a mean metric (SUS)."""
    from experiments.power import PowerInputs, sessions_needed

    rng = np.random.default_rng(seed)
    sus = replace(MODELS["sus"], answer_rate=1.0)  # n in the plan = sessions with a value
    cases = [
        (_bernoulli("task_success_rate", 0.40, 0.05), {"baseline": 0.40}),
        (sus, {"baseline": sus.truth(False), "sd": _true_sd(sus, rng)}),
    ]
    rows = []
    for model, inputs in cases:
        plan = sessions_needed(model.effect, PowerInputs(alpha=ALPHA, power=0.8, **inputs))
        design = Design("session", int(plan["per_variant"]))
        sim = simulate(design, {model.metric: model}, runs, rng)
        sd = f", sd {inputs['sd']:.1f}" if "sd" in inputs else ""
        rows.append(
            PowerRow(
                design.label,
                model.metric,
                f"n for {model.effect:+.3g} from {model.truth(False):.3g}{sd}",
                0.8,
                _rejections(spec_for(design, (model.metric,)), sim, runs),
                runs,
            )
        )
    return rows


STORE_POWER = {"stores": 6, "sessions": 150, "icc": 0.03, "baseline": 0.40}


def within_arm_cv(sessions: float, size_sd: float, stores: int) -> float:
    """The CV of store sizes the ratio of sums' variance depends on: that of the sizes within
    one arm of ``stores``, sqrt(k·E[Σn²/(Σn)²] − 1). With a handful of stores it is far below
    the lognormal's own sqrt(exp(sd²) − 1) (6 stores, sd 0.8: 0.71 against 0.95)."""
    sizes = store_sizes(np.random.default_rng(0), 20_000, stores, sessions, size_sd)
    return math.sqrt(float(np.mean(stores * (sizes**2.0).sum(1) / sizes.sum(1) ** 2.0) - 1))


def _store_design(sessions: float, icc: float, cv: float):
    """power.py's StoreDesign for stores whose sizes have CV ``cv`` (Eldridge's design effect
    1 + ((1 + CV²)·m − 1)·ICC): its own ``store_size_cv`` where it has one; before that, the
    ICC that gives the same design effect."""
    from experiments.power import StoreDesign

    if cv == 0:
        return StoreDesign(sessions, icc)
    if "store_size_cv" in StoreDesign.__dataclass_fields__:
        return StoreDesign(sessions, icc, store_size_cv=cv)
    return StoreDesign(sessions, ((1 + cv**2) * sessions - 1) * icc / (sessions - 1))


def _store_plans(size_sd: float, sessions: float, icc: float, stores: int) -> list[tuple]:
    """(words, CV, goal) of each plan to check: power.py's own first (with the sizes' CV when
    it takes one), then the plans that explain it."""
    from experiments.power import StoreDesign

    if size_sd == 0:
        return [("power.py", 0.0, True)]
    cv = within_arm_cv(sessions, size_sd, stores)
    lognormal_cv = math.sqrt(math.exp(size_sd**2) - 1)
    if "store_size_cv" in StoreDesign.__dataclass_fields__:
        return [
            (f"power.py, size CV {cv:.2f} (within an arm)", cv, True),
            ("power.py without the CV (sizes taken as equal)", 0.0, False),
            (f"power.py, the lognormal's CV {lognormal_cv:.2f}", lognormal_cv, False),
        ]
    return [
        ("power.py (takes no CV: sizes taken as equal)", 0.0, True),
        (f"Eldridge's DE, size CV {cv:.2f} (within an arm)", cv, False),
        (f"Eldridge's DE, the lognormal's CV {lognormal_cv:.2f}", lognormal_cv, False),
    ]


def store_power(runs: int, seed: int = 4, size_sds=(0.0, 0.8, 1.2)) -> list[PowerRow]:
    """``mde_for_stores`` plans the effect 6+6 stores detect with 80% power; pilots with that
    effect, equal and lognormal store sizes, measure it. With unequal sizes the first row is
    power.py's own plan (with the sizes' CV once it takes one); the others explain it."""
    from experiments.power import PowerInputs, mde_for_stores

    rng = np.random.default_rng(seed)
    k, m, icc, p = (STORE_POWER[x] for x in ("stores", "sessions", "icc", "baseline"))
    inputs = PowerInputs(baseline=p, alpha=ALPHA, power=0.8)
    store_sd = math.sqrt(icc * p * (1 - p))
    rows = []
    for size_sd in size_sds:
        for words, cv, goal in _store_plans(size_sd, m, icc, k):
            effect = float(mde_for_stores(k, inputs, _store_design(m, icc, cv))["mde_abs"])
            model = _bernoulli("task_success_rate", p, effect, store_sd)
            design = Design("store", m, k, size_sd)
            sim = simulate(design, {model.metric: model}, runs, rng)
            rows.append(
                PowerRow(
                    f"{design.label}, ICC {icc:g}",
                    model.metric,
                    f"{words}: {effect:+.3f} from {p:g} with {k}+{k} stores",
                    0.8,
                    _rejections(spec_for(design, (model.metric,)), sim, runs),
                    runs,
                    goal,
                )
            )
    return rows
