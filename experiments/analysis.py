"""Analyse an experiment: sufficient statistics from the store → tests → DESIGN.md's JSON.

``analyze(lab, id)`` reads the spec, runs the one reduction query of ``experiments.metrics`` on a
short read-only connection, and hands the statistics to ``analyze_data`` (pure; tests call it
directly). It returns an ``experiments.results.ExperimentResult``; its ``to_dict()`` is the
``storelab experiment analyze --json`` shape of DESIGN.md, extended with ``alpha``,
``correction``, ``srm.unit/planned/expected/sessions/threshold``, per comparison ``method``,
``risk`` (expected loss of choosing the variant) and ``se``, and for unit=store per metric the
per-store breakdown ``stores`` (store, variant, sessions with a value, mean).

Unit of inference
    unit=session  Welch's t-test on per-session values (equals scipy's ``ttest_ind(equal_var=
                  False)``), relative effect and CI by the delta method.
    unit=store    The store is the unit. Effect = difference of ratio-of-sums means (Σ values /
                  Σ sessions over the variant's stores: the session-weighted mean), CI from
                  the CR2 cluster-robust variance with Bell–McCaffrey dof
                  (``experiments.store_inference``: keeps 95% coverage with 6 + 6 stores of
                  very unequal size, where the delta method covered 85%); the p-value is an
                  exact permutation p-value over all store assignments (Monte-Carlo with a
                  fixed seed above ~20 stores). A per-session test is never used here: sessions
                  in one store are correlated, and treating them as independent gives false
                  positives far above alpha (see tests/test_experiments_stats.py).

Chance to win
    From the comparison's own se and t dof (``bayesian.chance_to_win``), on the relative
    effect when there is one, else on the absolute effect; so it leaves [2.5%, 97.5%] exactly
    when the (relative) CI excludes zero. Risk (expected loss) is on the absolute effect, in
    the metric's unit.

Relative effects
    ``(μb − μa)/|μa|`` only for metrics whose scale cannot cross zero (the catalogue's
    ``Metric.crosses_zero``; not NPS) and a baseline other than 0; else the ``rel_*`` fields
    are null.

Sample ratio mismatch (SRM), threshold p < 0.001
    Only the sessions the metrics count (customers: no preview or team sessions, see
    ``experiments.metrics``) enter it.
    unit=session  chi-square of sessions per variant against the planned allocation.
    unit=store    assignment is fixed per store in the spec, and how many sessions a store has
                  is its traffic, not the randomisation, so sessions are not tested. Instead
                  the stores that delivered data per variant are compared with the stores the
                  spec planned (chi-square against the planned shares): it catches stores that
                  dropped out or never ran their variant. ``counts`` are stores; the session
                  counts are reported under ``sessions``.

Store KPIs (``kpi:<name>``, unit=store)
    Daily store KPIs from ``store_kpis`` (``experiments.kpis`` reads them in ``analyze``;
    ``analyze_data`` gets them as ``kpis``). Per store the pilot mean is compared, adjusted for
    the pre-period mean by ANCOVA (CUPED); DiD and the unadjusted difference are reported too,
    the p-value is randomisation inference over the store assignment, and a placebo runs the
    same analysis on the pre-period alone (``experiments.kpi_results``, ``experiments.prepost``).

Designs
    A stratified or matched spec (``design``) randomised within strata or pairs; every
    permutation p-value permutes only within them (``design_blocks``).

Multiple comparisons
    Each comparison is adjusted within its own family, as Eppo and Statsig do (``families`` in
    the JSON). The decision family is the primary metric × challengers (the variants other than
    the baseline): Holm (default; or "bh", "none", stated in ``correction``) over those only, so
    with one challenger the primary's adjusted p is its raw p and ``experiment power
    --challengers K`` plans for exactly this family. The secondaries form a family of their own
    (same correction). Guardrails are not adjusted (``p_adjusted == p_value``): for a safety
    check, missing harm is the costlier mistake. ``significant`` means ``p_adjusted < alpha``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from errors import InvalidInputError, StorelabError
from experiments import sequential
from experiments.bayesian import chance_to_win, gaussian_effect
from experiments.decisions import recommend
from experiments.distributions import chisquare_p_value
from experiments.frequentist import (
    TestResult,
    adjust_p_values,
    permutation_p_value,
    ratio_test,
    welch_test,
)
from experiments.kpi_results import kpi_metric_result
from experiments.kpis import KpiData, load_kpis
from experiments.metrics import MetricData, sufficient_statistics
from experiments.results import (
    AnalysisFailure,
    Comparison,
    ExperimentResult,
    MetricResult,
    SequentialSummary,
    SrmCheck,
    StoreSummary,
    VariantSummary,
    finite,
)
from experiments.spec import ExperimentSpec, list_experiments, load_experiment
from experiments.statistics import RatioStatistic, SampleMeanStatistic, Statistic
from experiments.store_inference import StoreValues, store_ratio_test
from feedback import kpi_measures
from feedback.kpi_measures import is_kpi

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import duckdb

    from lab import Lab

SRM_THRESHOLD = 0.001


def analyze(
    lab: Lab,
    experiment_id: str,
    *,
    today: date | None = None,
    correction: str = "holm",
    engine: str = "duckdb",
    master: str | None = None,
) -> ExperimentResult:
    """The full read-out of one experiment (``to_dict()``: ``analyze --json``).

    ``engine="spark"``: the sufficient statistics come from Spark (``master``, default
    ``local[2]``) on a lake's Parquet files (``experiments.spark``); the rest is the same.
    """
    from feedback.store import connect

    if engine not in ("duckdb", "spark"):
        raise InvalidInputError(f"--engine must be duckdb or spark, not {engine!r}")
    data = None
    if engine == "spark":
        from experiments.spark import require_lake, spark_statistics

        require_lake(lab)
        data, _run = spark_statistics(lab, load_experiment(lab, experiment_id), master)
    spec = load_experiment(lab, experiment_id)
    with connect(lab, read_only=True) as con:
        data = data or sufficient_statistics(con, spec)
        kpis = load_kpis(con, spec)
    return analyze_data(spec, data, today=today, correction=correction, kpis=kpis)


def analyze_all(
    lab: Lab, *, today: date | None = None, correction: str = "holm"
) -> list[ExperimentResult | AnalysisFailure]:
    """``analyze`` for every experiment in the lab, on one connection.

    One experiment that cannot be read or analysed becomes an ``AnalysisFailure`` in its place
    (the others are still analysed); a lab without a database stays a user error.
    """

    def one(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> ExperimentResult:
        data = sufficient_statistics(con, spec)
        kpis = load_kpis(con, spec)
        return analyze_data(spec, data, today=today, correction=correction, kpis=kpis)

    return analyze_each(lab, one)


def analyze_each(
    lab: Lab, read: Callable[[duckdb.DuckDBPyConnection, ExperimentSpec], ExperimentResult]
) -> list[ExperimentResult | AnalysisFailure]:
    """``read(con, spec)`` for every experiment of the lab on one read-only connection; one
    that fails becomes an ``AnalysisFailure`` in its place and the others go on."""
    from feedback.store import connect

    ids = list_experiments(lab)
    if not ids:
        return []
    out: list[ExperimentResult | AnalysisFailure] = []
    with connect(lab, read_only=True) as con:
        for exp_id in ids:
            try:
                out.append(read(con, load_experiment(lab, exp_id)))
            except Exception as exc:  # noqa: BLE001 - one experiment must not stop the others
                why = str(exc) if isinstance(exc, StorelabError) else f"{type(exc).__name__}: {exc}"
                out.append(AnalysisFailure(exp_id, why))
    return out


# --- pure part --------------------------------------------------------------------------------


def analyze_data(
    spec: ExperimentSpec,
    data: MetricData,
    *,
    today: date | None = None,
    correction: str = "holm",
    kpis: KpiData | None = None,
) -> ExperimentResult:
    """Tests, adjustment, SRM and recommendation from already-reduced statistics (``kpis``:
    the store-KPI period means a spec with ``kpi:<name>`` metrics needs)."""
    metrics = [
        kpi_metric_result(spec, kpis, metric, role)
        if is_kpi(metric)
        else _metric_result(spec, data, metric, role)
        for metric, role in spec.metric_roles()
    ]
    metrics = sequential.adjust(_adjust(metrics, spec.alpha, correction), correction)
    srm = srm_check(spec, data)
    decision = recommend(spec, metrics, srm, today=today or date.today(), correction=correction)
    return ExperimentResult(
        experiment=spec.id,
        unit=spec.unit,
        alpha=spec.alpha,
        correction=correction,
        srm=srm,
        metrics=tuple(metrics),
        decision=decision,
        mislabelled_sessions=_mislabelled(data),
        design=spec.design,
    )


def _mislabelled(data: MetricData) -> dict[str, dict[str, int]]:
    """``{store: {label: sessions}}`` sorted; a session without a label shows as "(none)"."""
    return {
        store: dict(sorted((label or "(none)", n) for label, n in labels.items()))
        for store, labels in sorted(data.mislabelled_sessions.items())
    }


def unadjusted_metric_result(
    spec: ExperimentSpec, data: MetricData, metric: str, role: str = "primary"
) -> MetricResult:
    """One metric exactly as ``analyze_data`` tests it (same test for the spec's unit), before
    any family adjustment (``p_adjusted`` None). The timeline and the breakdowns call it on a
    part of the data (the days so far, one segment) so they always run the final test."""
    return _metric_result(spec, data, metric, role)


def _metric_result(spec: ExperimentSpec, data: MetricData, metric: str, role: str) -> MetricResult:
    measure = kpi_measures.measure(metric)
    higher_is_better = measure.higher_is_better
    challengers = list(spec.variants)[1:]
    stores = None
    if spec.unit == "store":
        variants = [_store_variant_summary(spec, data, metric, v) for v in spec.variants]
        results = [_store_comparison(spec, data, metric, v) for v in challengers]
        stores = _store_summaries(spec, data, metric)
        seq_results = [None] * len(challengers)  # read once, at the end: see Comparison
    else:
        session_stats = {
            v: data.by_variant.get(v, {}).get(metric, SampleMeanStatistic(0, 0.0, 0.0))
            for v in spec.variants
        }
        variants = [_summary(v, s.n, s.n, s.mean) for v, s in session_stats.items()]
        results = [
            _session_test(session_stats[spec.baseline], session_stats[v], spec.alpha)
            for v in challengers
        ]
        seq_results = [_sequential(spec, session_stats, v) for v in challengers]
    return MetricResult(
        metric=metric,
        role=role,
        kind=measure.kind,
        higher_is_better=higher_is_better,
        variants=tuple(variants),
        comparisons=tuple(
            replace(
                _comparison(
                    _without_relative(r) if measure.crosses_zero else r,
                    v,
                    spec.baseline,
                    higher_is_better,
                ),
                sequential=seq,
            )
            for r, v, seq in zip(results, challengers, seq_results, strict=True)
        ),
        stores=stores,
    )


def _sequential(spec: ExperimentSpec, stats: dict, challenger: str) -> SequentialSummary:
    """The always-valid reading of one session comparison (``experiments.sequential``)."""
    planned_n = sequential.comparison_planned_n(
        spec.planned_sessions, spec.allocation, spec.baseline, challenger
    )
    return sequential.summary(
        sequential.sequential_test(
            stats[spec.baseline], stats[challenger], alpha=spec.alpha, planned_n=planned_n
        )
    )


def _summary(variant: str, units: int, sessions: int, mean: float) -> VariantSummary:
    return VariantSummary(variant, int(units), int(sessions), finite(mean) if units else None)


def _store_summaries(
    spec: ExperimentSpec, data: MetricData, metric: str
) -> tuple[StoreSummary, ...]:
    """Each store with a value of ``metric``: its variant, sessions with a value and mean."""
    out = []
    for variant, stores in spec.stores.items():
        for store in stores:
            stat = data.by_store.get(store, {}).get(metric)
            if stat is not None and stat.n > 0:
                out.append(StoreSummary(store, variant, int(stat.n), finite(stat.mean)))
    return tuple(out)


def _session_test(a: Statistic, b: Statistic, alpha: float) -> TestResult:
    """Welch on per-session values; a ratio metric (Σm/Σd over sessions): the delta method."""
    if isinstance(a, RatioStatistic) or isinstance(b, RatioStatistic):
        return ratio_test(a, b, alpha=alpha)
    return welch_test(a, b, alpha=alpha)


def _store_stats(spec: ExperimentSpec, data: MetricData, metric: str, variant: str) -> list:
    """The statistics of the variant's stores that have a value of ``metric``."""
    stats = (data.by_store.get(store, {}).get(metric) for store in spec.stores[variant])
    return [s for s in stats if s is not None and s.n > 0]


def _store_parts(stat: Statistic) -> tuple[float, float, float]:
    """A store's (numerator, denominator, sampling variance of its value): (Σ values, sessions
    with a value), or (Σm, Σd) of a ratio metric, so its value is Σm/Σd either way."""
    if isinstance(stat, RatioStatistic):
        return stat.m_statistic.sum, stat.d_statistic.sum, stat.mean_variance
    return stat.sum, float(stat.n), stat.mean_variance


def _store_values(spec: ExperimentSpec, data: MetricData, metric: str, variant: str) -> StoreValues:
    """Per-store numerators and denominators of the variant's stores that have data."""
    parts = [_store_parts(s) for s in _store_stats(spec, data, metric, variant)]
    return StoreValues.of(*zip(*parts, strict=True)) if parts else StoreValues.of([], [])


def _store_variant_summary(
    spec: ExperimentSpec, data: MetricData, metric: str, variant: str
) -> VariantSummary:
    """Stores with a value, their sessions with a value, and the ratio of sums."""
    sessions = sum(s.n for s in _store_stats(spec, data, metric, variant))
    values = _store_values(spec, data, metric, variant)
    return _summary(variant, values.n, sessions, values.ratio)


def _store_comparison(
    spec: ExperimentSpec, data: MetricData, metric: str, challenger: str
) -> TestResult:
    """CI from ``store_inference`` (CR2, Bell–McCaffrey dof), p from the exact permutation test."""
    a = _store_values(spec, data, metric, spec.baseline)
    b = _store_values(spec, data, metric, challenger)
    result = store_ratio_test(a, b, alpha=spec.alpha)
    if a.n < 1 or b.n < 1:
        return result
    p_value, how, _ = permutation_p_value(
        a.numerators + b.numerators,
        a.denominators + b.denominators,
        [False] * a.n + [True] * b.n,
        blocks=design_blocks(spec, data, metric, (spec.baseline, challenger)),
    )
    if p_value is None:
        return result
    return replace(result, p_value=p_value, method=f"{result.method}+permutation_{how}")


def design_blocks(
    spec: ExperimentSpec, data: MetricData, metric: str, variants: tuple[str, str]
) -> list[str] | None:
    """The stratum or pair of each store with data, in ``_store_values`` order (baseline's
    stores, then the challenger's); None for a completely randomised design."""
    blocks = spec.blocks
    if blocks is None:
        return None
    return [
        blocks[store]
        for variant in variants
        for store in spec.stores[variant]
        if (stat := data.by_store.get(store, {}).get(metric)) is not None and stat.n > 0
    ]


def _without_relative(result: TestResult) -> TestResult:
    """No relative effect: on a scale that can cross zero (NPS) the baseline can sit near zero
    or below it, and a percentage of it means nothing (+513% with a CI of −695% to +1722%)."""
    return replace(result, rel_effect=None, rel_se=None, rel_ci_low=None, rel_ci_high=None)


def _comparison(
    result: TestResult, variant: str, baseline: str, higher_is_better: bool
) -> Comparison:
    """The comparison before adjustment (``p_adjusted`` None, not significant)."""
    chance = risk = None
    if result.abs_effect is not None and result.se is not None:
        risk = gaussian_effect(result.abs_effect, result.se, higher_is_better=higher_is_better).risk
        # the same uncertainty as the CI: same se and t dof; relative when there is one
        relative = result.rel_effect is not None and result.rel_se is not None
        effect, se = (
            (result.rel_effect, result.rel_se) if relative else (result.abs_effect, result.se)
        )
        chance = chance_to_win(effect, se, result.dof, higher_is_better=higher_is_better)
    return Comparison(
        variant=variant,
        baseline=baseline,
        abs_effect=finite(result.abs_effect),
        ci_low=finite(result.ci_low),
        ci_high=finite(result.ci_high),
        p_value=finite(result.p_value),
        rel_effect=finite(result.rel_effect),
        rel_ci_low=finite(result.rel_ci_low),
        rel_ci_high=finite(result.rel_ci_high),
        p_adjusted=None,
        chance_to_win=finite(chance),
        significant=False,
        risk=finite(risk),
        se=finite(result.se),
        method=result.method,
        dof=finite(result.dof),
    )


def _adjust(metrics: list[MetricResult], alpha: float, correction: str) -> list[MetricResult]:
    """Adjust each family on its own: primary × challengers (the decision), the secondaries;
    guardrails keep their raw p-values."""
    adjusted: dict[str, Iterator[float | None]] = {}
    for role in ("primary", "secondary"):
        family = [c.p_value for m in metrics if m.role == role for c in m.comparisons]
        adjusted[role] = iter(adjust_p_values(family, correction))
    out = []
    for m in metrics:
        comparisons = []
        for c in m.comparisons:
            p = c.p_value if m.role == "guardrail" else finite(next(adjusted[m.role]))
            comparisons.append(replace(c, p_adjusted=p, significant=p is not None and p < alpha))
        out.append(replace(m, comparisons=tuple(comparisons)))
    return out


def srm_check(spec: ExperimentSpec, data: MetricData) -> SrmCheck:
    """Sample-ratio-mismatch check (see the module docstring for what is counted)."""
    names = list(spec.variants)
    sessions = {v: data.sessions_by_variant.get(v, 0) for v in names}
    if spec.unit == "store":
        planned = {v: len(spec.stores[v]) for v in names}
        counts = {
            v: sum(1 for s in spec.stores[v] if data.sessions_by_store.get(s, 0) > 0) for v in names
        }
        sessions = {v: sum(data.sessions_by_store.get(s, 0) for s in spec.stores[v]) for v in names}
        shares = {v: planned[v] / sum(planned.values()) for v in names}
    else:
        counts = sessions
        shares = {v: spec.allocation[v] for v in names}
        planned = shares
    total = sum(counts.values())
    expected = {v: shares[v] * total for v in names}
    p_value = None
    if total > 0:
        p_value = finite(chisquare_p_value([counts[v] for v in names], list(expected.values())))
    return SrmCheck(
        p_value=p_value,
        ok=p_value is None or p_value >= SRM_THRESHOLD,
        counts=counts,
        unit=spec.unit,
        planned=planned,
        expected=expected,
        sessions=sessions,
        threshold=SRM_THRESHOLD,
    )
