"""Statistics: golden values (gbstats), equality with scipy/statsmodels, and simulations."""

from __future__ import annotations

import hashlib
import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from experiments.assignment import assign_many, assign_variant, bucket
from experiments.bayesian import gaussian_effect
from experiments.frequentist import (
    adjust_p_values,
    benjamini_hochberg,
    holm,
    min_permutation_p_value,
    permutation_p_value,
    ratio_test,
    welch_test,
)
from experiments.statistics import (
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
    variance_of_ratio,
)
from experiments.store_inference import StoreValues, store_ratio_test


def stat_of(values) -> SampleMeanStatistic:
    v = np.asarray(values, dtype=float)
    return SampleMeanStatistic(n=len(v), sum=float(v.sum()), sum_squares=float((v**2).sum()))


# --- golden values from growthbook/packages/stats/tests --------------------------------------


def test_welch_matches_gbstats_golden_values():
    # gbstats tests/frequentist/test_tests.py::TestTwoSidedTTest
    a = SampleMeanStatistic(n=3407, sum=1396.87, sum_squares=52377.9767)
    b = SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29)
    r = welch_test(a, b)
    # absolute: expected 0.29, ci (0.04538, 0.53462), se 0.12478, p 0.02016
    assert round(r.abs_effect, 5) == 0.29
    assert (round(r.ci_low, 5), round(r.ci_high, 5)) == (0.04538, 0.53462)
    assert round(r.se, 5) == 0.12478
    assert round(r.p_value, 5) == 0.02016
    # relative (delta method): expected 0.70732, ci (-0.03526, 1.44989), se 0.37879
    assert round(r.rel_effect, 5) == 0.70732
    assert (round(r.rel_ci_low, 5), round(r.rel_ci_high, 5)) == (-0.03526, 1.44989)
    assert round(r.rel_se, 5) == 0.37879


def test_bayesian_matches_gbstats_golden_values():
    # gbstats tests/bayesian/test_tests.py::TestNorm (relative effect, flat prior)
    a = SampleMeanStatistic(n=10, sum=100, sum_squares=1002.25)
    b = SampleMeanStatistic(n=10, sum=105, sum_squares=1111.5)
    r = welch_test(a, b)
    assert (round(r.rel_effect, 5), round(r.rel_se, 5)) == (0.05, 0.03572)
    bayes = gaussian_effect(r.rel_effect, r.rel_se)
    assert round(bayes.chance_to_win, 5) == 0.91923
    assert (round(bayes.risk_baseline, 5), round(bayes.risk, 5)) == (0.05131, 0.00131)
    # lower is better flips chance to win and the risks
    flipped = gaussian_effect(r.rel_effect, r.rel_se, higher_is_better=False)
    assert flipped.chance_to_win == pytest.approx(1 - bayes.chance_to_win)
    assert flipped.risk == pytest.approx(bayes.risk_baseline)


def test_bayesian_risk_closed_form_equals_numerical_integral():
    mu, sigma = -0.3, 0.7
    x = np.linspace(mu - 12 * sigma, mu + 12 * sigma, 400_001)
    pdf = stats.norm.pdf(x, mu, sigma)
    loss = np.trapezoid(np.maximum(-x, 0) * pdf, x)
    assert gaussian_effect(mu, sigma).risk == pytest.approx(loss, rel=1e-6)
    assert gaussian_effect(0.1, 0.0).chance_to_win == 0.5  # no information


# --- Welch equals scipy ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_welch_equals_scipy_on_random_data(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(10, rng.uniform(0.5, 5), rng.integers(5, 400))
    b = rng.normal(10.5, rng.uniform(0.5, 5), rng.integers(5, 400))
    alpha = [0.05, 0.1, 0.01][seed % 3]
    r = welch_test(stat_of(a), stat_of(b), alpha=alpha)
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(1 - alpha)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.dof == pytest.approx(ref.df, rel=1e-9)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_proportion_welch_equals_scipy_on_zero_one_values():
    rng = np.random.default_rng(11)
    a = (rng.random(700) < 0.40).astype(float)
    b = (rng.random(650) < 0.46).astype(float)
    pa_, pb = ProportionStatistic(n=700, sum=a.sum()), ProportionStatistic(n=650, sum=b.sum())
    assert pa_.sum_squares == a.sum()
    assert pa_.variance == pytest.approx(a.var(ddof=1))
    r = welch_test(pa_, pb)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(ref.confidence_interval()), rel=1e-9)


def test_welch_degenerate_inputs_give_none_not_nan():
    r = welch_test(stat_of([1.0]), stat_of([1.0, 2.0]))
    assert r.p_value is None and r.ci_low is None
    r = welch_test(stat_of([1.0, 1.0]), stat_of([1.0, 1.0]))  # no variance, same means
    assert r.p_value is None and r.abs_effect == 0.0
    r = welch_test(stat_of([0.0, 0.0, 0.0]), stat_of([0.0, 1.0, 1.0]))  # baseline mean 0
    assert r.p_value is not None and r.rel_effect is None


@pytest.mark.parametrize(
    ("a", "b"), [([1.0, 1.0, 1.0], [2.0, 2.0]), ([0.0] * 4, [1.0] * 5), ([3.0] * 3, [3.0] * 3)]
)
def test_welch_zero_variance_matches_scipy(a, b):
    """No variance: different means are certain (scipy: p = 0), equal means undefined (NaN)."""
    r = welch_test(stat_of(a), stat_of(b))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy: "data nearly identical"
        ref = stats.ttest_ind(b, a, equal_var=False).pvalue
    assert r.p_value == (None if math.isnan(ref) else pytest.approx(ref))
    assert r.abs_effect == pytest.approx(np.mean(b) - np.mean(a))


# --- ratio (store-level) statistics --------------------------------------------------------------


def test_ratio_statistic_delta_variance():
    rng = np.random.default_rng(3)
    m = rng.poisson(40, 9).astype(float)
    d = m + rng.poisson(60, 9)
    r = RatioStatistic.from_clusters(m, d)
    assert r.mean == pytest.approx(m.sum() / d.sum())
    cov = np.cov(m, d, ddof=1)
    expected = variance_of_ratio(m.mean(), cov[0, 0] / 9, d.mean(), cov[1, 1] / 9, cov[0, 1] / 9)
    assert r.mean_variance == pytest.approx(expected)
    # same as the textbook cluster-robust form: Σ (mᵢ − R dᵢ)² / ((n−1) n d̄²)
    resid = m - r.mean * d
    assert r.mean_variance == pytest.approx((resid**2).sum() / (8 * 9 * d.mean() ** 2))
    combined = r + RatioStatistic.from_clusters([1.0], [2.0])
    assert combined.n == 10 and combined.m_statistic.sum == m.sum() + 1


def test_ratio_test_equals_welch_on_store_means_when_stores_are_equal_size():
    rng = np.random.default_rng(4)
    means_a, means_b = rng.uniform(0.4, 0.7, 6), rng.uniform(0.5, 0.8, 5)
    size = 120.0
    ra = RatioStatistic.from_clusters(means_a * size, [size] * 6)
    rb = RatioStatistic.from_clusters(means_b * size, [size] * 5)
    delta = ratio_test(ra, rb)
    plain = stats.ttest_ind(means_b, means_a, equal_var=False)
    assert delta.abs_effect == pytest.approx(means_b.mean() - means_a.mean())
    assert delta.se == pytest.approx(delta.abs_effect / plain.statistic)
    assert delta.p_value == pytest.approx(plain.pvalue)
    assert delta.dof == pytest.approx(plain.df)


def brute_force_permutation(m, d, treated) -> float:
    m, d, treated = np.asarray(m, float), np.asarray(d, float), np.asarray(treated, bool)

    def diff(mask):
        return m[mask].sum() / d[mask].sum() - m[~mask].sum() / d[~mask].sum()

    observed = abs(diff(treated))
    hits = total = 0
    for combo in itertools.combinations(range(len(m)), int(treated.sum())):
        mask = np.zeros(len(m), bool)
        mask[list(combo)] = True
        total += 1
        hits += abs(diff(mask)) >= observed - 1e-12
    return hits / total


@pytest.mark.parametrize("seed", range(4))
def test_exact_permutation_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(6, 11))
    d = rng.integers(20, 200, k).astype(float)
    m = rng.binomial(d.astype(int), rng.uniform(0.4, 0.7, k)).astype(float)
    treated = np.zeros(k, bool)
    treated[rng.choice(k, k // 2, replace=False)] = True
    p, how, count = permutation_p_value(m, d, treated)
    assert how == "exact" and count == math.comb(k, k // 2)
    assert p == pytest.approx(brute_force_permutation(m, d, treated))


def test_monte_carlo_permutation_is_close_to_exact_and_reproducible():
    rng = np.random.default_rng(9)
    k = 22
    d = rng.integers(50, 150, k).astype(float)
    m = rng.binomial(d.astype(int), 0.5).astype(float)
    treated = np.arange(k) % 2 == 0
    m[treated] += 6  # some effect
    exact, how, _ = permutation_p_value(m, d, treated, max_exact=10**7)
    assert how == "exact"
    mc1, how1, n1 = permutation_p_value(m, d, treated)
    mc2, _, _ = permutation_p_value(m, d, treated)
    assert how1 == "monte_carlo" and n1 == 10_000
    assert mc1 == mc2  # fixed seed
    assert mc1 == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / n1) + 1e-3)


def test_min_permutation_p_value():
    assert min_permutation_p_value(3, 3) == pytest.approx(0.1)  # 2 / C(6, 3)
    assert min_permutation_p_value(4, 4) == pytest.approx(2 / 70)
    assert min_permutation_p_value(2, 3) == pytest.approx(1 / 10)


# --- multiple comparisons ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_holm_and_bh_equal_statsmodels(seed):
    rng = np.random.default_rng(seed)
    p = list(rng.uniform(0, 0.2, int(rng.integers(1, 15))))
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert benjamini_hochberg(p) == pytest.approx(list(multipletests(p, method="fdr_bh")[1]))


def test_adjust_keeps_missing_values_out_of_the_family():
    assert adjust_p_values([0.01, None, 0.04], "holm") == [0.02, None, 0.04]
    with pytest.raises(ValueError):
        adjust_p_values([0.1], "bonferroni-ish")


# --- assignment --------------------------------------------------------------------------------


def test_assignment_is_stable_and_follows_allocation():
    alloc = {"control": 0.3, "treatment": 0.7}
    assert assign_variant("exp", "abc", alloc) == assign_variant("exp", "abc", alloc)
    # pinned: the same in every process and release (sha256 of "exp:abc")
    digest = hashlib.sha256(b"exp:abc").digest()
    assert bucket("exp", "abc") == int.from_bytes(digest[:8], "big") / 2**64
    assert bucket("exp", "abc") == pytest.approx(0.3088257843, abs=1e-9)
    assert assign_variant("exp", "abc", alloc) == "treatment"  # 0.309 ≥ 0.3
    ids = [f"s{i}" for i in range(20_000)]
    many = assign_many("exp", ids, alloc)
    assert list(many[:200]) == [assign_variant("exp", s, alloc) for s in ids[:200]]
    share = float(np.mean(many == "control"))
    assert abs(share - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 20_000)
    # a different experiment re-shuffles sessions independently
    other = assign_many("exp2", ids, alloc)
    assert 0.5 < float(np.mean(other == many)) < 0.65


# --- simulations ---------------------------------------------------------------------------------


def simulate_stores(rng, k_per_arm, sessions_mean, base, store_sd, effect=0.0):
    """Per-store (successes, sessions) with a store random effect: clustered 0/1 data."""
    k = 2 * k_per_arm
    sessions = rng.poisson(sessions_mean, k).astype(float) + 5
    treated = np.zeros(k, bool)
    treated[rng.choice(k, k_per_arm, replace=False)] = True
    p = np.clip(base + rng.normal(0, store_sd, k) + effect * treated, 0.01, 0.99)
    successes = rng.binomial(sessions.astype(int), p).astype(float)
    return successes, sessions, treated


def test_aa_store_level_keeps_alpha_but_per_session_test_does_not():
    """A/A on store-clustered data (ICC ≈ 0.04, 150 sessions per store, 6 + 6 stores).

    The store-level permutation test and the CR2 t-test stay near alpha. Welch on the
    sessions treats 1800 correlated sessions as independent: its standard error ignores the
    design effect 1 + (m − 1)·ICC ≈ 7, so it rejects a true null far more often than 5%. That
    is why a per-session test is never the default for unit=store.
    """
    rng = np.random.default_rng(2026)
    sims, alpha = 500, 0.05
    rejections = {"permutation": 0, "cr2": 0, "session": 0}
    for _ in range(sims):
        m, d, treated = simulate_stores(rng, 6, 150, base=0.5, store_sd=0.1)
        p_perm, _, _ = permutation_p_value(m, d, treated)
        rejections["permutation"] += p_perm < alpha
        ra = StoreValues.of(m[~treated], d[~treated])
        rb = StoreValues.of(m[treated], d[treated])
        rejections["cr2"] += store_ratio_test(ra, rb).p_value < alpha
        sa = ProportionStatistic(n=int(d[~treated].sum()), sum=m[~treated].sum())
        sb = ProportionStatistic(n=int(d[treated].sum()), sum=m[treated].sum())
        rejections["session"] += welch_test(sa, sb).p_value < alpha
    rates = {k: v / sims for k, v in rejections.items()}
    print("A/A false-positive rates:", rates)
    assert rates["permutation"] < 0.1
    assert rates["cr2"] < 0.1
    assert rates["session"] > 0.25


def test_store_level_ci_coverage_with_known_effect():
    rng = np.random.default_rng(7)
    sims, covered, rejected = 400, 0, 0
    effect = 0.08
    for _ in range(sims):
        m, d, treated = simulate_stores(rng, 8, 120, base=0.45, store_sd=0.06, effect=effect)
        r = store_ratio_test(
            StoreValues.of(m[~treated], d[~treated]), StoreValues.of(m[treated], d[treated])
        )
        # the true difference of session-weighted means is ≈ effect (no clipping at 0.45 ± …)
        covered += r.ci_low <= effect <= r.ci_high
        rejected += r.p_value < 0.05
    coverage = covered / sims
    print("store-level CI coverage:", coverage, "power:", rejected / sims)
    assert 0.90 <= coverage <= 0.99


def test_session_level_ci_coverage_absolute_and_relative():
    rng = np.random.default_rng(8)
    sims, cov_abs, cov_rel = 1000, 0, 0
    pa_, pb = 0.40, 0.46
    for _ in range(sims):
        a = ProportionStatistic(n=800, sum=float(rng.binomial(800, pa_)))
        b = ProportionStatistic(n=800, sum=float(rng.binomial(800, pb)))
        r = welch_test(a, b)
        cov_abs += r.ci_low <= pb - pa_ <= r.ci_high
        cov_rel += r.rel_ci_low <= (pb - pa_) / pa_ <= r.rel_ci_high
    assert 0.93 <= cov_abs / sims <= 0.97
    assert 0.93 <= cov_rel / sims <= 0.97
