"""Ratio metrics (issue 13, defect 7): misclick rate = Σ misclicks / Σ (taps + misclicks).

Before, the misclick rate was the mean of per-session ratios: a session with 1 misclick in 2
weighed as much as one with 0 in 38 (mean 25%, true rate 1 in 40 = 2.5%).
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pytest
from scipy import stats

from experiments.analysis import analyze_data
from experiments.frequentist import ratio_test
from experiments.metrics import per_session_values, sufficient_statistics
from experiments.spec import ExperimentSpec
from experiments.statistics import RatioStatistic, SampleMeanStatistic, variance_of_ratio
from feedback.catalogue import CATALOGUE, Metric
from tests.test_experiments_analysis import spec_dict
from tests.test_metrics_labels_and_abandon import _insert

TODAY = date(2026, 12, 1)


def _clicks(taps: int, misclicks: int) -> list:
    return (
        [(0, "session_start", None)]
        + [(1 + k, "tap", None) for k in range(taps)]
        + [(100 + k, "misclick", None) for k in range(misclicks)]
    )


def _read(lab, spec):
    con = duckdb.connect(str(lab.db_path), read_only=True)
    try:
        return sufficient_statistics(con, spec), per_session_values(con, spec)
    finally:
        con.close()


def _misclicks(result):
    return next(m for m in result.metrics if m.metric == "misclick_rate")


def test_misclick_rate_is_a_ratio_of_totals_with_the_delta_method_by_hand(lab):
    spec = ExperimentSpec.model_validate(spec_dict("exp-r", "session"))
    store = spec.store_list[0]
    # control: 1 of 2 and 0 of 38 clicks → 1/40; treatment: 2 of 10, 1 of 5, 0 of 5 → 3/20
    control = [(1, 1), (38, 0)]
    treatment = [(8, 2), (4, 1), (5, 0)]
    sessions = [("control", store, _clicks(t, m)) for t, m in control]
    sessions += [("treatment", store, _clicks(t, m)) for t, m in treatment]
    sessions.append(("control", store, _clicks(0, 0)))  # no click at all: no value
    _insert(lab, spec, sessions)
    data, rows = _read(lab, spec)
    result = analyze_data(spec, data, today=TODAY)
    metric = _misclicks(result)
    assert [v.mean for v in metric.variants] == pytest.approx([1 / 40, 3 / 20])
    assert [v.units for v in metric.variants] == [2, 3]  # sessions with a click
    # delta method by hand: Var(R) = Σ (mᵢ − R dᵢ)² / (n (n − 1) d̄²) per arm
    var = []
    for arm in (control, treatment):
        m = np.array([x[1] for x in arm], float)
        d = np.array([x[0] + x[1] for x in arm], float)
        r, n = m.sum() / d.sum(), len(m)
        var.append(((m - r * d) ** 2).sum() / (n * (n - 1) * d.mean() ** 2))
    c = metric.comparisons[0]
    assert c.abs_effect == pytest.approx(3 / 20 - 1 / 40)
    assert c.se == pytest.approx(math.sqrt(sum(var)))
    assert c.method == "delta"
    # each session's own ratio is still there to read
    column = 3 + list(CATALOGUE.metrics).index("misclick_rate")
    assert sorted(r[column] for r in rows if r[column] is not None) == pytest.approx(
        sorted([0.5, 0.0, 0.2, 0.2, 0.0])
    )


def test_store_value_of_a_ratio_metric_is_its_ratio_of_totals(lab):
    spec = ExperimentSpec.model_validate(spec_dict("exp-rs", "store"))
    ctrl = spec.stores["control"][:2]
    trt = spec.stores["treatment"][:2]
    sessions = [
        ("control", ctrl[0], _clicks(1, 1)),
        ("control", ctrl[0], _clicks(38, 0)),  # store: 1 / 40
        ("control", ctrl[1], _clicks(9, 1)),  # store: 1 / 10
        ("treatment", trt[0], _clicks(3, 1)),
        ("treatment", trt[0], _clicks(4, 0)),  # store: 1 / 8
        ("treatment", trt[1], _clicks(18, 2)),  # store: 2 / 20
    ]
    _insert(lab, spec, sessions)
    data, _ = _read(lab, spec)
    metric = _misclicks(analyze_data(spec, data, today=TODAY))
    stores = {s.store_id: s for s in metric.stores}
    assert stores[ctrl[0]].mean == pytest.approx(1 / 40) and stores[ctrl[0]].sessions == 2
    assert stores[ctrl[1]].mean == pytest.approx(1 / 10)
    assert stores[trt[0]].mean == pytest.approx(1 / 8)
    assert [v.mean for v in metric.variants] == pytest.approx([2 / 50, 3 / 28])
    assert [(v.units, v.sessions) for v in metric.variants] == [(2, 3), (2, 3)]
    assert metric.comparisons[0].abs_effect == pytest.approx(3 / 28 - 2 / 50)


def test_delta_method_covers_the_true_ratio_in_simulation():
    """Sessions with very different numbers of clicks: the delta-method CI of the difference of
    ratios of totals covers the true difference; its se matches a bootstrap."""
    rng = np.random.default_rng(77)
    rates, sims, covered = (0.05, 0.065), 800, 0
    for _ in range(sims):
        arms = []
        for rate in rates:
            d = rng.geometric(1 / 12, 400).astype(float)  # 1 to ~60 clicks per session
            m = rng.binomial(d.astype(int), np.clip(rate + rng.normal(0, 0.02, 400), 0, 1))
            arms.append(RatioStatistic.from_clusters(m, d))
        r = ratio_test(*arms)
        covered += r.ci_low <= rates[1] - rates[0] <= r.ci_high
    assert 0.93 <= covered / sims <= 0.97
    # se against a bootstrap of one arm
    d = rng.geometric(1 / 12, 400).astype(float)
    m = rng.binomial(d.astype(int), 0.05).astype(float)
    idx = rng.integers(0, 400, (2000, 400))
    boot = m[idx].sum(1) / d[idx].sum(1)
    delta_se = math.sqrt(RatioStatistic.from_clusters(m, d).mean_variance)
    assert delta_se == pytest.approx(boot.std(ddof=1), rel=0.08)


def test_ratio_statistic_equals_gbstats_formula():
    # gbstats RatioStatistic: variance = var_m/μd² + μm² var_d/μd⁴ − 2 cov μm/μd³
    m, d = np.array([1.0, 0, 2, 1, 0]), np.array([2.0, 38, 10, 5, 5])
    r = RatioStatistic.from_clusters(m, d)
    cov = np.cov(m, d, ddof=1)
    expected = variance_of_ratio(m.mean(), cov[0, 0], d.mean(), cov[1, 1], cov[0, 1]) / 5
    assert r.mean_variance == pytest.approx(expected)
    t = ratio_test(r, RatioStatistic.from_clusters(m + 1, d + 1))
    assert t.se**2 == pytest.approx(
        r.mean_variance + RatioStatistic.from_clusters(m + 1, d + 1).mean_variance
    )
    assert stats.t.sf(abs(t.abs_effect) / t.se, t.dof) * 2 == pytest.approx(t.p_value)


def test_a_new_ratio_metric_is_added_the_same_way(lab):
    taps_per_session = Metric(
        id="taps_per_session",
        kind="mean",
        higher_is_better=False,
        label={"de": "Taps pro Sitzung", "en": "Taps per session"},
        description="taps / session starts",
        source="events",
        numerator_sql="count(*) FILTER (WHERE type = 'tap')",
        denominator_sql="count(*) FILTER (WHERE type = 'session_start')",
    )
    with CATALOGUE.extended(taps_per_session):
        spec = ExperimentSpec.model_validate(
            spec_dict("exp-n", "session", guardrails=["taps_per_session"])
        )
        store = spec.store_list[0]
        _insert(lab, spec, [("control", store, _clicks(3, 0)), ("treatment", store, _clicks(5, 0))])
        data, _ = _read(lab, spec)
        stat = data.by_variant["treatment"]["taps_per_session"]
        assert isinstance(stat, RatioStatistic) and stat.mean == 5.0
    assert isinstance(data.by_variant["treatment"]["completion_rate"], SampleMeanStatistic)


def test_a_ratio_metric_needs_both_parts():
    half = Metric(
        id="half_ratio",
        kind="mean",
        higher_is_better=True,
        label={"de": "x", "en": "x"},
        description="x",
        source="events",
        numerator_sql="count(*)",
    )
    with pytest.raises(ValueError, match="numerator_sql and denominator_sql"):
        CATALOGUE.add(half)
