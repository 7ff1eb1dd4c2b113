"""``extend`` says how long: more stores or weeks for the planned power (experiments.extension)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from experiments import power as pw
from experiments.analysis import analyze_data
from experiments.metrics import MetricData
from experiments.results import Decision, ExperimentResult
from experiments.spec import ExperimentSpec
from experiments.statistics import ProportionStatistic, SampleMeanStatistic
from tests.test_experiments_analysis import END, START, STORES, session_data, spec_dict

AFTER_END = date(2026, 12, 1)


def test_session_extend_says_how_many_weeks_at_today_s_traffic():
    spec = ExperimentSpec.model_validate(spec_dict("exp-x", "session", secondary_metrics=[]))
    result = analyze_data(spec, session_data((400, 200), (400, 216)), today=AFTER_END)
    decision = result.decision
    assert decision.recommendation == "extend", decision.reasons
    ext = decision.extend_by
    # the plan power.py makes at the observed baseline (50%) for min_effect 0.05
    plan = pw.sessions_needed(0.05, pw.PowerInputs(baseline=0.5, alpha=0.05, power=0.8))
    assert ext.needed_per_variant == plan["per_variant"] == 1562  # 2.8016² · (.25 + .2475) / .05²
    assert (ext.unit, ext.now_per_variant, ext.more_per_variant) == ("session", 400, 1162)
    days = (END - START).days + 1
    assert ext.sessions_per_day == pytest.approx(800 / days)
    assert ext.days == math.ceil(days * (1562 / 400 - 1))
    assert ext.weeks == math.ceil(ext.days / 7)
    said = decision.reasons[-1]
    assert f"Extend the pilot: about {ext.weeks} more weeks ({ext.days} days)" in said
    assert f"at today's {800 / days:,.0f} sessions a day" in said
    assert "1,562 sessions per variant instead of 400" in said
    assert "80% power for the minimum effect of 5 pp" in said


def test_a_mean_metric_is_planned_with_the_observed_sd():
    spec = ExperimentSpec.model_validate(
        spec_dict(
            "exp-m",
            "session",
            primary_metric="time_on_task_s",
            secondary_metrics=[],
            min_effect=2.0,
        )  # fmt: skip
    )
    data = session_data((400, 200), (400, 216))
    sd = 12.0
    for v, mean in (("control", 40.0), ("treatment", 39.0)):
        data.by_variant[v]["time_on_task_s"] = SampleMeanStatistic(
            n=400, sum=400 * mean, sum_squares=399 * sd**2 + 400 * mean**2
        )
    result = analyze_data(spec, data, today=AFTER_END)
    ext = result.decision.extend_by
    assert result.decision.recommendation == "extend"
    assert ext.sd == pytest.approx(sd, rel=1e-6)
    plan = pw.sessions_needed(2.0, pw.PowerInputs(baseline=40.0, sd=ext.sd, alpha=0.05))
    assert ext.needed_per_variant == plan["per_variant"]


def _store_result(rates_ctrl, rates_trt, sessions=100) -> ExperimentResult:
    spec = ExperimentSpec.model_validate(
        spec_dict(
            "exp-s",
            "store",
            stores={"control": STORES[:4], "treatment": STORES[4:8]},
            secondary_metrics=[],
        )  # fmt: skip
    )
    data = MetricData()
    for store, rate in zip(STORES[:8], [*rates_ctrl, *rates_trt], strict=True):
        data.by_store[store] = {
            "task_success_rate": ProportionStatistic(n=sessions, sum=sessions * rate),
        }
        data.sessions_by_store[store] = sessions
    return analyze_data(spec, data, today=AFTER_END)


def test_store_extend_says_how_many_more_stores():
    result = _store_result([0.50, 0.58, 0.45, 0.55], [0.52, 0.63, 0.50, 0.60])
    decision = result.decision
    assert decision.recommendation == "extend", decision.reasons
    ext = decision.extend_by
    comp = result.primary.comparisons[0]
    # the ICC reproduces the store test's variance through power.py's design effect
    de = pw.StoreDesign(100, ext.icc, 0.0).design_effect
    p0, p1 = 0.52, 0.5625
    assert de == pytest.approx(comp.se**2 / (p0 * (1 - p0) / 400 + p1 * (1 - p1) / 400))
    plan = pw.stores_needed(0.05, pw.PowerInputs(baseline=p0), pw.StoreDesign(100, ext.icc))
    assert ext.needed_per_variant == plan["stores_per_variant"] > 4
    assert ext.more_per_variant == plan["stores_per_variant"] - 4
    assert f"Extend the pilot: about {ext.more_per_variant} more stores per variant" in " ".join(
        decision.reasons
    )
    assert ext.days is None and ext.weeks is None


def test_no_min_effect_no_number():
    spec = ExperimentSpec.model_validate(
        spec_dict("exp-n", "session", secondary_metrics=[], min_effect=None)
    )
    result = analyze_data(spec, session_data((100, 50), (100, 55)), today=AFTER_END)
    assert result.decision.recommendation == "extend"
    assert result.decision.extend_by is None
    assert "`storelab experiment power` says how much" in " ".join(result.decision.reasons)


def test_extend_by_round_trips_through_json():
    spec = ExperimentSpec.model_validate(spec_dict("exp-j", "session", secondary_metrics=[]))
    decision = analyze_data(spec, session_data((400, 200), (400, 216)), today=AFTER_END).decision
    again = Decision.from_dict(decision.to_dict())
    assert again == decision
    assert Decision.from_dict({"recommendation": "extend", "reasons": []}).extend_by is None


def test_a_lab_s_extend_shows_in_every_report(lab):
    """A store pilot too small to decide: the terminal, the HTML and the JSON say how many
    more stores."""
    from typer.testing import CliRunner

    from cli import app
    from experiments.analysis import analyze
    from reports.htmlreport import write_report
    from sample_data.generate import finished_pilot_window, generate_sample

    start, end = finished_pilot_window()
    generate_sample(lab, stores=6, sessions=900, seed=3, start=start, end=end,
                    effects={"task_success_rate": 0.04})  # fmt: skip
    result = analyze(lab, "scan-and-discover-pilot")
    assert result.decision.recommendation == "extend", result.decision.reasons
    ext = result.decision.extend_by
    assert ext is not None and ext.unit == "store" and ext.more_per_variant > 0
    said = f"Extend the pilot: about {ext.more_per_variant} more stores per variant"
    html = write_report(lab, "scan-and-discover-pilot").read_text(encoding="utf-8")
    assert said in html
    shown = CliRunner().invoke(app, ["report", "show", "scan-and-discover-pilot",
                                     "--lab", str(lab.root)])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert said in " ".join(shown.output.split())
