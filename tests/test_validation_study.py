"""The validation study (``bench/validation.py``) in small: the goals of issue 13, asserted.

The study simulates pilots with a known truth, reduces them to the sufficient statistics the
metric SQL returns and reads them out with ``experiments.analysis.analyze_data``. ``make
validate`` runs it with 1500 pilots per row for the README table; these tests run a few hundred
with fixed seeds and widen each goal by two binomial standard errors of their own run count.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

from bench.truth import MODELS, store_sizes, unit_statistics
from bench.validation import (
    AA_GOAL,
    ALPHA,
    COVERAGE_GOAL,
    POWER_GOAL,
    CoverageRow,
    Design,
    coverage,
    peeking,
    session_power,
    simulate,
    store_power,
)


def se(p: float, runs: int) -> float:
    return math.sqrt(p * (1 - p) / runs)


def within(value: float, goal: tuple[float, float], runs: int) -> bool:
    """``value`` in the goal band, widened by 2 binomial SEs at the band's middle."""
    lo, hi = goal
    tol = 2 * se((lo + hi) / 2, runs)
    return lo - tol <= value <= hi + tol


@cache
def rows(design: Design, runs: int) -> tuple[CoverageRow, ...]:
    return tuple(coverage(design, runs, seed=11))


def ci_misses(design: Design, runs: int) -> list[str]:
    out = []
    for r in rows(design, runs):
        for what, value in (("coverage", r.coverage), ("relative", r.rel_coverage)):
            if value is not None and not within(value, COVERAGE_GOAL, runs):
                out.append(f"{r.metric} {what} {value:.3f}")
        if not within(r.aa_ci, AA_GOAL, runs):
            out.append(f"{r.metric} A/A CI excludes 0 in {r.aa_ci:.3f}")
    return out


def p_misses(design: Design, runs: int) -> list[str]:
    return [
        f"{r.metric} A/A p < alpha in {r.aa_p:.3f}"
        for r in rows(design, runs)
        if not within(r.aa_p, AA_GOAL, runs)
    ]


SESSION = Design("session", 800)
STORES_EQUAL = Design("store", 150, 6, 0.0)
STORES_08 = Design("store", 150, 6, 0.8)
STORES_12 = Design("store", 150, 6, 1.2)
STORES_12_MORE = Design("store", 150, 12, 1.2)
RUNS = 400
RUNS_MORE = 250  # 12+12 stores: a Monte-Carlo permutation test per metric and run


# --- the study's own truth (fast) ----------------------------------------------------------


@pytest.mark.parametrize("metric", sorted(MODELS))
def test_every_model_has_the_mean_it_claims(metric):
    """The truth the study measures against: a big store-clustered sample's arm means agree
    with ``MetricModel.truth``, as the mean of session values and as the ratio of totals (a
    wrong truth would make every coverage wrong)."""
    model = MODELS[metric]
    rng = np.random.default_rng(5)
    stores, per_store = 4000, 50
    sizes = np.full((1, stores), per_store)
    treated = np.arange(stores) >= stores // 2
    sums = unit_statistics(rng, model, sizes, treated, clustered=True)
    for arm in (False, True):
        units = treated == arm
        for top, bottom in ((sums.total, sums.n), (sums.num, sums.den)):
            # store ratios are the independent units: their spread carries the store effect
            ratios = top[0, units] / bottom[0, units]
            estimate = float(top[0, units].sum() / bottom[0, units].sum())
            error = float(np.std(ratios) / math.sqrt(units.sum()))
            assert abs(estimate - model.truth(arm)) < 4 * error, (arm, estimate, model.truth(arm))


def test_simulated_statistics_are_the_sums_the_sql_would_return():
    design = Design("store", 20, 3, 0.8)
    models = {"sus": MODELS["sus"], "misclick_rate": MODELS["misclick_rate"]}
    sim = simulate(design, models, 4, np.random.default_rng(3))
    data = sim.data(2)
    assert set(data.by_store) == {"S01", "S02", "S03", "S04", "S05", "S06"}
    sums = sim.stats["sus"]
    stat = data.by_store["S04"]["sus"]
    assert (stat.n, stat.sum, stat.sum_squares) == (
        sums.n[2, 3],
        sums.total[2, 3],
        sums.squares[2, 3],
    )
    assert data.sessions_by_store["S04"] == sim.sizes[2, 3] >= stat.n
    assert stat.sum % 2.5 == 0 and stat.sum_squares >= stat.sum**2 / stat.n  # SUS grid
    # misclicks: the statistic the catalogue's kind of metric calls for (mean of session
    # ratios today; a ratio of totals once misclick_rate is a ratio metric), same sessions
    misclicks = data.by_store["S04"]["misclick_rate"]
    assert misclicks.n == sim.stats["misclick_rate"].n[2, 3] == sim.sizes[2, 3]
    assert 0 < misclicks.mean < 0.5


def test_store_sizes_keep_their_mean_and_spread():
    sizes = store_sizes(np.random.default_rng(1), 2000, 12, 150, 1.2)
    assert sizes.min() >= 5
    assert sizes.mean() == pytest.approx(150, rel=0.05)
    assert np.log(sizes).std() == pytest.approx(1.2, rel=0.1)


# --- coverage and A/A: the goals (slow) ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("design", [SESSION, STORES_EQUAL], ids=["session", "stores-equal"])
def test_cis_cover_and_aa_rates_hold(design):
    assert ci_misses(design, RUNS) == []
    assert p_misses(design, RUNS) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("design", "runs"),
    [(STORES_08, RUNS), (STORES_12, RUNS), (STORES_12_MORE, RUNS_MORE)],
    ids=["6+6-sd0.8", "6+6-sd1.2", "12+12-sd1.2"],
)
def test_store_permutation_p_holds_alpha_with_unequal_sizes(design, runs):
    assert p_misses(design, runs) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("design", "runs"),
    [(STORES_08, RUNS), (STORES_12, RUNS), (STORES_12_MORE, RUNS_MORE)],
    ids=["6+6-sd0.8", "6+6-sd1.2", "12+12-sd1.2"],
)
def test_store_ci_covers_with_unequal_sizes(design, runs):
    assert ci_misses(design, runs) == []


# --- daily peeking -------------------------------------------------------------------------

PEEK_RUNS = 300


@cache
def peek_rows():
    return {("sequential" if r.sequential else "fixed"): r for r in peeking(PEEK_RUNS, seed=12)}


@pytest.mark.slow
def test_daily_peeking_inflates_the_fixed_horizon_test():
    """The reason for a sequential test: 28 daily looks at an A/A pilot reject far above alpha
    (about 30%); the product's fixed-horizon Welch test at each look is what is measured."""
    fixed = peek_rows()["fixed"]
    assert fixed.ever_rejected > 3 * ALPHA


@pytest.mark.slow
def test_daily_peeking_with_the_sequential_test_stays_at_alpha():
    pytest.importorskip("experiments.sequential")
    seq = peek_rows()["sequential"]
    assert seq.ever_rejected is not None, seq.note
    assert seq.ever_rejected <= ALPHA + 2 * se(ALPHA, PEEK_RUNS)


# --- power achieved against power planned --------------------------------------------------

POWER_RUNS = 400


def power_ok(row) -> bool:
    return abs(row.achieved - row.planned) <= POWER_GOAL + 2 * se(row.planned, row.runs)


@pytest.mark.slow
def test_session_power_is_what_was_planned():
    for row in session_power(POWER_RUNS, seed=13):
        assert power_ok(row), row


@pytest.mark.slow
def test_store_power_is_what_was_planned_with_equal_sizes():
    (row,) = store_power(POWER_RUNS, seed=14, size_sds=(0.0,))
    assert power_ok(row), row


@pytest.mark.slow
@pytest.mark.parametrize("size_sd", [0.8, 1.2])
def test_store_power_is_what_was_planned_with_unequal_sizes(size_sd):
    plan = store_power(POWER_RUNS, seed=15, size_sds=(size_sd,))[0]
    assert plan.goal and plan.plan.startswith("power.py")  # power.py's own plan
    assert power_ok(plan), plan
