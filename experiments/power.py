"""Sample size and minimum detectable effect (MDE), for session- and store-randomised tests.

Sessions (normal approximation, two-sided, unpooled variances — the variance the Welch test
uses)::

    n per variant = (z₁₋α/₂ + z_power)² · (σ₁² + σ₂²) / δ²

with σ² = p(1 − p) for a proportion (σ₁ at the baseline p, σ₂ at p + δ) and σ₁ = σ₂ = sd for a
mean metric. For a mean metric this is exactly statsmodels' ``NormalIndPower`` with effect size
δ/sd (minus its negligible second tail); for a proportion it is within about 1% of statsmodels'
arcsine ``proportion_effectsize`` approach (tests/test_experiments_power.py checks both).

Stores, session metrics: sessions in a store are alike, so m sessions per store carry the
information of m / DE independent ones. Stores differ in size, and the analysis weighs each by
its sessions (ratio of sums), so the design effect uses the coefficient of variation CV of the
store sizes (Eldridge, Ashby & Kerry 2006): DE = 1 + ((1 + CV²)·m − 1)·ICC, m the mean sessions
per store (CV = 0: equal sizes, DE = 1 + (m − 1)·ICC). The stores needed per variant solve

    k = (t₁₋α/₂,ν + t_power,ν)² · (σ₁² + σ₂²) · DE / (m · δ²),  ν = 2k − 2

by fixed-point iteration (t quantiles instead of z: with a handful of stores the normal
approximation promises too much), and never fewer than the smallest k for which an exact
permutation test over the stores can reach p < alpha at all. Session metrics have no
pre-period (the prototype did not run before the pilot), so nothing adjusts them.

Stores, store KPIs (``kpi:<name>``): the analysis compares each store's pilot mean, adjusted by
ANCOVA (CUPED) for its pre-period mean (``experiments.prepost``). With σ the between-store sd
of a period mean and r the correlation of a store's pre-period and pilot means, the variance
of the adjusted effect is σ²·(1 − r²)·(2/k)·(1 + 1/(2k − 4)) (the last factor: the slope is
estimated, and the arms' pre-period means differ by chance), tested with t on 2k − 3 dof:

    k = (t₁₋α/₂,ν + t_power,ν)² · 2σ²·(1 − r²)·(1 + 1/(2k − 4)) / δ²,  ν = 2k − 3

``experiment power --kpi NAME`` reads σ and r from the lab's own stores (``experiments.kpis.
kpi_history``: the two most recent 28-day windows of the imported KPI).

Alpha is the decision family's: the analysis Holm-adjusts the primary metric × challengers, so
with K challengers every formula above uses α' = alpha / K (Bonferroni, the conservative plan
for Holm; ``alpha_per_comparison`` and ``family`` in every answer). With one challenger α' = α.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from experiments.distributions import norm_ppf, t_ppf
from experiments.frequentist import min_permutation_p_value

FORMULA_SESSIONS = (
    "normal approximation, unpooled variances: n = (z_a/2 + z_b)^2 (s1^2 + s2^2) / d^2"
)
FORMULA_STORES = (
    "stores k = (t_a/2 + t_b)^2 (s1^2 + s2^2) DE / (m d^2), DE = 1 + ((1 + CV^2) m - 1) ICC "
    "(Eldridge 2006; CV of store sizes), t with 2k - 2 dof"
)
FORMULA_KPI = (
    "stores k = (t_a/2 + t_b)^2 2 sd^2 (1 - r^2) (1 + 1/(2k - 4)) / d^2, t with 2k - 3 dof "
    "(ANCOVA on the pre-period store mean)"
)
ANALYSIS_KPI = (
    "ANCOVA (CUPED) on each store's pre-period mean: variance x (1 - r^2), one degree of "
    "freedom less than the unadjusted comparison (2k - 3); randomisation p over store assignments"
)


@dataclass(frozen=True)
class PowerInputs:
    """The metric and the error rates a power calculation is about.

    ``baseline`` is the baseline proportion (or, with ``sd``, the baseline mean, used only to
    express effects relative to it); ``sd`` the standard deviation of a mean metric.
    ``challengers`` is the number of variants other than the baseline: the analysis
    Holm-adjusts the primary metric × challengers (the decision family), so the plan tests each
    comparison at alpha / challengers (Bonferroni, the conservative plan for Holm; with one
    challenger simply alpha).
    """

    baseline: float | None = None
    sd: float | None = None
    alpha: float = 0.05
    power: float = 0.8
    challengers: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")
        if not 0 < self.power < 1:
            raise ValueError("power must be between 0 and 1")
        if self.challengers < 1:
            raise ValueError("challengers must be >= 1")

    @property
    def variants(self) -> int:
        """Arms in the experiment: the baseline and its challengers."""
        return self.challengers + 1

    @property
    def alpha_per_comparison(self) -> float:
        """The alpha each primary comparison is planned at: alpha / challengers."""
        return self.alpha / self.challengers

    @property
    def z(self) -> float:
        """z₁₋α'/₂ + z_power, α' = alpha per comparison."""
        return norm_ppf(1 - self.alpha_per_comparison / 2) + norm_ppf(self.power)

    def t(self, dof: float) -> float:
        """t₁₋α'/₂,ν + t_power,ν, α' = alpha per comparison."""
        return t_ppf(1 - self.alpha_per_comparison / 2, dof) + t_ppf(self.power, dof)

    def family(self) -> dict:
        """The decision family the plan is for (keys of every ``experiment power`` answer)."""
        plural = "s" if self.challengers != 1 else ""
        return {
            "alpha": self.alpha,
            "family": f"primary × {self.challengers} challenger{plural}",
            "challengers": self.challengers,
            "alpha_per_comparison": self.alpha_per_comparison,
            "correction_planned": "bonferroni (conservative for holm)",
        }

    def relative(self, mde: float | None) -> float | None:
        """``mde`` as a share of the baseline (None without a baseline)."""
        return mde / abs(self.baseline) if (mde is not None and self.baseline) else None

    def baseline_proportion(self) -> float:
        """The baseline of a proportion metric, for a calculation without ``sd``."""
        if self.baseline is None or not 0 < self.baseline < 1:
            raise ValueError("give --sd, or a --baseline between 0 and 1")
        return self.baseline


@dataclass(frozen=True)
class StoreDesign:
    """A store-randomised design for a session metric: mean sessions per store, their
    intra-store correlation (ICC) and the coefficient of variation of the store sizes."""

    sessions_per_store: float
    icc: float
    store_size_cv: float = 0.0

    def __post_init__(self) -> None:
        if self.sessions_per_store < 1:
            raise ValueError("sessions per store must be >= 1")
        if not 0 <= self.icc <= 1:
            raise ValueError("ICC must be between 0 and 1")
        if not 0 <= self.store_size_cv < 10:
            raise ValueError("the CV of store sizes must be between 0 and 10")

    @property
    def design_effect(self) -> float:
        """DE = 1 + ((1 + CV²)·m − 1)·ICC (Eldridge 2006; CV = 0: 1 + (m − 1)·ICC)."""
        m = self.sessions_per_store
        return 1 + ((1 + self.store_size_cv**2) * m - 1) * self.icc


@dataclass(frozen=True)
class KpiDesign:
    """A store KPI analysed by ANCOVA on its pre-period: ``sd`` = between-store sd of a
    period mean, ``pre_period_r`` = correlation of a store's pre-period and pilot means."""

    sd: float
    pre_period_r: float = 0.0

    def __post_init__(self) -> None:
        if not self.sd > 0:
            raise ValueError("the between-store sd of the KPI must be > 0")
        if not -1 < self.pre_period_r < 1:
            raise ValueError("pre-period correlation r must be between -1 and 1")

    @property
    def shrink(self) -> float:
        """Variance ANCOVA leaves: 1 − r²."""
        return 1 - self.pre_period_r**2

    def variance(self, k: float) -> float:
        """Variance of the adjusted effect with ``k`` stores per arm (k > 2)."""
        return 2 * self.sd**2 * self.shrink * (1 + 1 / max(2 * k - 4, 1e-9)) / k


def _variances(
    mde: float, baseline: float | None, sd: float | None, relative: bool
) -> tuple[float, float, float]:
    """(absolute mde, σ₁², σ₂²) for a proportion (baseline) or a mean metric (sd)."""
    if mde <= 0:
        raise ValueError("mde must be > 0")
    if relative:
        if baseline is None or baseline == 0:
            raise ValueError("--relative needs a non-zero --baseline")
        delta = mde * abs(baseline)
    else:
        delta = mde
    if sd is not None:
        if sd <= 0:
            raise ValueError("sd must be > 0")
        return delta, sd**2, sd**2
    if baseline is None:
        raise ValueError("give --baseline (a proportion) or --sd (a mean metric)")
    if not 0 < baseline < 1:
        raise ValueError("a proportion baseline must be between 0 and 1")
    p2 = baseline + delta
    if not 0 < p2 < 1:
        # a decrease of the same size is as detectable; use it when the increase leaves (0, 1)
        p2 = baseline - delta
    if not 0 < p2 < 1:
        raise ValueError(f"baseline {baseline} ± mde {delta} leaves the range 0..1")
    return delta, baseline * (1 - baseline), p2 * (1 - p2)


def _about(inputs: PowerInputs, delta: float) -> dict:
    """The keys every sample-size answer ends with."""
    return {
        "mde_abs": delta,
        "mde_rel": inputs.relative(delta),
        "baseline": inputs.baseline,
        "sd": inputs.sd,
        **inputs.family(),
        "power": inputs.power,
        "two_sided": True,
    }


def sessions_needed(mde: float, inputs: PowerInputs, *, relative: bool = False) -> dict:
    """Sessions per variant (and in total, over baseline + challengers) for a session test."""
    delta, var1, var2 = _variances(mde, inputs.baseline, inputs.sd, relative)
    exact = inputs.z**2 * (var1 + var2) / delta**2
    per_variant = math.ceil(exact - 1e-9)
    return {
        "per_variant": per_variant,
        "total": per_variant * inputs.variants,
        "unit": "session",
        "variants": inputs.variants,
        **_about(inputs, delta),
        "formula": FORMULA_SESSIONS,
    }


def _min_stores_for_alpha(alpha: float) -> int:
    k = 2
    while min_permutation_p_value(k, k) >= alpha:
        k += 1
    return k


def stores_needed(
    mde: float,
    inputs: PowerInputs,
    design: StoreDesign,
    *,
    relative: bool = False,
) -> dict:
    """Stores per variant for a store-randomised test (design effect, optional pre-period r)."""
    delta, var1, var2 = _variances(mde, inputs.baseline, inputs.sd, relative)
    m = design.sessions_per_store
    base = (var1 + var2) * design.design_effect / (m * delta**2)
    k = max(2.0, inputs.z**2 * base)
    for _ in range(100):
        dof = max(2 * math.ceil(k) - 2, 1)
        new_k = max(2.0, inputs.t(dof) ** 2 * base)
        if abs(new_k - k) < 1e-9:
            break
        k = new_k
    floor = _min_stores_for_alpha(inputs.alpha_per_comparison)
    per_variant = max(math.ceil(k - 1e-9), floor)
    return {
        "stores_per_variant": per_variant,
        "total_stores": per_variant * inputs.variants,
        "sessions_per_store": m,
        "sessions_per_variant": math.ceil(per_variant * m),
        "icc": design.icc,
        "store_size_cv": design.store_size_cv,
        "design_effect": design.design_effect,
        "pre_period_r": 0.0,  # session metrics have no pre-period: nothing adjusts them
        "min_stores_for_permutation": floor,
        "unit": "store",
        "variants": inputs.variants,
        **_about(inputs, delta),
        "formula": FORMULA_STORES,
    }


def mde_for_sessions(per_variant: int, inputs: PowerInputs) -> dict:
    """Smallest absolute effect a session test with ``per_variant`` sessions detects."""
    from scipy.optimize import brentq

    if per_variant < 2:
        raise ValueError("need at least 2 sessions per variant")
    z2 = inputs.z**2
    if inputs.sd is not None:
        mde = math.sqrt(z2 * 2 * inputs.sd**2 / per_variant)
    else:
        baseline = inputs.baseline_proportion()

        def gap(delta: float) -> float:
            _, v1, v2 = _variances(delta, baseline, None, False)
            return z2 * (v1 + v2) / delta**2 - per_variant

        upper = max(baseline, 1 - baseline) - 1e-9
        mde = brentq(gap, 1e-9, upper) if gap(upper) < 0 else None
    return {
        "mde_abs": mde,
        "mde_rel": inputs.relative(mde),
        "per_variant": per_variant,
        "unit": "session",
        **inputs.family(),
        "power": inputs.power,
    }


def mde_for_stores(stores_per_variant: int, inputs: PowerInputs, design: StoreDesign) -> dict:
    """Smallest absolute effect a store test with ``stores_per_variant`` stores detects."""
    if stores_per_variant < 2:
        raise ValueError("need at least 2 stores per variant")
    m = design.sessions_per_store
    factor = design.design_effect / (m * stores_per_variant)
    q = inputs.t(2 * stores_per_variant - 2)
    if inputs.sd is not None:
        mde = q * math.sqrt(2 * inputs.sd**2 * factor)
    else:
        baseline = inputs.baseline_proportion()
        var = baseline * (1 - baseline)
        mde = q * math.sqrt(2 * var * factor)  # both arms at the baseline variance
    floor = min_permutation_p_value(stores_per_variant, stores_per_variant)
    return {
        "mde_abs": mde,
        "mde_rel": inputs.relative(mde),
        "stores_per_variant": stores_per_variant,
        "sessions_per_store": m,
        "icc": design.icc,
        "store_size_cv": design.store_size_cv,
        "design_effect": design.design_effect,
        "unit": "store",
        **inputs.family(),
        "power": inputs.power,
        "min_p_value": floor,
        "reachable": floor < inputs.alpha_per_comparison,
    }


def kpi_stores_needed(
    mde: float, inputs: PowerInputs, design: KpiDesign, *, relative: bool = False
) -> dict:
    """Stores per variant for a store KPI analysed by ANCOVA on its pre-period."""
    delta = _kpi_delta(mde, inputs, relative)
    k = 3.0
    for _ in range(200):
        new_k = max(3.0, inputs.t(max(2 * math.ceil(k) - 3, 1)) ** 2 * design.variance(k) * k
                    / delta**2)  # fmt: skip
        if abs(new_k - k) < 1e-9:
            break
        k = new_k
    floor = max(_min_stores_for_alpha(inputs.alpha_per_comparison), 3)
    per_variant = max(math.ceil(k - 1e-9), floor)
    return {
        "stores_per_variant": per_variant,
        "total_stores": per_variant * inputs.variants,
        "sd_between_stores": design.sd,
        "pre_period_r": design.pre_period_r,
        "variance_factor": design.shrink,
        "analysis": ANALYSIS_KPI,
        "min_stores_for_permutation": floor,
        "unit": "store",
        "variants": inputs.variants,
        **_about(inputs, delta),
        "formula": FORMULA_KPI,
    }


def kpi_mde(stores_per_variant: int, inputs: PowerInputs, design: KpiDesign) -> dict:
    """Smallest absolute KPI effect ANCOVA with ``stores_per_variant`` stores detects."""
    if stores_per_variant < 3:
        raise ValueError("need at least 3 stores per variant for ANCOVA")
    k = stores_per_variant
    mde = inputs.t(2 * k - 3) * math.sqrt(design.variance(k))
    floor = min_permutation_p_value(k, k)
    return {
        "mde_abs": mde,
        "mde_rel": inputs.relative(mde),
        "stores_per_variant": k,
        "sd_between_stores": design.sd,
        "pre_period_r": design.pre_period_r,
        "variance_factor": design.shrink,
        "analysis": ANALYSIS_KPI,
        "unit": "store",
        **inputs.family(),
        "power": inputs.power,
        "min_p_value": floor,
        "reachable": floor < inputs.alpha_per_comparison,
    }


def _kpi_delta(mde: float, inputs: PowerInputs, relative: bool) -> float:
    if mde <= 0:
        raise ValueError("mde must be > 0")
    if relative:
        if not inputs.baseline:
            raise ValueError("--relative needs a non-zero --baseline (the KPI's mean)")
        return mde * abs(inputs.baseline)
    return mde
