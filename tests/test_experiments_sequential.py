"""experiments.sequential: always-valid p and confidence sequence (safe peeking).

Golden values from GrowthBook's gbstats (packages/stats/tests/frequentist/test_tests.py,
``TestSequentialTTest``: relative effects, so the relative effect and its delta-method se go
in), the duality of p and CI, and simulations with known truth: a four-week pilot looked at
every day.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.frequentist import welch_test
from experiments.power import PowerInputs, mde_for_sessions
from experiments.sequential import (
    mixture_halfwidth,
    mixture_p_value,
    mixture_rho,
    sequential_arrays,
    sequential_test,
)
from experiments.statistics import ProportionStatistic, SampleMeanStatistic

ALPHA = 0.05


# --- the formulas against gbstats ---------------------------------------------------------------


def test_interval_equals_gbstats_sequential_two_sided_ttest_for_a_mean():
    """gbstats: SampleMeanStatistic pair, sequential_tuning_parameter=1000 →
    expected 0.50336, ci (-0.55844, 1.56516), p 1."""
    a = SampleMeanStatistic(sum=1396.87, sum_squares=52377.9767, n=3000)
    b = SampleMeanStatistic(sum=2422.7, sum_squares=134698.29, n=3461)
    fixed = welch_test(a, b)
    rho = mixture_rho(ALPHA, 1000)
    half = mixture_halfwidth(fixed.rel_se, a.n + b.n, rho, ALPHA)
    assert fixed.rel_effect == pytest.approx(0.50336, abs=1e-5)
    assert fixed.rel_effect - half == pytest.approx(-0.55844, abs=1e-5)
    assert fixed.rel_effect + half == pytest.approx(1.56516, abs=1e-5)
    assert mixture_p_value(fixed.rel_effect, fixed.rel_se, a.n + b.n, rho) == 1.0


def test_interval_equals_gbstats_for_a_proportion_with_the_default_tuning():
    """gbstats: ProportionStatistic 1396/3000 vs 2422/3461, default tuning 5000 →
    expected 0.50386, ci (0.40098, 0.60675). gbstats' proportion variance is p(1 − p)."""
    pa, pb, na, nb = 1396 / 3000, 2422 / 3461, 3000, 3461
    rel = (pb - pa) / pa
    se = math.sqrt(pb * (1 - pb) / nb / pa**2 + pb**2 * pa * (1 - pa) / na / pa**4)
    half = mixture_halfwidth(se, na + nb, mixture_rho(ALPHA, 5000), ALPHA)
    assert rel == pytest.approx(0.50386, abs=1e-5)
    assert (rel - half, rel + half) == pytest.approx((0.40098, 0.60675), abs=1e-5)


def test_tuning_near_the_real_sample_size_gives_the_narrowest_interval():
    """gbstats' test_sequential_test_tuning_as_expected, on our absolute interval."""
    a = SampleMeanStatistic(sum=1396.87, sum_squares=52377.9767, n=3000)
    b = SampleMeanStatistic(sum=2422.7, sum_squares=134698.29, n=3461)
    width = {t: sequential_test(a, b, planned_n=t) for t in (10, 6461, 10_000)}
    below, near, above = (width[t].ci_high - width[t].ci_low for t in (10, 6461, 10_000))
    assert below > above > near


def test_p_value_and_interval_are_dual():
    """At the edge of the (1 − α) sequence the p-value against that edge is exactly α."""
    a = ProportionStatistic(n=900, sum=400)
    b = ProportionStatistic(n=1100, sum=560)
    s = sequential_test(a, b, planned_n=4000)
    fixed = welch_test(a, b)
    for edge in (s.ci_low, s.ci_high):
        p = mixture_p_value(s.abs_effect, fixed.se, a.n + b.n, s.rho, null=edge)
        assert p == pytest.approx(ALPHA, rel=1e-9)
    assert (s.p_value < ALPHA) == (s.ci_low > 0 or s.ci_high < 0)


def test_sequential_test_matches_its_array_form_and_is_never_narrower_than_welch():
    rng = np.random.default_rng(3)
    for _ in range(20):
        na, nb = rng.integers(3, 3000, 2)
        a = ProportionStatistic(n=int(na), sum=int(rng.binomial(na, 0.4)))
        b = ProportionStatistic(n=int(nb), sum=int(rng.binomial(nb, 0.45)))
        s, fixed = sequential_test(a, b, planned_n=3000), welch_test(a, b)
        p, low, high = sequential_arrays(
            a.n, a.mean, a.variance, b.n, b.mean, b.variance, planned_n=3000
        )
        assert (s.p_value, s.ci_low, s.ci_high) == pytest.approx((p, low, high), rel=1e-12)
        assert s.ci_low <= fixed.ci_low and s.ci_high >= fixed.ci_high
        assert s.p_value >= fixed.p_value


def test_tiny_samples_are_no_narrower_than_welch_and_no_variance_gives_no_result():
    # 3 + 3 sessions: Welch's t with ~4 dof is wider than the normal-theory sequence
    a, b = SampleMeanStatistic(3, 6.0, 14.0), SampleMeanStatistic(3, 9.0, 29.0)
    s, fixed = sequential_test(a, b, planned_n=10), welch_test(a, b)
    assert s.ci_low <= fixed.ci_low and s.ci_high >= fixed.ci_high
    assert s.p_value >= fixed.p_value
    none = sequential_test(ProportionStatistic(n=50, sum=0), ProportionStatistic(n=50, sum=0))
    assert none.p_value is None and none.ci_low is None and none.ci_high is None
    one = sequential_test(ProportionStatistic(n=1, sum=1), ProportionStatistic(n=50, sum=3))
    assert one.p_value is None
    with pytest.raises(ValueError):
        sequential_test(a, b, planned_n=0)


# --- simulation: a four-week pilot, one look a day ------------------------------------------------

DAYS = 28
# an NPS-like 0..10 answer (skewed towards the top): a mean metric with a realistic shape
SCALE = np.arange(11.0)
SCALE_P = np.array([2, 1, 1, 2, 3, 6, 7, 14, 22, 20, 22], dtype=float) / 100


def daily_pilot(rng, runs: int, effect: float = 0.0, kind: str = "proportion"):
    """Cumulative (n, mean, var) per arm for every run and day: ``runs`` session-randomised
    pilots of 28 days, each with its own traffic (50–300 sessions a day per arm, Poisson from
    day to day) and, for proportions, its own baseline rate (5–60%). Returns the stats and the
    planned sessions of each run (the traffic the team expected: 28 days at its mean)."""
    rate = rng.uniform(50, 300, runs)
    n = rng.poisson(rate[:, None, None], (runs, DAYS, 2)).astype(float)
    if kind == "proportion":
        p0 = rng.uniform(0.05, 0.6, runs)
        p = np.stack([p0, np.clip(p0 + effect, 0, 1)], axis=-1)[:, None, :]
        s = rng.binomial(n.astype(int), p).astype(float)
        ss = s
    else:
        counts = rng.multinomial(n.astype(int), SCALE_P)  # (runs, days, arms, 11)
        s = counts @ SCALE + n * np.array([0.0, effect])
        shift = np.array([0.0, effect])[None, None, :, None]
        ss = (counts * (SCALE + shift) ** 2).sum(axis=-1)
    cn, cs, css = (np.cumsum(x, axis=1) for x in (n, s, ss))
    mean = cs / cn
    var = (css - cs**2 / cn) / (cn - 1)
    return cn, mean, var, rate * DAYS * 2


def looks(cn, mean, var, planned):
    """Sequential and fixed-horizon (Welch) p and CI at every daily look."""
    from scipy import stats

    args = (cn[..., 0], mean[..., 0], var[..., 0], cn[..., 1], mean[..., 1], var[..., 1])
    p_seq, lo_seq, hi_seq = sequential_arrays(*args, alpha=ALPHA, planned_n=planned[:, None])
    vm_a, vm_b = var[..., 0] / cn[..., 0], var[..., 1] / cn[..., 1]
    se = np.sqrt(vm_a + vm_b)
    dof = (vm_a + vm_b) ** 2 / (vm_a**2 / (cn[..., 0] - 1) + vm_b**2 / (cn[..., 1] - 1))
    effect = mean[..., 1] - mean[..., 0]
    p_fix = 2 * stats.t.sf(np.abs(effect) / se, dof)
    q = stats.t.ppf(1 - ALPHA / 2, dof)
    return p_seq, lo_seq, hi_seq, p_fix, effect - q * se, effect + q * se


@pytest.mark.parametrize("kind", ["proportion", "mean"])
def test_daily_peeking_at_an_a_a_pilot_rejects_at_most_alpha(kind):
    """2,000 A/A pilots, a look every day for four weeks, stop at the first p < α. The
    sequential test rejects in at most α of them; the fixed-horizon test read the same way
    rejects in several times α (so this test fails for a naive test)."""
    rng = np.random.default_rng(20261126 + (kind == "mean"))
    cn, mean, var, planned = daily_pilot(rng, 2000, kind=kind)
    p_seq, *_, p_fix, _, _ = looks(cn, mean, var, planned)
    ever_seq = float(np.mean(np.nanmin(p_seq, axis=1) < ALPHA))
    ever_fix = float(np.mean(np.nanmin(p_fix, axis=1) < ALPHA))
    end_fix = float(np.mean(p_fix[:, -1] < ALPHA))
    print(f"{kind}: ever rejected, sequential {ever_seq:.3f}, fixed {ever_fix:.3f}; "
          f"fixed at the end only {end_fix:.3f}")  # fmt: skip
    assert ever_seq <= ALPHA
    assert ever_fix > 2.5 * ALPHA  # peeking at the fixed test: ~0.2
    assert 0.03 < end_fix < 0.07  # read once, the fixed test is fine
    # the tuning is not what holds alpha: the default (5,000) does too
    p_default, *_ = sequential_arrays(
        cn[..., 0], mean[..., 0], var[..., 0], cn[..., 1], mean[..., 1], var[..., 1]
    )
    assert float(np.mean(np.nanmin(p_default, axis=1) < ALPHA)) <= ALPHA


def test_under_a_real_effect_the_sequence_contains_the_fixed_ci_covers_and_narrows():
    """Proportions with a +5 pp effect: at every look the sequential CI contains the fixed
    CI; it covers the truth at every look at once in ≥ 95% of pilots (time-uniform); it
    narrows around the truth as sessions come in."""
    rng = np.random.default_rng(11)
    effect = 0.05
    cn, mean, var, planned = daily_pilot(rng, 1000, effect=effect)
    _, lo, hi, _, lo_fix, hi_fix = looks(cn, mean, var, planned)
    assert np.all(lo <= lo_fix) and np.all(hi >= hi_fix)
    covered_always = np.all((lo <= effect) & (effect <= hi), axis=1)
    assert covered_always.mean() >= 0.95
    width = hi - lo
    assert np.all(np.diff(np.median(width, axis=0)) < 0)  # narrower every day
    assert np.median(width[:, -1]) < 0.5 * np.median(width[:, 6])  # day 28 vs day 7
    mid = (lo[:, -1] + hi[:, -1]) / 2
    assert abs(np.mean(mid) - effect) < 0.003


@pytest.mark.parametrize("kind", ["proportion", "mean"])
def test_power_against_the_planned_effect(kind):
    """The effect a fixed-horizon test of the whole pilot detects with 80% power (the MDE of
    `experiment power`) is found by the sequential test, looked at daily, in about half the
    pilots by the end; 1.5× that effect in most of them, and many of those well before."""
    rng = np.random.default_rng(7 + (kind == "mean"))
    runs, traffic = 600, 150  # sessions a day per arm
    per_variant = traffic * DAYS
    if kind == "proportion":
        mde = mde_for_sessions(per_variant, PowerInputs(baseline=0.3))["mde_abs"]
    else:
        sd = math.sqrt(float(SCALE_P @ SCALE**2 - (SCALE_P @ SCALE) ** 2))
        mde = mde_for_sessions(per_variant, PowerInputs(baseline=7.0, sd=sd))["mde_abs"]
    found = {}
    for factor in (1.0, 1.5):
        n = rng.poisson(traffic, (runs, DAYS, 2)).astype(float)
        cn, mean, var, planned = _fixed_traffic(rng, n, mde * factor, kind)
        p_seq, *_, p_fix, _, _ = looks(cn, mean, var, planned)
        rejected = p_seq < ALPHA
        found[factor] = rejected.any(axis=1)
        if factor == 1.0:
            assert 0.75 < np.mean(p_fix[:, -1] < ALPHA) < 0.85  # the plan holds for Welch
        first = np.where(rejected.any(axis=1), rejected.argmax(axis=1) + 1, DAYS + 1)
        print(f"{kind} {factor}× MDE: sequential power {found[factor].mean():.2f}, "
              f"median first day {np.median(first[found[factor]]):.0f}")  # fmt: skip
    assert 0.4 < found[1.0].mean() < 0.7
    assert found[1.5].mean() > 0.8


def _fixed_traffic(rng, n, effect, kind):
    """``daily_pilot`` with a given traffic array and baseline (30% or the 0..10 scale)."""
    if kind == "proportion":
        s = rng.binomial(n.astype(int), np.array([0.3, 0.3 + effect])).astype(float)
        ss = s
    else:
        counts = rng.multinomial(n.astype(int), SCALE_P)
        shift = np.array([0.0, effect])
        s = counts @ SCALE + n * shift
        ss = (counts * (SCALE + shift[None, None, :, None]) ** 2).sum(axis=-1)
    cn, cs, css = (np.cumsum(x, axis=1) for x in (n, s, ss))
    planned = np.full(n.shape[0], n.mean() * DAYS * 2)
    return cn, cs / cn, (css - cs**2 / cn) / (cn - 1), planned


# --- the spec's planned_sessions tunes it ------------------------------------------------------


def _spec(**over):
    from experiments.spec import parse_experiment

    raw = {
        "id": "exp-seq",
        "hypothesis": "Sizes nearby raise task success.",
        "prototype": "scan-and-discover",
        "unit": "session",
        "variants": {"control": {"version": 1}, "b": {"version": 2}, "c": {"version": 3}},
        "allocation": {"control": 0.5, "b": 0.25, "c": 0.25},
        "stores": ["S01"],
        "start": "2026-11-02",
        "end": "2026-11-29",
        "primary_metric": "task_success_rate",
        **over,
    }
    return parse_experiment(raw, "exp-seq.yaml")


def test_planned_sessions_tunes_each_comparison_and_is_written_back(lab):
    from datetime import date

    from experiments.analysis import analyze_data
    from experiments.metrics import MetricData
    from experiments.spec import load_experiment, write_experiment

    spec = _spec(planned_sessions=8000)
    data = MetricData()
    data.by_variant = {
        v: {"task_success_rate": ProportionStatistic(n=n, sum=n // 2)}
        for v, n in (("control", 2000), ("b", 1000), ("c", 1000))
    }
    data.sessions_by_variant = {"control": 2000, "b": 1000, "c": 1000}
    result = analyze_data(spec, data, today=date(2026, 11, 10))
    # control + b hold 75% of the planned 8,000 sessions
    assert [c.sequential.planned_n for c in result.primary.comparisons] == [6000, 6000]
    default = analyze_data(_spec(), data, today=date(2026, 11, 10))
    assert default.primary.comparisons[0].sequential.planned_n == 5000
    write_experiment(lab, spec)
    assert load_experiment(lab, "exp-seq").planned_sessions == 8000
    write_experiment(lab, _spec(id="exp-none"))
    assert "planned_sessions" not in (lab.experiments_dir / "exp-none.yaml").read_text()


@pytest.mark.parametrize("bad", [0, -5, "lots", 2.5])
def test_bad_planned_sessions_names_the_key(bad):
    from errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="planned_sessions"):
        _spec(planned_sessions=bad)


def test_json_without_the_sequential_key_still_reads():
    """An `analyze --json` written before the key existed reads back with sequential None."""
    from experiments.results import Comparison
    from tests.fixtures import session_analysis_example

    c = session_analysis_example().result.primary.comparisons[0]
    old = {k: v for k, v in c.to_dict().items() if k != "sequential"}
    assert Comparison.from_dict(old).sequential is None
    assert Comparison.from_dict(c.to_dict()) == c
