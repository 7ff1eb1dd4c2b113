"""Always-valid (sequential) inference for session-randomised experiments: safe to peek.

A fixed-horizon test (``frequentist.welch_test``) holds alpha only when it is read once, at the
planned end. Looked at every day of a four-week pilot and stopped at the first p < alpha, it
rejects a true null in 27–28% of A/A pilots (tests/test_experiments_sequential.py measures
it). The test here holds alpha however often it is looked at: 1.1–1.5% in the same pilots.

Method: the normal-mixture sequential probability ratio test (mSPRT) and its dual, the
asymptotic confidence sequence of Waudby-Smith et al. (2023, arXiv:2103.06476, eq. 9 and 155),
as GrowthBook's gbstats ``SequentialTwoSidedTTest`` computes it (golden values in the tests)
and as Eppo's sequential mode does (Howard et al. 2021). With ``n`` units in the two arms, the
difference of means ``Δ`` and its standard error ``se`` (Welch's, from the sufficient
statistics), ``s² = se²·n`` and the mixture's tuning ``ρ``::

    half-width = s · sqrt( 2(nρ² + 1) / (n²ρ²) · log( sqrt(nρ² + 1) / α ) )
    p          = min(1, sqrt(nρ² + 1) · exp( −ρ²·n·z² / (2(nρ² + 1)) )),  z = Δ / se

The interval excludes 0 exactly when p < α. ``ρ`` is chosen so that the interval is narrowest
when ``n`` reaches the planned sample size ``N*`` (eq. 161):
``ρ² = (−2 log α + log(−2 log α + 1)) / N*``. Any fixed ``N*`` keeps the guarantee; a good
guess only makes the interval narrower (a tenfold miss costs about 10–20% width).

``N*`` comes from the spec's ``planned_sessions`` (the ``total`` of ``experiment power``),
scaled to the two arms a comparison reads; without it, gbstats' default of 5,000.

Two guards of our own: the sequential interval is never narrower than the fixed-horizon Welch
interval and its p never smaller than Welch's p (this matters only with a handful of units,
where the normal approximation behind the confidence sequence is weakest), and without any
variance there is no sequential result (``None``): nothing can end an experiment early then.

The price: at the planned end the interval is about 1.5× as wide as the fixed one, so an effect
of exactly the planned size (80% power at the fixed horizon) is found by the end in about half
the pilots; 1.5× that size in about 90%, typically halfway through; large effects early.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from experiments.distributions import t_ppf_array, t_sf_array
from experiments.frequentist import adjust_p_values
from experiments.results import Comparison, MetricResult, SequentialSummary, finite

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from experiments.statistics import SampleMeanStatistic

METHOD = "mixture_sprt"
DEFAULT_PLANNED_N = 5000  # gbstats' default sequential_tuning_parameter


def mixture_rho(alpha: float, planned_n: ArrayLike) -> ArrayLike:
    """The mixture's tuning ρ that makes the interval narrowest at ``planned_n`` units."""
    minus_2_log_alpha = -2.0 * np.log(alpha)
    return np.sqrt((minus_2_log_alpha + np.log(minus_2_log_alpha + 1.0)) / planned_n)


def mixture_halfwidth(se: ArrayLike, n: ArrayLike, rho: ArrayLike, alpha: float) -> ArrayLike:
    """Half-width of the (1 − α) confidence sequence after ``n`` units (``se`` of the effect)."""
    nr2 = n * rho * rho
    return se * np.sqrt(2.0 * (nr2 + 1.0) * np.log(np.sqrt(nr2 + 1.0) / alpha) / nr2)


def mixture_p_value(
    effect: ArrayLike, se: ArrayLike, n: ArrayLike, rho: ArrayLike, null: float = 0.0
) -> ArrayLike:
    """Always-valid p-value of ``effect`` against ``null``: 1 / the mixture likelihood ratio."""
    z2 = ((effect - null) / se) ** 2
    tr2p1 = n * rho * rho + 1.0
    log_e_value = rho * rho * n * z2 / (2.0 * tr2p1) - 0.5 * np.log(tr2p1)
    return np.exp(-np.maximum(log_e_value, 0.0))


def sequential_arrays(
    n_a: ArrayLike,
    mean_a: ArrayLike,
    var_a: ArrayLike,
    n_b: ArrayLike,
    mean_b: ArrayLike,
    var_b: ArrayLike,
    *,
    alpha: float = 0.05,
    planned_n: ArrayLike = DEFAULT_PLANNED_N,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sequential_test`` on arrays (many experiments or many looks at once): per-unit
    counts, means and variances (ddof=1) of both arms → (p, ci_low, ci_high), NaN where there
    is no result (fewer than 2 units in an arm, no variance)."""
    n_a, n_b = np.asarray(n_a, dtype=float), np.asarray(n_b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        vm_a, vm_b = np.asarray(var_a) / n_a, np.asarray(var_b) / n_b
        se = np.sqrt(vm_a + vm_b)
        ok = (n_a >= 2) & (n_b >= 2) & (se > 0) & np.isfinite(se)
        se = np.where(ok, se, np.nan)
        effect = np.asarray(mean_b, dtype=float) - np.asarray(mean_a, dtype=float)
        n = n_a + n_b
        rho = mixture_rho(alpha, np.asarray(planned_n, dtype=float))
        half = mixture_halfwidth(se, n, rho, alpha)
        p = mixture_p_value(effect, se, n, rho)
        # never narrower than the fixed-horizon Welch interval (only bites with a handful of
        # units, where the normal approximation behind the sequence is weakest)
        dof = (vm_a + vm_b) ** 2 / (vm_a**2 / (n_a - 1) + vm_b**2 / (n_b - 1))
        dof = np.where(np.isfinite(dof), dof, np.inf)
        half = np.maximum(half, t_ppf_array(1 - alpha / 2, dof) * se)
        p = np.maximum(p, 2 * t_sf_array(np.abs(effect) / se, dof))
    return p, effect - half, effect + half


@dataclass(frozen=True)
class SequentialResult:
    """One comparison of b against baseline a, read sequentially (``None``: cannot be said)."""

    abs_effect: float | None
    n: int
    planned_n: float
    rho: float
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    method: str = METHOD


def sequential_test(
    a: SampleMeanStatistic,
    b: SampleMeanStatistic,
    alpha: float = 0.05,
    planned_n: float = DEFAULT_PLANNED_N,
) -> SequentialResult:
    """Always-valid p and confidence sequence for ``b − a`` (per-session values, 0/1 for
    proportions); ``planned_n`` is the units both arms together are expected to reach."""
    if not 0 < alpha < 1 or not planned_n > 0:
        raise ValueError("need 0 < alpha < 1 and planned_n > 0")
    n = int(a.n + b.n)
    rho = float(mixture_rho(alpha, planned_n))
    effect = b.mean - a.mean if a.n and b.n else None
    p, low, high = (
        float(x[()])
        for x in sequential_arrays(
            a.n, a.mean, a.variance, b.n, b.mean, b.variance, alpha=alpha, planned_n=planned_n
        )
    )
    if not math.isfinite(p):
        return SequentialResult(effect, n, planned_n, rho, None, None, None)
    return SequentialResult(effect, n, planned_n, rho, p, low, high)


def comparison_planned_n(
    planned_sessions: float | None, allocation: dict[str, float], baseline: str, variant: str
) -> float:
    """The tuning of one comparison: the planned sessions in its two arms (or the default)."""
    if planned_sessions is None:
        return float(DEFAULT_PLANNED_N)
    return max(planned_sessions * (allocation[baseline] + allocation[variant]), 2.0)


# --- into the typed results ------------------------------------------------------------------


def summary(result: SequentialResult) -> SequentialSummary:
    """The JSON part of a sequential result (``p_adjusted`` filled in by ``adjust``)."""
    return SequentialSummary(
        p_value=finite(result.p_value),
        p_adjusted=None,
        ci_low=finite(result.ci_low),
        ci_high=finite(result.ci_high),
        method=result.method,
        planned_n=round(float(result.planned_n), 3),
    )


def adjust(metrics: Sequence[MetricResult], correction: str) -> list[MetricResult]:
    """Adjust the sequential p-values in the same families as the fixed ones (primary ×
    challengers; the secondaries; guardrails unadjusted). Always-valid p-values are valid
    p-values at any stopping time, so Holm and BH apply to them as they are."""
    adjusted = {}
    for role in ("primary", "secondary"):
        family = [
            c.sequential.p_value if c.sequential else None
            for m in metrics
            if m.role == role
            for c in m.comparisons
        ]
        adjusted[role] = iter(adjust_p_values(family, correction))
    out = []
    for m in metrics:
        comparisons: list[Comparison] = []
        for c in m.comparisons:
            p = next(adjusted[m.role]) if m.role in adjusted else None
            if c.sequential is not None:
                p = c.sequential.p_value if m.role == "guardrail" else finite(p)
                c = replace(c, sequential=replace(c.sequential, p_adjusted=p))
            comparisons.append(c)
        out.append(replace(m, comparisons=tuple(comparisons)))
    return out


def significant(c: Comparison, alpha: float) -> bool:
    """Does the sequential test (adjusted within its family) reject, so it may end early?"""
    s = c.sequential
    return s is not None and s.p_adjusted is not None and s.p_adjusted < alpha
