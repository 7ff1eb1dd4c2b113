"""What to say about a store KPI next to its numbers: the method, the variance the pre-period
removed, the other estimators and the placebo. The terminal, the HTML report and the dashboard
all print these same sentences."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from reports import scorecard as sc

if TYPE_CHECKING:
    from experiments.results import Comparison, ExperimentResult, MetricResult

ESTIMATOR_NAMES = {
    "ancova": "ANCOVA (CUPED) on the pre-period mean",
    "did": "difference-in-differences",
    "unadjusted": "unadjusted difference of pilot means",
}
HOW = {
    "exact": "exact randomisation p over every possible store assignment",
    "monte_carlo": "Monte-Carlo randomisation p (fixed seed)",
}


def _effect(metric: MetricResult, value: float | None, low: float | None, high: float | None):
    fmt = partial(sc.fmt_abs_effect, metric)
    return f"{fmt(value)} {sc.fmt_ci(low, high, fmt)}"


def method_line(metric: MetricResult, c: Comparison) -> str:
    """ "Method: ANCOVA … · pre-period … · variance −60% · DiD … · unadjusted …"."""
    estimator, _, how = c.method.partition("+randomisation_")
    parts = [f"Method: {ESTIMATOR_NAMES.get(estimator, estimator)}"]
    if metric.pre_period:
        parts.append(f"pre-period {metric.pre_period[0]} – {metric.pre_period[1]}")
    if how:
        parts.append(HOW.get(how, how))
    if c.variance_reduction is not None:
        parts.append(f"the pre-period removed {c.variance_reduction:.0%} of the variance")
    others = [
        f"{'DiD' if e.estimator == 'did' else e.estimator} "
        f"{_effect(metric, e.abs_effect, e.ci_low, e.ci_high)}, p {sc.fmt_p(e.p_value)}"
        for e in c.estimates or ()
        if e.estimator != estimator
    ]
    if others:
        parts.append("; ".join(others))
    return " · ".join(parts) + "."


def placebo_line(metric: MetricResult, c: Comparison) -> str:
    """The placebo on the pre-period alone, and whether it stayed quiet."""
    p = c.placebo
    if p is None:
        return "Placebo: not enough pre-period data to run it."
    verdict = {
        True: "nothing found, as it should be",
        False: "found a difference before any variant ran: the stores were not alike "
        "(or chance, 1 in 20); read the result with care",
        None: "no p-value",
    }[p.ok]
    return (
        f"Placebo (same analysis, {p.pre[0]} – {p.pre[1]} as pre-period, {p.pilot[0]} – "
        f"{p.pilot[1]} as pilot): {_effect(metric, p.abs_effect, p.ci_low, p.ci_high)}, "
        f"p {sc.fmt_p(p.p_value)}: {verdict}."
    )


def kpi_lines(metric: MetricResult) -> list[str]:
    """Method and placebo sentences for every comparison of a store KPI (else none)."""
    lines = []
    for c in metric.comparisons:
        if c.estimates is None:
            continue
        prefix = f"{c.variant}: " if len(metric.comparisons) > 1 else ""
        lines += [prefix + method_line(metric, c), prefix + placebo_line(metric, c)]
    return lines


def design_note(result: ExperimentResult) -> str:
    """How the stores were assigned, when it was not completely at random ("" otherwise)."""
    if result.design == "stratified":
        return (
            "Stores were randomised within strata: every permutation p-value permutes the "
            "variants only within a stratum, as the assignment did."
        )
    if result.design == "matched":
        return (
            "Stores were randomised within matched pairs (alike before the pilot): every "
            "permutation p-value swaps the variants only within a pair, as the assignment did."
        )
    return ""


def kpi_methods(result: ExperimentResult) -> list[str]:
    """Methods paragraphs for store KPIs and designs (none when neither applies)."""
    paras = [design_note(result)] if design_note(result) else []
    if any(c.estimates is not None for m in result.metrics for c in m.comparisons):
        paras.append(
            "Store KPIs (kpi:…) compare each store's mean over the pilot. The reported effect "
            "adjusts for the store's mean over the pre-period by ANCOVA (CUPED: regress the "
            "pilot mean on the variant and the pre-period mean, stores as units); it is never "
            "less precise than difference-in-differences or the unadjusted difference, which "
            "are reported too. Intervals use HC2 standard errors with n − 3 degrees of freedom; "
            "p-values re-run the estimator on every store assignment the design allowed. "
            "A placebo runs the same analysis on the pre-period alone (first half as "
            "pre-period, second half as pilot): no variant ran then, so it should find nothing."
        )
    return paras
