"""Bayesian read-out of a comparison: chance to win and expected loss (risk).

Like gbstats' ``EffectBayesianABTest`` with its default improper flat prior: the posterior of
the effect is normal with the estimate as mean and its standard error as standard deviation.

- chance to win = P(effect > 0), or P(effect < 0) for metrics where lower is better;
- risk of choosing the variant = E[max(−effect, 0)] (what you lose on average if it is in fact
  worse), risk of keeping the baseline = E[max(effect, 0)]; signs flip for lower-is-better.
  Closed form: for X ~ N(μ, σ²), E[max(X, 0)] = μ·Φ(μ/σ) + σ·φ(μ/σ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from experiments.distributions import norm_cdf, norm_pdf


@dataclass(frozen=True)
class BayesianResult:
    chance_to_win: float
    risk: float  # expected loss when choosing the variant
    risk_baseline: float  # expected loss when keeping the baseline


def _positive_part_mean(mu: float, sigma: float) -> float:
    """E[max(X, 0)] for X ~ N(mu, sigma²)."""
    z = mu / sigma
    return float(mu * norm_cdf(z) + sigma * norm_pdf(z))


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
