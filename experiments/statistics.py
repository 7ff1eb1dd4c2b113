"""Sufficient statistics: the few numbers per variant (or per store) that every test needs.

SQL (``experiments.metrics``) reduces events to these; nothing here ever sees an event. The
shapes follow GrowthBook's gbstats (``models/statistics.py``): small frozen dataclasses with
``n``, ``sum``, ``sum_squares`` whose properties give mean and variance.

One deliberate difference from gbstats: ``ProportionStatistic.variance`` is the unbiased sample
variance of the 0/1 values (``p(1-p)·n/(n-1)``), not ``p(1-p)``, so that a Welch test on it equals
``scipy.stats.ttest_ind(equal_var=False)`` on the per-session 0/1 values, as DESIGN.md requires.

``RatioStatistic`` is gbstats' ratio statistic: per unit a numerator ``m`` and a denominator
``d``; its mean is the ratio of sums ``Σm/Σd`` and its variance the delta-method variance of that
ratio with the units as independent (see ``variance_of_ratio``). With sessions as units it is a
ratio metric such as the misclick rate (m = misclicks, d = taps + misclicks of a session); with
stores as units (m = Σ values, d = sessions with a value) it is the store-level mean, whose
small-sample CI is ``experiments.store_inference`` (CR2) rather than this delta variance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def variance_of_ratio(
    mean_m: float, var_m: float, mean_d: float, var_d: float, cov: float
) -> float:
    """Delta-method variance of ``M / D`` given the moments of ``M`` and ``D``.

    ``Var(M/D) ≈ Var(M)/μd² + μm²·Var(D)/μd⁴ − 2·μm·Cov(M, D)/μd³`` (first-order Taylor). The
    moments passed in are those *of the means* (already divided by n), as in gbstats.
    """
    if mean_d == 0:
        return 0.0
    return var_m / mean_d**2 + var_d * mean_m**2 / mean_d**4 - 2.0 * cov * mean_m / mean_d**3


@dataclass(frozen=True)
class SampleMeanStatistic:
    """A mean metric over ``n`` units: the units' count, sum and sum of squares."""

    n: int
    sum: float
    sum_squares: float

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n > 0 else 0.0

    @property
    def variance(self) -> float:
        """Unbiased sample variance of the unit values (``ddof=1``)."""
        if self.n <= 1:
            return 0.0
        return max((self.sum_squares - self.sum**2 / self.n) / (self.n - 1), 0.0)

    @property
    def stddev(self) -> float:
        return math.sqrt(self.variance)

    @property
    def mean_variance(self) -> float:
        """Variance of the mean: ``s²/n``."""
        return self.variance / self.n if self.n > 0 else 0.0

    def __add__(self, other: SampleMeanStatistic) -> SampleMeanStatistic:
        return SampleMeanStatistic(
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_squares=self.sum_squares + other.sum_squares,
        )


@dataclass(frozen=True)
class ProportionStatistic(SampleMeanStatistic):
    """A 0/1 metric: ``sum`` is the count of ones, so ``sum_squares == sum``."""

    sum_squares: float = -1.0  # filled in from ``sum``; a 0/1 value equals its square

    def __post_init__(self) -> None:
        if self.sum_squares < 0:
            object.__setattr__(self, "sum_squares", float(self.sum))


@dataclass(frozen=True)
class RatioStatistic:
    """A ratio of sums over ``n`` clusters (stores), with its delta-method variance.

    ``m`` and ``d`` are the per-cluster numerators and denominators (as ``SampleMeanStatistic``
    over clusters) and ``m_d_sum_of_products`` is ``Σ mᵢ·dᵢ``.
    """

    n: int
    m_statistic: SampleMeanStatistic
    d_statistic: SampleMeanStatistic
    m_d_sum_of_products: float

    @classmethod
    def from_clusters(cls, numerators, denominators) -> RatioStatistic:
        """Build from per-cluster numerators and denominators (sequences of equal length)."""
        m = [float(x) for x in numerators]
        d = [float(x) for x in denominators]
        if len(m) != len(d):
            raise ValueError("numerators and denominators differ in length")
        return cls(
            n=len(m),
            m_statistic=SampleMeanStatistic(len(m), sum(m), sum(x * x for x in m)),
            d_statistic=SampleMeanStatistic(len(d), sum(d), sum(x * x for x in d)),
            m_d_sum_of_products=sum(a * b for a, b in zip(m, d, strict=True)),
        )

    @property
    def mean(self) -> float:
        """Ratio of sums ``Σm / Σd``."""
        return self.m_statistic.sum / self.d_statistic.sum if self.d_statistic.sum else 0.0

    @property
    def covariance(self) -> float:
        """Sample covariance (ddof=1) of per-cluster numerator and denominator."""
        if self.n <= 1:
            return 0.0
        return (self.m_d_sum_of_products - self.m_statistic.sum * self.d_statistic.sum / self.n) / (
            self.n - 1
        )

    @property
    def mean_variance(self) -> float:
        """Delta-method variance of the ratio of sums, clusters as the independent units."""
        if self.n <= 1 or self.d_statistic.mean == 0:
            return 0.0
        v = variance_of_ratio(
            self.m_statistic.mean,
            self.m_statistic.variance / self.n,
            self.d_statistic.mean,
            self.d_statistic.variance / self.n,
            self.covariance / self.n,
        )
        return max(v, 0.0)

    @property
    def variance(self) -> float:
        """Per-cluster variance on the ratio scale (``mean_variance · n``), as in gbstats."""
        return self.mean_variance * self.n

    def __add__(self, other: RatioStatistic) -> RatioStatistic:
        return RatioStatistic(
            n=self.n + other.n,
            m_statistic=self.m_statistic + other.m_statistic,
            d_statistic=self.d_statistic + other.d_statistic,
            m_d_sum_of_products=self.m_d_sum_of_products + other.m_d_sum_of_products,
        )


Statistic = SampleMeanStatistic | RatioStatistic
