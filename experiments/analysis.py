"""Analyse an experiment: sufficient statistics from the store → tests → DESIGN.md's JSON.

``analyze(lab, id)`` reads the spec, runs the one reduction query of ``experiments.metrics`` on a
short read-only connection, and hands the statistics to ``analyze_data`` (pure; tests call it
directly). The output is exactly the ``storelab experiment analyze --json`` shape of DESIGN.md,
extended with ``alpha``, ``correction``, ``srm.unit/planned/threshold`` and per comparison
``method``, ``risk`` (expected loss of choosing the variant) and ``se``.

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

Sample ratio mismatch (SRM), threshold p < 0.001
    unit=session  chi-square of sessions per variant against the planned allocation.
    unit=store    assignment is fixed per store in the spec, and how many sessions a store has
                  is its traffic, not the randomisation, so sessions are not tested. Instead
                  the stores that delivered data per variant are compared with the stores the
                  spec planned (chi-square against the planned shares): it catches stores that
                  dropped out or never ran their variant. ``counts`` are stores; the session
                  counts are reported under ``sessions``.

Multiple comparisons
    Holm (default; or "bh", "none") across primary + secondary metrics × variants, stated in
    ``correction``. Guardrails are not adjusted (``p_adjusted == p_value``): for a safety check,
    missing harm is the costlier mistake. ``significant`` means ``p_adjusted < alpha``.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

from experiments.bayesian import gaussian_effect
from experiments.decisions import recommend
from experiments.frequentist import (
    TestResult,
    adjust_p_values,
    permutation_p_value,
    ratio_test,
    store_means_welch_test,
    welch_test,
)
from experiments.metrics import MetricData, sufficient_statistics
from experiments.spec import ExperimentSpec, list_experiments, load_experiment
from experiments.statistics import RatioStatistic, SampleMeanStatistic
from feedback.catalogue import CATALOGUE

if TYPE_CHECKING:
    from lab import Lab

SRM_THRESHOLD = 0.001


def analyze(
    lab: Lab, experiment_id: str, *, today: date | None = None, correction: str = "holm"
) -> dict:
    """The full read-out of one experiment, in DESIGN.md's ``analyze --json`` shape."""
    from feedback.store import connect

    spec = load_experiment(lab, experiment_id)
    with connect(lab, read_only=True) as con:
        data = sufficient_statistics(con, spec)
    return analyze_data(spec, data, today=today, correction=correction)


def analyze_all(lab: Lab, *, today: date | None = None, correction: str = "holm") -> list[dict]:
    """``analyze`` for every experiment in the lab, on one connection."""
    from feedback.store import connect

    specs = [load_experiment(lab, exp_id) for exp_id in list_experiments(lab)]
    if not specs:
        return []
    with connect(lab, read_only=True) as con:
        data = [sufficient_statistics(con, spec) for spec in specs]
    return [
        analyze_data(spec, d, today=today, correction=correction)
        for spec, d in zip(specs, data, strict=True)
    ]


# --- pure part --------------------------------------------------------------------------------


def analyze_data(
    spec: ExperimentSpec,
    data: MetricData,
    *,
    today: date | None = None,
    correction: str = "holm",
) -> dict:
    """Tests, adjustment, SRM and recommendation from already-reduced statistics."""
    metrics = [_metric_result(spec, data, metric, role) for metric, role in spec.metric_roles()]
    _adjust(metrics, spec.alpha, correction)
    srm = srm_check(spec, data)
    decision = recommend(spec, metrics, srm, today=today or date.today(), correction=correction)
    return _clean(
        {
            "experiment": spec.id,
            "unit": spec.unit,
            "alpha": spec.alpha,
            "correction": correction,
            "srm": srm,
            "metrics": metrics,
            "decision": decision,
        }
    )


def _metric_result(spec: ExperimentSpec, data: MetricData, metric: str, role: str) -> dict:
    measure = CATALOGUE.metric(metric)
    kind, higher_is_better = measure.kind, measure.higher_is_better
    if spec.unit == "store":
        stats = _store_statistics(spec, data, metric)
        variants = [
            {
                "variant": v,
                "units": stats[v].n,
                "sessions": int(stats[v].d_statistic.sum),
                "mean": stats[v].mean if stats[v].n else None,
            }
            for v in spec.variants
        ]
    else:
        session_stats = {
            v: data.by_variant.get(v, {}).get(metric, SampleMeanStatistic(0, 0.0, 0.0))
            for v in spec.variants
        }
        variants = [
            {
                "variant": v,
                "units": s.n,
                "sessions": s.n,
                "mean": s.mean if s.n else None,
            }
            for v, s in session_stats.items()
        ]
    comparisons = []
    for challenger in list(spec.variants)[1:]:
        if spec.unit == "store":
            result = _store_comparison(spec, data, metric, challenger)
        else:
            result = welch_test(
                session_stats[spec.baseline], session_stats[challenger], alpha=spec.alpha
            )
        comparisons.append(_comparison(result, challenger, spec.baseline, higher_is_better))
    return {
        "metric": metric,
        "role": role,
        "kind": kind,
        "higher_is_better": higher_is_better,
        "variants": variants,
        "comparisons": comparisons,
    }


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
    return TestResult(
        **{**result.__dict__, "p_value": p_value, "method": f"{result.method}+permutation_{how}"}
    )


def _comparison(result: TestResult, variant: str, baseline: str, higher_is_better: bool) -> dict:
    if result.abs_effect is not None and result.se is not None:
        bayes = gaussian_effect(result.abs_effect, result.se, higher_is_better=higher_is_better)
        chance, risk = bayes.chance_to_win, bayes.risk
    else:
        chance = risk = None
    return {
        "variant": variant,
        "baseline": baseline,
        "abs_effect": result.abs_effect,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p_value": result.p_value,
        "rel_effect": result.rel_effect,
        "rel_ci_low": result.rel_ci_low,
        "rel_ci_high": result.rel_ci_high,
        "p_adjusted": None,
        "chance_to_win": chance,
        "significant": False,
        "risk": risk,
        "se": result.se,
        "method": result.method,
    }


def _adjust(metrics: list[dict], alpha: float, correction: str) -> None:
    family = [c for m in metrics if m["role"] != "guardrail" for c in m["comparisons"]]
    for comparison, p in zip(
        family, adjust_p_values([c["p_value"] for c in family], correction), strict=True
    ):
        comparison["p_adjusted"] = p
    for m in metrics:
        for c in m["comparisons"]:
            if m["role"] == "guardrail":
                c["p_adjusted"] = c["p_value"]
            c["significant"] = c["p_adjusted"] is not None and c["p_adjusted"] < alpha


def srm_check(spec: ExperimentSpec, data: MetricData) -> dict:
    """Sample-ratio-mismatch check (see the module docstring for what is counted)."""
    from scipy.stats import chisquare

    names = list(spec.variants)
    sessions = {v: data.sessions_by_variant.get(v, 0) for v in names}
    if spec.unit == "store":
        planned = {v: len(spec.stores[v]) for v in names}
        counts = {
            v: sum(1 for s in spec.stores[v] if data.sessions_by_store.get(s, 0) > 0) for v in names
        }
        sessions = {v: sum(data.sessions_by_store.get(s, 0) for s in spec.stores[v]) for v in names}
        shares = {v: planned[v] / sum(planned.values()) for v in names}
        unit = "store"
    else:
        counts = sessions
        shares = {v: spec.allocation[v] for v in names}
        planned = shares
        unit = "session"
    total = sum(counts.values())
    p_value = None
    if total > 0:
        expected = [shares[v] * total for v in names]
        p_value = float(chisquare([counts[v] for v in names], expected).pvalue)
    return {
        "p_value": p_value,
        "ok": p_value is None or p_value >= SRM_THRESHOLD,
        "counts": counts,
        "unit": unit,
        "planned": planned,
        "sessions": sessions,
        "threshold": SRM_THRESHOLD,
    }


def _clean(obj):
    """JSON-safe: NaN/inf → None, numpy scalars → Python numbers."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if hasattr(obj, "item"):
        return _clean(obj.item())
    return obj
