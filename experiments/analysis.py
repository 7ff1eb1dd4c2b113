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
                  Σ sessions over the variant's stores), CI from the delta-method variance with
                  stores as units and Welch–Satterthwaite dof over store counts; the p-value is
                  an exact permutation p-value over all store assignments (Monte-Carlo with a
                  fixed seed above ~20 stores). A per-session test is never used here: sessions
                  in one store are correlated, and treating them as independent gives false
                  positives far above alpha (see tests/test_experiments_stats.py). If the delta
                  variance is degenerate, Welch across store means is the fallback for the CI.

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

from errors import StorelabError
from experiments.bayesian import gaussian_effect
from experiments.decisions import recommend
from experiments.distributions import chisquare_p_value
from experiments.frequentist import (
    TestResult,
    adjust_p_values,
    permutation_p_value,
    ratio_test,
    store_means_welch_test,
    welch_test,
)
from experiments.metrics import MetricData, sufficient_statistics
from experiments.results import (
    AnalysisFailure,
    Comparison,
    ExperimentResult,
    MetricResult,
    SrmCheck,
    StoreSummary,
    VariantSummary,
    finite,
)
from experiments.spec import ExperimentSpec, list_experiments, load_experiment
from experiments.statistics import RatioStatistic, SampleMeanStatistic
from feedback.catalogue import CATALOGUE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lab import Lab

SRM_THRESHOLD = 0.001


def analyze(
    lab: Lab, experiment_id: str, *, today: date | None = None, correction: str = "holm"
) -> ExperimentResult:
    """The full read-out of one experiment (``to_dict()``: ``analyze --json``)."""
    from feedback.store import connect

    spec = load_experiment(lab, experiment_id)
    with connect(lab, read_only=True) as con:
        data = sufficient_statistics(con, spec)
    return analyze_data(spec, data, today=today, correction=correction)


def analyze_all(
    lab: Lab, *, today: date | None = None, correction: str = "holm"
) -> list[ExperimentResult | AnalysisFailure]:
    """``analyze`` for every experiment in the lab, on one connection.

    One experiment that cannot be read or analysed becomes an ``AnalysisFailure`` in its place
    (the others are still analysed); a lab without a database stays a user error.
    """
    from feedback.store import connect

    ids = list_experiments(lab)
    if not ids:
        return []
    out: list[ExperimentResult | AnalysisFailure] = []
    with connect(lab, read_only=True) as con:
        for exp_id in ids:
            try:
                spec = load_experiment(lab, exp_id)
                data = sufficient_statistics(con, spec)
                out.append(analyze_data(spec, data, today=today, correction=correction))
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
) -> ExperimentResult:
    """Tests, adjustment, SRM and recommendation from already-reduced statistics."""
    metrics = [_metric_result(spec, data, metric, role) for metric, role in spec.metric_roles()]
    metrics = _adjust(metrics, spec.alpha, correction)
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
    )


def _metric_result(spec: ExperimentSpec, data: MetricData, metric: str, role: str) -> MetricResult:
    measure = CATALOGUE.metric(metric)
    higher_is_better = measure.higher_is_better
    challengers = list(spec.variants)[1:]
    stores = None
    if spec.unit == "store":
        stats = _store_statistics(spec, data, metric)
        variants = [
            _summary(v, stats[v].n, int(stats[v].d_statistic.sum), stats[v].mean)
            for v in spec.variants
        ]
        results = [_store_comparison(spec, data, metric, v) for v in challengers]
        stores = _store_summaries(spec, data, metric)
    else:
        session_stats = {
            v: data.by_variant.get(v, {}).get(metric, SampleMeanStatistic(0, 0.0, 0.0))
            for v in spec.variants
        }
        variants = [_summary(v, s.n, s.n, s.mean) for v, s in session_stats.items()]
        results = [
            welch_test(session_stats[spec.baseline], session_stats[v], alpha=spec.alpha)
            for v in challengers
        ]
    return MetricResult(
        metric=metric,
        role=role,
        kind=measure.kind,
        higher_is_better=higher_is_better,
        variants=tuple(variants),
        comparisons=tuple(
            _comparison(
                _without_relative(r) if measure.crosses_zero else r,
                v,
                spec.baseline,
                higher_is_better,
            )
            for r, v in zip(results, challengers, strict=True)
        ),
        stores=stores,
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


def _store_values(
    spec: ExperimentSpec, data: MetricData, metric: str, variant: str
) -> tuple[list[float], list[float]]:
    """Per-store (Σ values, sessions with a value) for the variant's stores that have data."""
    sums, counts = [], []
    for store in spec.stores[variant]:
        stat = data.by_store.get(store, {}).get(metric)
        if stat is not None and stat.n > 0:
            sums.append(stat.sum)
            counts.append(float(stat.n))
    return sums, counts


def _store_statistics(spec: ExperimentSpec, data: MetricData, metric: str) -> dict:
    return {
        v: RatioStatistic.from_clusters(*_store_values(spec, data, metric, v))
        for v in spec.variants
    }


def _store_comparison(
    spec: ExperimentSpec, data: MetricData, metric: str, challenger: str
) -> TestResult:
    sums_a, n_a = _store_values(spec, data, metric, spec.baseline)
    sums_b, n_b = _store_values(spec, data, metric, challenger)
    stat_a = RatioStatistic.from_clusters(sums_a, n_a)
    stat_b = RatioStatistic.from_clusters(sums_b, n_b)
    result = ratio_test(stat_a, stat_b, alpha=spec.alpha)
    if result.se is None and stat_a.n >= 2 and stat_b.n >= 2:
        means_a = [s / n for s, n in zip(sums_a, n_a, strict=True)]
        means_b = [s / n for s, n in zip(sums_b, n_b, strict=True)]
        result = store_means_welch_test(means_a, means_b, alpha=spec.alpha)
    if stat_a.n < 1 or stat_b.n < 1:
        return result
    p_value, how, _ = permutation_p_value(
        sums_a + sums_b, n_a + n_b, [False] * len(sums_a) + [True] * len(sums_b)
    )
    if p_value is None:
        return result
    return replace(result, p_value=p_value, method=f"{result.method}+permutation_{how}")


def _without_relative(result: TestResult) -> TestResult:
    """No relative effect: on a scale that can cross zero (NPS) the baseline can sit near zero
    or below it, and a percentage of it means nothing (+513% with a CI of −695% to +1722%)."""
    return replace(result, rel_effect=None, rel_se=None, rel_ci_low=None, rel_ci_high=None)


def _comparison(
    result: TestResult, variant: str, baseline: str, higher_is_better: bool
) -> Comparison:
    """The comparison before adjustment (``p_adjusted`` None, not significant)."""
    if result.abs_effect is not None and result.se is not None:
        bayes = gaussian_effect(result.abs_effect, result.se, higher_is_better=higher_is_better)
        chance, risk = bayes.chance_to_win, bayes.risk
    else:
        chance = risk = None
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
