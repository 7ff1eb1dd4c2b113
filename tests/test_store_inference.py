"""Store-level CI and chance to win (issue 13, defect 3), through ``analyze_data``.

Known truth: 6 + 6 stores with lognormal sizes (sd of log size 1.2: the biggest store often
holds half of its variant's sessions), a store random effect and a constant additive effect.
Before the fix the delta-method CI covered the true effect in about 85% of such runs, chance to
win left [2.5%, 97.5%] in about 16% of A/A runs, and the demo showed p = 0.058 beside
"chance to win 99%".
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy import stats

from experiments.analysis import analyze_data
from experiments.metrics import MetricData
from experiments.spec import ExperimentSpec
from experiments.statistics import ProportionStatistic, SampleMeanStatistic
from experiments.store_inference import (
    StoreValues,
    bell_mccaffrey_dof,
    cr2_variance,
    store_ratio_test,
)

STORES = [f"S{i:02d}" for i in range(1, 13)]
CONTROL, TREATMENT = STORES[:6], STORES[6:]
TODAY = date(2026, 12, 1)


def store_spec(primary: str) -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "id": "exp-stores",
            "hypothesis": "h",
            "prototype": "scan-and-discover",
            "unit": "store",
            "variants": {"control": {"version": 1}, "treatment": {"version": 2}},
            "allocation": {"control": 0.5, "treatment": 0.5},
            "stores": {"control": CONTROL, "treatment": TREATMENT},
            "start": date(2026, 11, 2),
            "end": date(2026, 11, 15),
            "primary_metric": primary,
            "alpha": 0.05,
        }
    )


def simulated_data(rng, metric: str, effect: float, size_sd: float) -> MetricData:
    """Per-store sufficient statistics; the stores are exchangeable, so the fixed split of
    ``STORES`` into control and treatment is a random assignment."""
    sizes = np.maximum(np.round(np.exp(np.log(100) + rng.normal(0, size_sd, 12))), 3).astype(int)
    treated = np.isin(STORES, TREATMENT)
    data = MetricData()
    for i, store in enumerate(STORES):
        n = int(sizes[i])
        if metric == "task_success_rate":  # a proportion, store effects sd 8 pp around 40%
            p = float(np.clip(0.4 + rng.normal(0, 0.08) + effect * treated[i], 0.01, 0.99))
            stat = ProportionStatistic(n=n, sum=float(rng.binomial(n, p)))
        else:  # a mean (SUS-like): store effects sd 5, sessions sd 20
            values = rng.normal(50 + rng.normal(0, 5) + effect * treated[i], 20, n)
            stat = SampleMeanStatistic(n, float(values.sum()), float((values**2).sum()))
        data.by_store[store] = {metric: stat}
        data.sessions_by_store[store] = n
    return data


@pytest.mark.parametrize(("metric", "effect"), [("task_success_rate", 0.05), ("sus", 3.0)])
def test_store_ci_covers_with_unequal_store_sizes(metric, effect):
    """95% CI coverage within 93-97% with 6 + 6 stores, lognormal sizes sd 1.2 (was 0.85-0.88)."""
    rng = np.random.default_rng(13)
    spec = store_spec(metric)
    sims, covered = 500, 0
    for _ in range(sims):
        c = _comparison(spec, simulated_data(rng, metric, effect, 1.2))
        covered += c.ci_low <= effect <= c.ci_high
    assert 0.93 <= covered / sims <= 0.97, covered / sims


def _comparison(spec, data):
    return analyze_data(spec, data, today=TODAY).metrics[0].comparisons[0]


def test_aa_chance_to_win_agrees_with_the_ci_and_the_permutation_p():
    """A/A: chance to win leaves [2.5%, 97.5%] about 5% of the time (was 7-22%), exactly when
    the 95% CI of the effect it is computed on excludes zero, and the permutation p-value
    and the CI rarely disagree (was up to 12%)."""
    rng = np.random.default_rng(2013)
    spec = store_spec("task_success_rate")
    sims, outside, disagree = 600, 0, 0
    for _ in range(sims):
        c = _comparison(spec, simulated_data(rng, "task_success_rate", 0.0, 1.2))
        out = not 0.025 <= c.chance_to_win <= 0.975
        outside += out
        # relative effect exists (positive baseline): chance to win is computed on it
        assert out == (c.rel_ci_low > 0 or c.rel_ci_high < 0)
        disagree += (c.ci_low > 0 or c.ci_high < 0) != (c.p_value < 0.05)
    assert 0.03 <= outside / sims <= 0.075, outside / sims
    assert disagree / sims <= 0.06, disagree / sims


def test_chance_to_win_uses_the_relative_effect_and_the_t_dof():
    rng = np.random.default_rng(5)
    metric = "task_success_rate"
    data = simulated_data(rng, metric, 0.05, 0.8)
    c = _comparison(store_spec(metric), data)
    arms = [
        StoreValues.of(
            [data.by_store[s][metric].sum for s in stores],
            [data.by_store[s][metric].n for s in stores],
            [data.by_store[s][metric].mean_variance for s in stores],
        )
        for stores in (CONTROL, TREATMENT)
    ]
    dof = store_ratio_test(*arms).dof
    assert 4 < dof < 10  # unequal stores: fewer than stores − 2
    rel_se = (c.rel_ci_high - c.rel_ci_low) / 2 / stats.t.ppf(0.975, dof)
    assert c.chance_to_win == pytest.approx(stats.t.cdf(c.rel_effect / rel_se, dof), rel=1e-9)
    assert c.method == "store_cr2+permutation_exact"


def test_cr2_variance_by_hand():
    # two stores 10/20 and 30/40 (m/d): R = 40/60; leverages 1/3 and 2/3
    v = StoreValues.of([10, 30], [20, 40])
    r = 40 / 60
    expected = (10 - r * 20) ** 2 / (1 - 1 / 3) + (30 - r * 40) ** 2 / (1 - 2 / 3)
    assert cr2_variance(v) == pytest.approx(expected / 60**2)


def test_equal_store_sizes_give_students_t_on_the_store_means():
    """With equal stores the CI is exactly scipy's pooled t-test on the store means (the
    previous CR3 inflated the variance by n/(n − 1): A/A CIs excluded 0 in under 3% of runs)."""
    m, d = np.array([3.0, 5.0, 4.0, 7.0]), np.full(4, 10.0)
    m_b = np.array([6.0, 4.0, 8.0, 7.0])
    r = store_ratio_test(StoreValues.of(m, d), StoreValues.of(m_b, d))
    golden = stats.ttest_ind(m_b / d, m / d, equal_var=True)
    assert r.method == "store_cr2"
    assert r.dof == pytest.approx(6)
    assert r.p_value == pytest.approx(golden.pvalue, rel=1e-9)
    ci = golden.confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_few_big_stores_lower_the_degrees_of_freedom():
    """One store holding most sessions leaves fewer effective stores than stores − 2."""
    even = StoreValues.of([40.0, 44, 37, 42, 38, 41], [100.0] * 6)
    skewed = StoreValues.of([40.0, 44, 37, 42, 38, 410], [100.0, 100, 100, 100, 100, 1000])
    assert store_ratio_test(even, even).dof == pytest.approx(10)
    assert bell_mccaffrey_dof((even, even)) == pytest.approx(10)
    assert store_ratio_test(even, skewed).dof < 7


@pytest.mark.parametrize("metric", ["task_success_rate", "sus"])
def test_store_ci_is_not_conservative_with_equal_store_sizes(metric):
    """A/A with equal stores: the CI excludes 0 in 4-6% of 3,000 runs (CR3: 3.3% and 3.9%)."""
    rng = np.random.default_rng(21)
    spec = store_spec(metric)
    sims, excluded = 3000, 0
    for _ in range(sims):
        c = _comparison(spec, simulated_data(rng, metric, 0.0, 0.0))
        excluded += not c.ci_low <= 0.0 <= c.ci_high
    assert 0.04 <= excluded / sims <= 0.06, excluded / sims


def test_session_chance_to_win_is_on_the_relative_effect_but_absolute_for_nps():
    """gbstats: P(lift > 0) from the delta-method relative se; NPS has no relative effect."""
    spec = ExperimentSpec.model_validate(
        {
            **store_spec("task_success_rate").model_dump(),
            "unit": "session",
            "stores": STORES,
            "secondary_metrics": ["nps"],
        }
    )
    data = MetricData()
    data.by_variant = {
        "control": {
            "task_success_rate": ProportionStatistic(n=400, sum=40),
            "nps": SampleMeanStatistic(400, 400 * 5.0, 400 * 4000.0),
        },
        "treatment": {
            "task_success_rate": ProportionStatistic(n=400, sum=55),
            "nps": SampleMeanStatistic(400, 400 * 12.0, 400 * 5000.0),
        },
    }
    data.sessions_by_variant = {"control": 400, "treatment": 400}
    result = analyze_data(spec, data, today=TODAY)
    primary, nps = (m.comparisons[0] for m in result.metrics)
    q = stats.norm.ppf(0.975)  # Welch dof ≈ 770: t is normal to 3 decimals
    rel_se = (primary.rel_ci_high - primary.rel_ci_low) / 2 / q
    absolute = stats.norm.cdf(primary.abs_effect / primary.se)
    assert primary.chance_to_win == pytest.approx(
        stats.norm.cdf(primary.rel_effect / rel_se), abs=2e-3
    )
    assert abs(primary.chance_to_win - absolute) > 0.01  # the relative one, not the absolute
    assert nps.rel_effect is None
    assert nps.chance_to_win == pytest.approx(stats.norm.cdf(nps.abs_effect / nps.se), abs=2e-3)
