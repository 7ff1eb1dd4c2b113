"""A store KPI (``kpi:<name>``) as a metric of the analysis: stores, estimators, placebo.

``kpi_metric_result`` turns the per-store period means of ``experiments.kpis.KpiData`` into an
``experiments.results.MetricResult`` like any other metric, so adjustment, decisions and the
reports treat it the same way. The effect of each challenger is estimated over the baseline's
and the challenger's stores with a pilot mean (``experiments.prepost``): ANCOVA on the
pre-period mean when every such store has one, else the unadjusted difference; the p-value is
randomisation inference that permutes within the design's strata or pairs. The placebo runs
the same analysis on the pre-period alone (first half as "pre", second half as "pilot").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from errors import InvalidInputError
from experiments.bayesian import chance_to_win, gaussian_effect
from experiments.prepost import Estimate, PrePostResult, prepost, relative_effect
from experiments.results import (
    Comparison,
    KpiEstimate,
    MetricResult,
    Placebo,
    StoreSummary,
    VariantSummary,
    finite,
)
from feedback.kpi_measures import kpi_metric

if TYPE_CHECKING:
    from experiments.kpis import KpiData, StoreKpi
    from experiments.spec import ExperimentSpec


def kpi_metric_result(
    spec: ExperimentSpec, kpis: KpiData | None, metric: str, role: str
) -> MetricResult:
    """The read-out of store KPI ``metric`` (before the family adjustment)."""
    if kpis is None or metric not in kpis.stores:
        raise InvalidInputError(
            f"{spec.id}: {metric} needs the lab's store KPIs; analyse with "
            "experiments.analysis.analyze (it loads them), or pass kpis= to analyze_data"
        )
    measure = kpi_metric(metric)
    by_store = kpis.stores[metric]
    variants, summaries = [], []
    for variant in spec.variants:
        rows = [(s, by_store[s]) for s in spec.stores[variant] if _has_pilot(by_store.get(s))]
        means = [k.pilot for _, k in rows]
        days = sum(k.pilot_days for _, k in rows)
        variants.append(
            VariantSummary(
                variant, len(rows), days, finite(sum(means) / len(means)) if rows else None
            )
        )
        summaries += [StoreSummary(s, variant, k.pilot_days, finite(k.pilot)) for s, k in rows]
    comparisons = tuple(
        _comparison(spec, kpis, metric, challenger, measure.higher_is_better)
        for challenger in list(spec.variants)[1:]
    )
    return MetricResult(
        metric=metric,
        role=role,
        kind=measure.kind,
        higher_is_better=measure.higher_is_better,
        variants=tuple(variants),
        comparisons=comparisons,
        stores=tuple(summaries),
        pre_period=tuple(d.isoformat() for d in kpis.pre_period),
    )


def _has_pilot(k: StoreKpi | None) -> bool:
    return k is not None and k.pilot is not None


def _arms(
    spec: ExperimentSpec, by_store: dict[str, StoreKpi], challenger: str, *, placebo: bool
) -> tuple[list[str], list[float], list[float] | None, list[bool]]:
    """(stores, y, x or None, treated) for baseline + challenger stores with an outcome."""
    stores, y, x, t = [], [], [], []
    for variant in (spec.baseline, challenger):
        for store in spec.stores[variant]:
            k = by_store.get(store)
            if k is None:
                continue
            outcome, covariate = (k.pre_second, k.pre_first) if placebo else (k.pilot, k.pre)
            if outcome is None:
                continue
            stores.append(store)
            y.append(outcome)
            x.append(covariate)
            t.append(variant == challenger)
    adjusted = all(v is not None for v in x)
    return stores, y, (x if adjusted else None), t


def _run(
    spec: ExperimentSpec, by_store: dict[str, StoreKpi], challenger: str, *, placebo: bool
) -> tuple[PrePostResult | None, list[float], list[float] | None, list[bool]]:
    stores, y, x, t = _arms(spec, by_store, challenger, placebo=placebo)
    if sum(t) < 1 or len(t) - sum(t) < 1:
        return None, y, x, t
    blocks = spec.blocks
    in_blocks = [blocks[s] for s in stores] if blocks else None
    return prepost(y, x, t, alpha=spec.alpha, blocks=in_blocks), y, x, t


def _kpi_estimate(e: Estimate) -> KpiEstimate:
    return KpiEstimate(
        e.estimator,
        finite(e.effect),
        finite(e.se),
        finite(e.dof),
        finite(e.ci_low),
        finite(e.ci_high),
        finite(e.p_value),
    )


def _placebo(spec: ExperimentSpec, kpis: KpiData, metric: str, challenger: str) -> Placebo | None:
    result, *_ = _run(spec, kpis.stores[metric], challenger, placebo=True)
    if result is None:
        return None
    c = result.chosen
    p = finite(c.p_value)
    return Placebo(
        pre=tuple(d.isoformat() for d in kpis.placebo_pre),
        pilot=tuple(d.isoformat() for d in kpis.placebo_pilot),
        method=result.method,
        abs_effect=finite(c.effect),
        ci_low=finite(c.ci_low),
        ci_high=finite(c.ci_high),
        p_value=p,
        ok=None if p is None else p >= spec.alpha,
    )


def _comparison(
    spec: ExperimentSpec, kpis: KpiData, metric: str, challenger: str, higher_is_better: bool
) -> Comparison:
    result, y, x, t = _run(spec, kpis.stores[metric], challenger, placebo=False)
    if result is None:
        return Comparison(
            challenger, spec.baseline, None, None, None, None, None, None, None, None, None,
            False, None, None, "none", None, estimates=(), placebo=None,
        )  # fmt: skip
    c = result.chosen
    rel = (None, None, None)
    if c.ci_low is not None and not kpi_metric(metric).crosses_zero:
        rel = relative_effect(c, y, x, t)
    chance = risk = None
    if c.effect is not None and c.se is not None:
        risk = gaussian_effect(c.effect, c.se, higher_is_better=higher_is_better).risk
        # the CI's uncertainty: same se and t dof, so chance to win leaves [2.5%, 97.5%]
        # exactly when the CI excludes 0 (a normal here overstated it with ~10 stores)
        chance = chance_to_win(c.effect, c.se, c.dof, higher_is_better=higher_is_better)
    return Comparison(
        variant=challenger,
        baseline=spec.baseline,
        abs_effect=finite(c.effect),
        ci_low=finite(c.ci_low),
        ci_high=finite(c.ci_high),
        p_value=finite(c.p_value),
        rel_effect=finite(rel[0]),
        rel_ci_low=finite(rel[1]),
        rel_ci_high=finite(rel[2]),
        p_adjusted=None,
        chance_to_win=finite(chance),
        significant=False,
        risk=finite(risk),
        se=finite(c.se),
        method=result.method,
        dof=finite(c.dof),
        variance_reduction=finite(result.variance_reduction),
        estimates=tuple(_kpi_estimate(e) for e in result.estimates),
        placebo=_placebo(spec, kpis, metric, challenger),
    )
