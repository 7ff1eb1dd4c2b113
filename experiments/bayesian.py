"""Bayesian read-out of a comparison: chance to win and expected loss (risk).

Like gbstats' ``EffectBayesianABTest`` with its default improper flat prior: the posterior of
the effect is normal with the estimate as mean and its standard error as standard deviation.

- chance to win = P(effect > 0), or P(effect < 0) for metrics where lower is better;
- risk of choosing the variant = E[max(−effect, 0)] (what you lose on average if it is in fact
  worse), risk of keeping the baseline = E[max(effect, 0)]; signs flip for lower-is-better.
  Closed form: for X ~ N(μ, σ²), E[max(X, 0)] = μ·Φ(μ/σ) + σ·φ(μ/σ). Risk is in the
  metric's own unit (the absolute effect: proportion points, seconds, score points).

``chance_to_win`` is what the reports show. It uses the same uncertainty as the comparison's
CI: the same standard error and, when the test has degrees of freedom, Student's t with them
(the posterior of a mean under a flat prior with unknown variance), so it leaves
[2.5%, 97.5%] exactly when the 95% CI excludes zero. It is computed on the relative effect
when there is one (as gbstats: P(lift > 0) from the delta-method relative se) and on the
absolute effect otherwise (metrics whose scale crosses zero, such as NPS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from experiments.distributions import norm_cdf, norm_pdf, t_cdf


@dataclass(frozen=True)
class BayesianResult:
    chance_to_win: float
    risk: float  # expected loss when choosing the variant
    risk_baseline: float  # expected loss when keeping the baseline


def _positive_part_mean(mu: float, sigma: float) -> float:
    """E[max(X, 0)] for X ~ N(mu, sigma²)."""
    z = mu / sigma
    return float(mu * norm_cdf(z) + sigma * norm_pdf(z))


def chance_to_win(
    effect: float, se: float, dof: float | None = None, *, higher_is_better: bool = True
) -> float:
    """P(effect > 0) (``< 0`` when lower is better) for an estimate with standard error ``se``:
    Student's t with ``dof`` degrees of freedom, normal without (or with infinite) ``dof``."""
    if not se > 0 or not math.isfinite(se):
        return 0.5
    good = effect if higher_is_better else -effect
    if dof is None or not math.isfinite(dof):
        return norm_cdf(good / se)
    return t_cdf(good / se, dof)


def gaussian_effect(mean: float, se: float, *, higher_is_better: bool = True) -> BayesianResult:
    """Chance to win and risks for an effect estimate ``mean`` with standard error ``se``."""
    if not se > 0 or not math.isfinite(se):
        return BayesianResult(chance_to_win=0.5, risk=0.0, risk_baseline=0.0)
    good = mean if higher_is_better else -mean
    return BayesianResult(
        chance_to_win=norm_cdf(good / se),  # P(effect > 0): scipy's norm.sf(0, good, se)
        risk=_positive_part_mean(-good, se),
        risk_baseline=_positive_part_mean(good, se),
    )
