"""Store KPIs with a pre-period: sample data, spec, estimators (ANCOVA, DiD), randomisation
inference, placebo; simulations with known truth and fixed seeds."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import pytest

from errors import InvalidInputError
from experiments.analysis import analyze, analyze_data
from experiments.kpi_results import kpi_metric_result
from experiments.kpis import KpiData, StoreKpi, placebo_halves
from experiments.metrics import MetricData
from experiments.prepost import prepost
from experiments.results import ExperimentResult
from experiments.spec import load_experiment, parse_experiment, render_experiment_yaml
from sample_data.generate import generate_sample, parse_effects
from sample_data.kpis import KPI_MODELS, KpiPlan, simulate_kpis
from tests.test_experiments_analysis import spec_dict

START = date(2026, 11, 2)
END = date(2026, 11, 29)


def _spec(**over):
    raw = spec_dict("kpi-test", "store", start=START, end=END)
    raw["secondary_metrics"] = ["sus", "kpi:conversion_rate"]
    raw.update(over)
    return parse_experiment(raw, "kpi-test.yaml")


def _store_means(rows, spec) -> KpiData:
    """What experiments.kpis.load_kpis computes, in Python, from simulated daily rows."""
    pre = spec.pre_period_window
    first, second = placebo_halves(*pre)
    days = defaultdict(lambda: defaultdict(list))
    for store, day, name, value in rows:
        d = date.fromisoformat(day)
        for period, (a, b) in {
            "pilot": (spec.start, spec.end), "pre": pre, "first": first, "second": second,
        }.items():  # fmt: skip
            if a <= d <= b:
                days[(f"kpi:{name}", store)][period].append(value)
    data = KpiData(pre, first, second, {m: {} for m in spec.kpi_metrics})
    for (metric, store), p in days.items():
        if metric in data.stores:
            data.stores[metric][store] = StoreKpi(
                np.mean(p["pilot"]), len(p["pilot"]), np.mean(p["pre"]), len(p["pre"]),
                np.mean(p["first"]), np.mean(p["second"]),
            )  # fmt: skip
    return data


def _simulated(spec, seed: int, effect: float) -> KpiData:
    treated = frozenset(s for s, v in spec.store_variants.items() if v != spec.baseline)
    plan = KpiPlan(spec.store_list, treated, spec.pre_period_window[0], spec.start, spec.end,
                   {"conversion_rate": effect})  # fmt: skip
    return _store_means(simulate_kpis(plan, seed), spec)


# --- A: sample data ---------------------------------------------------------------------------


def test_generate_writes_and_imports_kpis_with_pre_period_and_planted_effect(lab):
    summary = generate_sample(lab, stores=12, sessions=400, seed=5,
                              effects={"kpi:conversion_rate": 0.03})  # fmt: skip
    kpis = summary["kpis"]
    assert kpis["import"]["rejected"] == 0 and kpis["import"]["imported"] > 0
    spec = load_experiment(lab, summary["experiment"])
    with open(kpis["file"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["store_id", "date", "metric", "value"]
    days = sorted({r["date"] for r in rows})
    assert days[0] == (spec.start - timedelta(days=28)).isoformat()  # the pre-period
    assert spec.end - timedelta(days=1) <= date.fromisoformat(days[-1]) <= spec.end  # Sunday
    assert all(date.fromisoformat(d).isoweekday() != 7 for d in days)  # closed on Sundays
    assert {r["metric"] for r in rows} == set(KPI_MODELS)
    assert kpis["true_effects"]["kpi:conversion_rate"] == {"treatment": 0.03}
    # the spec of a fresh sample lab compares the KPIs, and the analysis reads them
    assert "kpi:conversion_rate" in spec.secondary_metrics
    result = analyze(lab, spec.id)
    kpi = next(m for m in result.metrics if m.metric == "kpi:conversion_rate")
    c = kpi.comparisons[0]
    assert c.method == "ancova+randomisation_exact"
    assert c.ci_low < 0.03 < c.ci_high
    assert kpi.pre_period == tuple(d.isoformat() for d in spec.pre_period_window)


def test_kpi_periods_correlate_like_real_stores():
    spec = _spec(stores={"control": [f"S{i:02d}" for i in range(1, 41, 2)],
                         "treatment": [f"S{i:02d}" for i in range(2, 41, 2)]})  # fmt: skip
    data = _simulated(spec, seed=3, effect=0.0)
    for metric in ("kpi:conversion_rate",):
        pre = [k.pre for k in data.stores[metric].values()]
        pilot = [k.pilot for k in data.stores[metric].values()]
        assert 0.7 <= np.corrcoef(pre, pilot)[0, 1] <= 0.95


def test_kpi_effects_are_parsed_and_checked():
    assert parse_effects(["kpi:conversion_rate=0.01", "sus=4"]) == {
        "sus": 4.0, "kpi:conversion_rate": 0.01,
    }  # fmt: skip
    with pytest.raises(InvalidInputError, match="kpi:conversion_rate, kpi:basket_value"):
        parse_effects(["kpi:footfall=3"])
    with pytest.raises(InvalidInputError, match="not a number"):
        parse_effects(["kpi:basket_value=lots"])


# --- B: spec ----------------------------------------------------------------------------------


def test_spec_takes_kpis_and_a_pre_period():
    spec = _spec()
    assert spec.pre_period_window == (date(2026, 10, 5), date(2026, 11, 1))
    assert spec.kpi_metrics == ["kpi:conversion_rate"]
    text = render_experiment_yaml(spec)
    assert "pre_period: null" in text and "2026-10-05..2026-11-01" in text
    own = _spec(pre_period={"start": date(2026, 9, 1), "end": date(2026, 9, 30)})
    back = parse_experiment(__import__("yaml").safe_load(render_experiment_yaml(own)), "x")
    assert back.pre_period_window == (date(2026, 9, 1), date(2026, 9, 30))


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"unit": "session", "stores": ["S01", "S02"]}, "needs unit: store"),
        ({"pre_period": {"start": date(2026, 10, 1), "end": START}}, "must end before start"),
        ({"guardrails": ["kpi:bad name"]}, "write kpi:<name>"),
    ],
)
def test_spec_refuses_kpis_it_cannot_analyse(over, message):
    with pytest.raises(InvalidInputError, match=message):
        _spec(**over)


def test_unknown_kpi_is_a_clear_error_at_analysis_time(lab):
    summary = generate_sample(lab, stores=6, sessions=200, seed=2)
    path = lab.experiments_dir / f"{summary['experiment']}.yaml"
    path.write_text(path.read_text().replace("kpi:basket_value", "kpi:footfal"))
    with pytest.raises(InvalidInputError, match=r"no store KPI 'footfal' \(imported: basket"):
        analyze(lab, summary["experiment"])


# --- C: estimators ----------------------------------------------------------------------------


def test_did_and_ancova_recover_a_known_effect_with_narrower_cis():
    spec = _spec(stores={"control": [f"S{i:02d}" for i in range(1, 41, 2)],
                         "treatment": [f"S{i:02d}" for i in range(2, 41, 2)]})  # fmt: skip
    result = kpi_metric_result(spec, _simulated(spec, 11, 0.03), "kpi:conversion_rate", "primary")
    c = result.comparisons[0]
    est = {e.estimator: e for e in c.estimates}
    width = {k: e.ci_high - e.ci_low for k, e in est.items()}
    for name in ("ancova", "did"):
        assert est[name].ci_low < 0.03 < est[name].ci_high
        assert width[name] < 0.6 * width["unadjusted"]
    assert c.abs_effect == est["ancova"].abs_effect and c.method.startswith("ancova+")
    assert c.variance_reduction == pytest.approx(1 - (est["ancova"].se / est["unadjusted"].se) ** 2)
    assert c.variance_reduction > 0.5
    assert est["ancova"].p_value < 0.05


def test_prepost_matches_statsmodels_hc2():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(4)
    x = rng.normal(0.2, 0.04, 12)
    y = x + rng.normal(0, 0.02, 12)
    t = np.arange(12) % 2 == 1
    fit = sm.OLS(y, np.column_stack([np.ones(12), t, x])).fit(cov_type="HC2")
    ancova = prepost(y, x, t).chosen
    assert ancova.effect == pytest.approx(fit.params[1])
    assert ancova.se == pytest.approx(fit.bse[1])
    assert ancova.dof == 9


def test_relative_kpi_effect_is_the_delta_method_on_the_ancovas_hc2_covariance():
    """The lift is the effect over the baseline's adjusted mean (intercept + θ·x̄), with its
    variance from the same HC2 covariance, the effect–baseline covariance included; the old
    read divided by the raw baseline mean and took the two as independent."""
    sm = pytest.importorskip("statsmodels.api")
    from scipy import stats

    from experiments.prepost import relative_effect

    rng = np.random.default_rng(9)
    x = rng.normal(0.2, 0.04, 12)
    t = np.arange(12) % 2 == 1
    y = x * np.where(t, 1.3, 1.0) + rng.normal(0, 0.02, 12)
    fit = sm.OLS(y, np.column_stack([np.ones(12), t, x])).fit(cov_type="HC2")
    b, cov = fit.params, fit.cov_params()
    mean = b[0] + b[2] * x.mean()
    grad = np.array([-b[1] / mean**2, 1 / mean, -b[1] * x.mean() / mean**2])
    se = float(np.sqrt(grad @ cov @ grad))
    q = stats.t.ppf(0.975, 9)
    lift, low, high = relative_effect(prepost(y, x, t).chosen, y, x, t)
    assert lift == pytest.approx(b[1] / mean, rel=1e-9)
    assert (low, high) == pytest.approx((lift - q * se, lift + q * se), rel=1e-9)


def _coverage_run(seed: int, runs: int, effect: float, n: int = 12):
    rng = np.random.default_rng(seed)
    covered = rejected = 0
    for _ in range(runs):
        level = 0.22 + 0.04 * rng.standard_normal(n)
        x = level + 0.015 * rng.standard_normal(n) + 0.006 * rng.standard_normal(n)
        y = level + 0.015 * rng.standard_normal(n) + 0.006 * rng.standard_normal(n)
        t = np.zeros(n, bool)
        t[rng.permutation(n)[: n // 2]] = True
        c = prepost(y + effect * t, x, t).chosen
        covered += c.ci_low <= effect <= c.ci_high
        rejected += c.p_value < 0.05
    return covered / runs, rejected / runs


@pytest.mark.slow
def test_ancova_ci_covers_with_six_stores_per_arm():
    coverage, _ = _coverage_run(seed=20261102, runs=500, effect=0.02)
    assert 0.93 <= coverage <= 0.97


@pytest.mark.slow
def test_a_a_false_positive_rate_is_alpha():
    _, rate = _coverage_run(seed=7, runs=500, effect=0.0)
    assert 0.03 <= rate <= 0.07


# --- F: placebo -------------------------------------------------------------------------------


@pytest.mark.slow
def test_placebo_finds_nothing_where_the_pilot_finds_the_effect():
    spec = _spec(stores={"control": [f"S{i:02d}" for i in range(1, 17, 2)],
                         "treatment": [f"S{i:02d}" for i in range(2, 17, 2)]})  # fmt: skip
    hits, flagged = 0, 0
    for seed in range(40):
        c = kpi_metric_result(spec, _simulated(spec, seed, 0.04), "kpi:conversion_rate",
                              "primary").comparisons[0]  # fmt: skip
        hits += c.p_value < 0.05
        flagged += not c.placebo.ok
        assert c.placebo.pre == ("2026-10-05", "2026-10-18")
        assert c.placebo.pilot == ("2026-10-19", "2026-11-01")
    assert hits >= 30  # the planted effect is found …
    assert flagged <= 5  # … the placebo (no variant ran yet) stays quiet at about alpha


def test_kpi_json_has_method_variance_reduction_estimates_and_placebo():
    spec = _spec()
    result = analyze_data(spec, MetricData(), kpis=_simulated(spec, 1, 0.02), today=END)
    d = result.to_dict()
    kpi = next(m for m in d["metrics"] if m["metric"] == "kpi:conversion_rate")
    comp = kpi["comparisons"][0]
    assert comp["method"] == "ancova+randomisation_exact"
    assert set(comp["estimates"]) == {"ancova", "did", "unadjusted"}
    assert {"variance_reduction", "placebo"} <= set(comp)
    assert kpi["pre_period"] == ["2026-10-05", "2026-11-01"]
    sus = next(m for m in d["metrics"] if m["metric"] == "sus")
    assert "estimates" not in sus["comparisons"][0]  # session metrics: JSON unchanged
    assert ExperimentResult.from_dict(d).to_dict() == d


def test_kpi_chance_to_win_agrees_with_its_ci():
    """Chance to win uses the CI's t (HC2, ~10 dof with 12 stores), so it leaves [2.5%, 97.5%]
    exactly when the CI excludes 0; a normal made it 99% while the CI still held 0."""
    spec = _spec()
    for seed in range(40):
        for effect in (0.004, 0.008):
            kpis = _simulated(spec, seed, effect)
            d = analyze_data(spec, MetricData(), kpis=kpis, today=END).to_dict()
            kpi = next(m for m in d["metrics"] if m["metric"] == "kpi:conversion_rate")
            comp = kpi["comparisons"][0]
            excludes = comp["ci_low"] > 0 or comp["ci_high"] < 0
            extreme = not 0.025 <= comp["chance_to_win"] <= 0.975
            assert excludes == extreme, (seed, effect, comp)
            assert comp["dof"] == comp["estimates"]["ancova"]["dof"] < 12


def test_analyze_data_without_kpis_says_what_is_missing():
    with pytest.raises(InvalidInputError, match="needs the lab's store KPIs"):
        analyze_data(_spec(), MetricData(), today=END)


# --- reports ----------------------------------------------------------------------------------


def _kpi_report():
    from reports.data import ExperimentReport

    spec = _spec(design="matched", pairs=[["S01", "S02"], ["S03", "S04"], ["S05", "S06"],
                                          ["S07", "S08"]])  # fmt: skip
    result = analyze_data(spec, MetricData(), kpis=_simulated(spec, 1, 0.02), today=END)
    return ExperimentReport.of(spec, result)


def test_reports_show_the_kpi_method_variance_reduction_and_placebo():
    from rich.console import Console

    from reports.htmlreport import render_html
    from reports.terminal import show

    report = _kpi_report()
    page = render_html(report)
    assert 'data-metric="kpi:conversion_rate"' in page and "Conversion rate (store)" in page
    # a KPI counts store-days, not sessions
    assert re.search(r"\d+ units · [\d,]+ days", page)
    for text in (page,):
        assert "ANCOVA (CUPED) on the pre-period mean" in text
        assert "of the variance" in text and "Placebo (same analysis" in text
        assert "matched pairs" in text  # the design, in the methods
    console = Console(record=True, width=200)
    show(report, console)
    out = console.export_text()
    assert "Conversion rate (store) — Method: ANCOVA" in out and "Placebo" in out
    assert "within matched pairs" in out


def test_dashboard_experiment_page_shows_the_kpi_lines(lab_with_events, monkeypatch):
    from reports import data
    from tests.test_reports_app import all_text, app

    report = _kpi_report()
    monkeypatch.setattr(data, "analyze", lambda _lab, _exp: report)
    monkeypatch.setattr(data, "db_version", lambda _lab: -7)  # a cache key of its own
    at = app(lab_with_events.config.dashboard.token)
    at.switch_page("app_pages/experiment.py").run()
    assert not at.exception
    text = all_text(at)
    assert "Method: ANCOVA (CUPED)" in text and "the pre-period removed" in text
    assert "Placebo (same analysis" in text
