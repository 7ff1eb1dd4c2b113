"""Sample size / MDE: formulas, statsmodels cross-checks and a power simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from experiments.frequentist import welch_test
from experiments.power import (
    KpiDesign,
    PowerInputs,
    StoreDesign,
    kpi_mde,
    kpi_stores_needed,
    mde_for_sessions,
    mde_for_stores,
    sessions_needed,
    stores_needed,
)
from experiments.statistics import ProportionStatistic


def test_proportion_golden_value_and_statsmodels_arcsine():
    out = sessions_needed(0.05, PowerInputs(baseline=0.40))
    # (1.959964 + 0.841621)^2 · (0.4·0.6 + 0.45·0.55) / 0.05^2 = 1530.4
    assert out["per_variant"] == 1531 and out["total"] == 3062
    assert out["mde_abs"] == pytest.approx(0.05) and out["mde_rel"] == pytest.approx(0.125)
    h = proportion_effectsize(0.45, 0.40)
    reference = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1)
    assert out["per_variant"] == pytest.approx(reference, rel=0.01)  # arcsine vs unpooled


@pytest.mark.parametrize(
    ("sd", "mde", "alpha", "power"), [(1.0, 0.2, 0.05, 0.8), (12, 3, 0.01, 0.9)]
)
def test_mean_metric_equals_statsmodels_normal_ind_power(sd, mde, alpha, power):
    out = sessions_needed(mde, PowerInputs(sd=sd, alpha=alpha, power=power))
    reference = NormalIndPower().solve_power(effect_size=mde / sd, alpha=alpha, power=power)
    assert out["per_variant"] == math.ceil(reference - 1e-6)


@pytest.mark.parametrize(("sd", "baseline"), [(10.0, None), (None, 0.40)])
def test_two_challengers_plan_at_half_alpha(sd, baseline):
    one = PowerInputs(sd=sd, baseline=baseline)
    two = PowerInputs(sd=sd, baseline=baseline, challengers=2)
    mde = 2.0 if sd else 0.05
    assert sessions_needed(mde, two)["per_variant"] > sessions_needed(mde, one)["per_variant"]
    half = sessions_needed(mde, PowerInputs(sd=sd, baseline=baseline, alpha=0.025))
    assert sessions_needed(mde, two) == {
        **half,
        "total": 3 * half["per_variant"],  # baseline + 2 challengers
        "variants": 3,
        "alpha": 0.05,
        "family": "primary × 2 challengers",
        "challengers": 2,
        "alpha_per_comparison": 0.025,
        "correction_planned": "bonferroni (conservative for holm)",
    }
    design = StoreDesign(200, icc=0.02)
    assert (
        stores_needed(mde, two, design)["stores_per_variant"]
        > stores_needed(mde, one, design)["stores_per_variant"]
    )
    if sd:
        reference = NormalIndPower().solve_power(effect_size=mde / sd, alpha=0.025, power=0.8)
        assert sessions_needed(mde, two)["per_variant"] == math.ceil(reference - 1e-6)


def test_relative_mde_and_variants():
    rel = sessions_needed(0.125, PowerInputs(baseline=0.40), relative=True)
    assert rel["per_variant"] == sessions_needed(0.05, PowerInputs(baseline=0.40))["per_variant"]
    assert rel["total"] == 2 * rel["per_variant"] and rel["variants"] == 2
    three = sessions_needed(0.05, PowerInputs(baseline=0.40, challengers=2))
    assert three["total"] == 3 * three["per_variant"] and three["variants"] == 3
    with pytest.raises(ValueError, match="baseline"):
        sessions_needed(0.1, PowerInputs(sd=2.0), relative=True)
    with pytest.raises(ValueError):
        sessions_needed(0.05, PowerInputs())


def test_stores_design_effect_and_pre_period():
    base = sessions_needed(0.05, PowerInputs(baseline=0.40))["per_variant"]
    out = stores_needed(0.05, PowerInputs(baseline=0.40), StoreDesign(200, icc=0.02))
    de = 1 + 199 * 0.02
    assert out["design_effect"] == pytest.approx(de)
    # at least the z-approximation, a little more for the t quantiles
    assert out["stores_per_variant"] >= math.ceil(base * de / 200)
    assert out["stores_per_variant"] <= math.ceil(base * de / 200) + 2
    unequal = stores_needed(
        0.05, PowerInputs(baseline=0.40), StoreDesign(200, icc=0.02, store_size_cv=0.8)
    )
    assert unequal["design_effect"] == pytest.approx(1 + ((1 + 0.64) * 200 - 1) * 0.02)
    assert unequal["stores_per_variant"] > out["stores_per_variant"]
    # ICC 0 and 1 session per store: stores behave like sessions (plus the t correction)
    flat = stores_needed(0.05, PowerInputs(sd=1.0), StoreDesign(1, icc=0.0))
    assert flat["stores_per_variant"] == pytest.approx(
        sessions_needed(0.05, PowerInputs(sd=1.0))["per_variant"], rel=0.002
    )
    # a huge effect still needs enough stores for a permutation test to reach alpha
    tiny = stores_needed(0.4, PowerInputs(baseline=0.4), StoreDesign(500, icc=0.0))
    assert tiny["stores_per_variant"] == tiny["min_stores_for_permutation"] == 4


def test_mde_inverts_sample_size():
    n = sessions_needed(0.05, PowerInputs(baseline=0.40))["per_variant"]
    mde = mde_for_sessions(n, PowerInputs(baseline=0.40))["mde_abs"]
    assert mde == pytest.approx(0.05, rel=0.01) and mde <= 0.05
    assert mde_for_sessions(400, PowerInputs(sd=2.0))["mde_abs"] == pytest.approx(
        (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * math.sqrt(2 * 4 / 400)
    )
    k = stores_needed(1.0, PowerInputs(sd=10.0), StoreDesign(100, icc=0.05))["stores_per_variant"]
    got = mde_for_stores(k, PowerInputs(sd=10.0), StoreDesign(100, icc=0.05))
    assert got["mde_abs"] <= 1.0 and got["reachable"]
    assert not mde_for_stores(3, PowerInputs(sd=1.0), StoreDesign(100, icc=0.05))["reachable"]


def test_planned_power_is_reached_in_simulation():
    """With the planned sessions per variant, Welch rejects in about 80% of runs."""
    n = sessions_needed(0.06, PowerInputs(baseline=0.30))["per_variant"]
    rng = np.random.default_rng(1)
    sims = 1000
    hits = 0
    for _ in range(sims):
        a = ProportionStatistic(n=n, sum=float(rng.binomial(n, 0.30)))
        b = ProportionStatistic(n=n, sum=float(rng.binomial(n, 0.36)))
        hits += welch_test(a, b).p_value < 0.05
    assert 0.76 <= hits / sims <= 0.84


def test_inputs_are_checked_once_for_every_calculation():
    with pytest.raises(ValueError, match="alpha"):
        PowerInputs(baseline=0.4, alpha=1.5)
    with pytest.raises(ValueError, match="power"):
        PowerInputs(baseline=0.4, power=0)
    for bad, match in (({"sessions_per_store": 0.5}, "sessions per store"),
                       ({"icc": 1.5}, "ICC"), ({"store_size_cv": -1}, "CV")):  # fmt: skip
        with pytest.raises(ValueError, match=match):
            StoreDesign(**{"sessions_per_store": 100, "icc": 0.05, **bad})
    assert StoreDesign(200, icc=0.02).design_effect == pytest.approx(1 + 199 * 0.02)
    with pytest.raises(ValueError, match="--sd, or a --baseline"):
        mde_for_stores(6, PowerInputs(), StoreDesign(100, icc=0.05))


def _ratio_mean_variance(rng, k: int, m: int, icc: float, p: float, sigma: float) -> float:
    """Simulated variance of a ratio-of-sums mean over k stores of lognormal size."""
    sd_b = math.sqrt(icc * p * (1 - p))
    means = []
    for _ in range(3000):
        sizes = np.maximum(1, np.round(m * rng.lognormal(-(sigma**2) / 2, sigma, k)))
        store_p = np.clip(p + sd_b * rng.standard_normal(k), 0, 1)
        means.append(rng.binomial(sizes.astype(int), store_p).sum() / sizes.sum())
    return float(np.var(means))


def test_design_effect_with_unequal_store_sizes_matches_simulation():
    """Eldridge's DE = 1 + ((1 + CV²)·m − 1)·ICC is the variance of a ratio-of-sums store mean
    with lognormal store sizes (exact for many stores, conservative for few); the equal-size DE
    understates it."""
    rng = np.random.default_rng(5)
    m, icc, p = 60, 0.05, 0.4
    for k, sigma, close in ((40, 0.5, True), (6, 0.8, False)):
        cv = math.sqrt(math.exp(sigma**2) - 1)
        simulated = _ratio_mean_variance(rng, k, m, icc, p, sigma)
        planned = p * (1 - p) * StoreDesign(m, icc, store_size_cv=cv).design_effect / (k * m)
        equal_sizes = p * (1 - p) * StoreDesign(m, icc).design_effect / (k * m)
        if close:
            assert simulated == pytest.approx(planned, rel=0.1)
        assert simulated <= 1.05 * planned  # never promises more than it delivers
        assert simulated > 1.15 * equal_sizes  # what the old formula promised


def test_kpi_plan_is_reached_by_ancova_in_simulation():
    """With the planned stores, ANCOVA on the pre-period (HC2, n − 3 dof) has ~80% power."""
    from experiments.prepost import hc2_coefficient

    sd, r, mde = 0.04, 0.85, 0.03
    plan = kpi_stores_needed(mde, PowerInputs(sd=sd), KpiDesign(sd, r))
    k = plan["stores_per_variant"]
    assert plan["variance_factor"] == pytest.approx(1 - r**2)
    assert "ANCOVA" in plan["analysis"] and "2k - 3" in plan["formula"]
    rng = np.random.default_rng(2)
    hits, runs, n = 0, 1500, 2 * k
    for _ in range(runs):
        x = rng.standard_normal(n)
        y = r * x + math.sqrt(1 - r**2) * rng.standard_normal(n)
        t = np.zeros(n)
        t[rng.permutation(n)[:k]] = 1
        b, se = hc2_coefficient(np.column_stack([np.ones(n), t, sd * x]), sd * y + mde * t, 1)
        hits += 2 * stats.t.sf(abs(b / se), n - 3) < 0.05
    assert 0.75 <= hits / runs <= 0.88
    mde_back = kpi_mde(k, PowerInputs(sd=sd), KpiDesign(sd, r))["mde_abs"]
    assert mde_back <= mde and mde_back == pytest.approx(mde, rel=0.1)
    # the pre-period is what makes it feasible: without it far more stores are needed
    assert (
        kpi_stores_needed(mde, PowerInputs(sd=sd), KpiDesign(sd, 0.0))["stores_per_variant"]
        >= 2.5 * k
    )
