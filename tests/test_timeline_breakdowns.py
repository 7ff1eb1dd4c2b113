"""Results over time and breakdowns: the cumulative effect day by day and the effect per
device, store, region, format and locale, checked against the final analysis and by hand."""

from __future__ import annotations

import itertools
import json
import random
import textwrap
from datetime import UTC, date, datetime, timedelta

import pytest
from scipy import stats
from typer.testing import CliRunner

from errors import InvalidInputError
from experiments.analysis import analyze
from experiments.readout import ReadOut, read_out, read_out_all
from experiments.results import ExperimentResult
from feedback.ingest import ingest
from feedback.store import connect
from lab import Lab
from tests.fixtures import make_event, session_events, write_jsonl

EXP = "slices"
DAYS = [date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 5)]
# store -> (region, format) in the sample fleet: S01 Nord flagship, S02 Ost flagship,
# S04 West mall, S09 Nord outlet
STORES = ["S01", "S02", "S04", "S09"]

SPEC = """\
    id: slices
    hypothesis: A hint raises task success.
    prototype: scan-and-discover
    unit: {unit}
    variants:
      control: {{version: 1}}
      treatment: {{version: 2}}
    allocation: {{control: 0.5, treatment: 0.5}}
    stores: {stores}
    start: 2026-11-02
    end: 2026-11-29
    primary_metric: task_success_rate
    secondary_metrics: [time_on_task_s]
    guardrails: [misclick_rate]
"""
STORE_SPLIT = "{control: [S01, S09], treatment: [S02, S04]}"
STORE_VARIANT = {"S01": "control", "S09": "control", "S02": "treatment", "S04": "treatment"}


def plan(unit: str, n: int = 96, seed: int = 3) -> list[dict]:
    """Sessions with known store, variant, outcome, device, locale and start (10:00 UTC)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        store = STORES[i % 4]
        random_arm = "treatment" if rng.random() < 0.5 else "control"
        variant = STORE_VARIANT[store] if unit == "store" else random_arm
        lift = 0.15 if variant == "treatment" else 0.0
        out.append(
            {
                "store": store,
                "variant": variant,
                "success": rng.random() < 0.55 + lift,
                "device": "phone" if rng.random() < 0.4 else "kiosk",
                "locale": "en" if rng.random() < 0.3 else "de",
                "start": datetime.combine(DAYS[i % 3], datetime.min.time(), UTC)
                + timedelta(hours=10, minutes=i),
            }
        )
    return out


def write_lab(lab: Lab, unit: str, sessions: list[dict], spec: str = SPEC) -> None:
    """The experiment spec, and the sessions as events (ingested)."""
    stores = STORE_SPLIT if unit == "store" else "[]"
    spec = textwrap.dedent(spec.format(unit=unit, stores=stores))
    (lab.experiments_dir / f"{EXP}.yaml").write_text(spec, encoding="utf-8")
    rows = []
    for s in sessions:
        events = session_events(
            store_id=s["store"],
            variant=s["variant"],
            success=s["success"],
            experiment_id=EXP,
            start=s["start"],
        )
        for event in events:
            event["device"] = s["device"]
            if event["type"] == "session_start" and s["locale"]:
                event["props"] = {"locale": s["locale"]}
        rows += events
    write_jsonl(lab.spool_dir / "sessions.jsonl", rows)
    assert ingest(lab).rejected == 0


def welch_by_hand(sessions: list[dict]) -> tuple[float, float, float, float]:
    """(effect, CI low, CI high, p) of treatment − control on the 0/1 outcomes, from scipy."""
    a = [float(s["success"]) for s in sessions if s["variant"] == "control"]
    b = [float(s["success"]) for s in sessions if s["variant"] == "treatment"]
    test = stats.ttest_ind(b, a, equal_var=False)
    ci = test.confidence_interval(0.95)
    return sum(b) / len(b) - sum(a) / len(a), ci.low, ci.high, test.pvalue


def row(result: ExperimentResult, dimension: str, segment: str, metric="task_success_rate"):
    (found,) = [
        r
        for r in result.breakdowns.rows
        if (r.dimension, r.segment, r.metric) == (dimension, segment, metric)
    ]
    return found


def assert_last_point_is_final(result: ExperimentResult) -> None:
    """Every metric × challenger: the last day's numbers are the final analysis' numbers."""
    assert len(result.timeline.series) == 3  # three metrics, one challenger
    for series in result.timeline.series:
        metric = next(m for m in result.metrics if m.metric == series.metric)
        final = next(c for c in metric.comparisons if c.variant == series.variant)
        last = series.points[-1]
        assert last.day == DAYS[-1]
        assert (last.abs_effect, last.ci_low, last.ci_high, last.p_value) == (
            final.abs_effect,
            final.ci_low,
            final.ci_high,
            final.p_value,
        )
        base, var = metric.variant("control"), metric.variant("treatment")
        assert (last.baseline_units, last.variant_units) == (base.units, var.units)
        assert (last.baseline_mean, last.variant_mean) == (base.mean, var.mean)


@pytest.mark.parametrize("unit", ["session", "store"])
def test_the_last_day_of_the_timeline_is_the_final_analysis(lab: Lab, unit: str) -> None:
    write_lab(lab, unit, plan(unit))
    result = read_out(lab, EXP)
    assert_last_point_is_final(result)
    assert [p.day for p in result.timeline.series[0].points] == DAYS
    # the decision is the analysis' own: made before, and never from, the slices
    plain = analyze(lab, EXP)
    assert result.decision == plain.decision and result.metrics == plain.metrics


@pytest.mark.parametrize("unit", ["session", "store"])
def test_a_ratio_metric_over_time_is_the_final_ratio_of_totals(lab: Lab, unit: str) -> None:
    """misclick_rate is Σ misclicks / Σ (taps + misclicks): the timeline's last day must carry
    the same ratio statistics as the analysis, not a mean of per-session ratios."""
    write_lab(lab, unit, plan(unit))
    rng = random.Random(11)
    with connect(lab) as con:
        sessions = con.execute(
            "SELECT session_id, any_value(experiment_id), any_value(variant), "
            "any_value(store_id), min(ts) FROM events GROUP BY session_id"
        ).fetchall()
    extra = []
    for session_id, exp, variant, store, t0 in sessions:
        for i in range(rng.randint(0, 4) + rng.randint(0, 6)):
            kind = "misclick" if i % 2 else "tap"
            extra.append(
                make_event(
                    session_id=str(session_id), experiment_id=exp, variant=variant, store_id=store,
                    type=kind, ts=(t0 + timedelta(seconds=31 + i)).isoformat(),
                )
            )  # fmt: skip
    write_jsonl(lab.spool_dir / "taps.jsonl", extra)
    assert ingest(lab).rejected == 0
    result = read_out(lab, EXP)
    (series,) = result.timeline.for_metric("misclick_rate")
    final = next(m for m in result.metrics if m.metric == "misclick_rate")
    last = series.points[-1]
    assert final.comparisons[0].p_value is not None
    assert last.abs_effect == pytest.approx(final.comparisons[0].abs_effect, rel=1e-9)
    assert last.ci_low == pytest.approx(final.comparisons[0].ci_low, rel=1e-9)
    assert last.baseline_mean == pytest.approx(final.variant("control").mean, rel=1e-9)


def test_each_day_is_the_welch_test_on_the_sessions_so_far(lab: Lab) -> None:
    sessions = plan("session")
    write_lab(lab, "session", sessions)
    points = read_out(lab, EXP).timeline.for_metric("task_success_rate")[0].points
    for point, day in zip(points, DAYS, strict=True):
        so_far = [s for s in sessions if s["start"].date() <= day]
        effect, low, high, p = welch_by_hand(so_far)
        assert point.variant_units == sum(s["variant"] == "treatment" for s in so_far)
        assert point.abs_effect == pytest.approx(effect, rel=1e-12)
        assert (point.ci_low, point.ci_high) == (pytest.approx(low), pytest.approx(high))
        assert point.p_value == pytest.approx(p, rel=1e-9)


def test_days_are_the_pilot_time_zone_s(lab: Lab) -> None:
    """23:30 UTC on the 3rd is 00:30 on the 4th in Berlin: that session counts from the 4th."""
    sessions = plan("session")
    late = {**sessions[0], "start": datetime(2026, 11, 3, 23, 30, tzinfo=UTC)}
    write_lab(lab, "session", [*sessions, late])
    points = read_out(lab, EXP).timeline.for_metric("task_success_rate")[0].points
    first_day = [s for s in sessions if s["start"].date() == DAYS[0]]
    assert points[0].baseline_units + points[0].variant_units == len(first_day)
    assert read_out(lab, EXP).timeline.time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("dimension", "segment", "keep"),
    [
        ("device", "phone", lambda s: s["device"] == "phone"),
        ("locale", "en", lambda s: s["locale"] == "en"),
        ("store", "S04", lambda s: s["store"] == "S04"),
        ("region", "Nord", lambda s: s["store"] in ("S01", "S09")),
        ("format", "flagship", lambda s: s["store"] in ("S01", "S02")),
    ],
)
def test_a_segment_is_the_welch_test_on_its_sessions_alone(
    lab: Lab, dimension: str, segment: str, keep
) -> None:
    sessions = plan("session")
    write_lab(lab, "session", sessions)
    got = row(read_out(lab, EXP), dimension, segment)
    mine = [s for s in sessions if keep(s)]
    effect, low, high, p = welch_by_hand(mine)
    control = [s["success"] for s in mine if s["variant"] == "control"]
    treated = [s["success"] for s in mine if s["variant"] == "treatment"]
    assert (got.baseline_sessions, got.variant_sessions) == (len(control), len(treated))
    assert got.baseline_mean == pytest.approx(sum(control) / len(control), rel=1e-12)
    assert got.variant_mean == pytest.approx(sum(treated) / len(treated), rel=1e-12)
    assert got.abs_effect == pytest.approx(effect, rel=1e-12)
    assert (got.ci_low, got.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert got.p_value == pytest.approx(p, rel=1e-9)
    assert got.method == "welch"


def test_a_store_experiment_s_segment_is_tested_over_its_stores(lab: Lab) -> None:
    """unit=store: the segment's sessions per store, the ratio of sums per arm, and the exact
    permutation p-value over the 6 ways to give 2 of the 4 stores the treatment."""
    sessions = plan("store")
    write_lab(lab, "store", sessions)
    result = read_out(lab, EXP)
    got = row(result, "device", "phone")
    phone = [s for s in sessions if s["device"] == "phone"]
    per_store = {st: [s["success"] for s in phone if s["store"] == st] for st in STORES}

    def ratio(stores) -> float:
        return sum(sum(per_store[s]) for s in stores) / sum(len(per_store[s]) for s in stores)

    def effect(treated) -> float:
        return ratio(treated) - ratio([s for s in STORES if s not in treated])

    observed = effect(["S02", "S04"])
    splits = list(itertools.combinations(STORES, 2))
    p = sum(abs(effect(t)) >= abs(observed) - 1e-12 for t in splits) / len(splits)
    assert (got.baseline_units, got.variant_units) == (2, 2)
    assert got.baseline_mean == pytest.approx(ratio(["S01", "S09"]), rel=1e-12)
    assert got.abs_effect == pytest.approx(observed, rel=1e-12)
    assert got.p_value == pytest.approx(p)
    # one store runs one arm: a store has no comparison, only its mean
    s04 = row(result, "store", "S04")
    assert (s04.baseline_units, s04.variant_units, s04.abs_effect) == (0, 1, None)
    s04_sessions = [s["success"] for s in sessions if s["store"] == "S04"]
    assert s04.variant_mean == pytest.approx(sum(s04_sessions) / len(s04_sessions))


def test_the_caveat_counts_the_comparisons(lab: Lab) -> None:
    write_lab(lab, "session", plan("session"))
    breakdowns = read_out(lab, EXP).breakdowns
    # 2 devices + 4 stores + 3 regions + 3 formats + 2 locales = 14 segments × 3 metrics; time
    # on task (always 20 s) and misclicks (none) have no variance and so no p-value
    assert len(breakdowns.rows) == 42
    assert breakdowns.comparisons == 14 == sum(r.p_value is not None for r in breakdowns.rows)
    assert breakdowns.caveat.startswith(
        "14 segment comparisons (14 segments, 3 metrics, 1 challenger)"
    )
    assert "about 1 in 20 looks significant by chance alone" in breakdowns.caveat
    assert "explore, not to decide" in breakdowns.caveat


def test_json_has_timeline_and_breakdowns_and_flags_leave_them_out(lab: Lab) -> None:
    from experiments.commands import app

    write_lab(lab, "session", plan("session"))
    runner = CliRunner()
    full = runner.invoke(app, ["analyze", EXP, "--lab", str(lab.root), "--json"])
    assert full.exit_code == 0, full.output
    out = json.loads(full.output)
    assert list(out)[-2:] == ["timeline", "breakdowns"]
    assert ExperimentResult.from_dict(out).to_dict() == out  # reads back exactly
    assert out["timeline"]["series"][0]["points"][-1]["day"] == "2026-11-05"
    bare = runner.invoke(
        app, ["analyze", EXP, "--lab", str(lab.root), "--json", "--no-timeline", "--no-breakdowns"]
    )
    assert "timeline" not in json.loads(bare.output) and "breakdowns" not in bare.output
    every = runner.invoke(app, ["analyze", "--all", "--lab", str(lab.root), "--json"])
    assert all("timeline" in r and "breakdowns" in r for r in json.loads(every.output))


def test_a_time_zone_that_does_not_exist_is_one_clear_line(lab: Lab) -> None:
    from experiments.commands import app

    write_lab(lab, "session", plan("session", n=12))
    toml = lab.root / "storelab.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('"Europe/Berlin"', '"Mars/Olympus"'),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError, match="Mars/Olympus"):
        read_out(Lab(lab.root), EXP)
    failed = read_out_all(Lab(lab.root))
    assert "is not a time zone" in failed[0].error
    # the analysis itself does not need the time zone
    assert read_out(Lab(lab.root), EXP, ReadOut(timeline=False, breakdowns=False)).metrics
    result = CliRunner().invoke(app, ["analyze", EXP, "--lab", str(lab.root), "--json"])
    assert result.exit_code == 1 and "Mars/Olympus" in result.output
    assert "Traceback" not in result.output


def test_the_caveat_and_the_chart_are_in_the_html_report_and_report_show(lab: Lab) -> None:
    from reports import data
    from reports.commands import app
    from reports.figures import timeline_figure
    from reports.htmlreport import render_html

    write_lab(lab, "session", plan("session"))
    report = data.analyze(lab, EXP)
    html = render_html(report)
    assert '<h2 id="breakdowns">Breakdowns</h2>' in html
    assert report.result.breakdowns.caveat.replace("×", "&#215;")[:40] in html.replace(
        "×", "&#215;"
    )
    assert 'data-dimension="locale" data-segment="en"' in html
    assert "Cumulative effect by day" in html
    fig = timeline_figure(report.result, report.result.primary)
    line = next(t for t in fig.data if t.mode == "lines+markers")
    points = report.result.timeline.for_metric("task_success_rate")[0].points
    assert list(line.y) == pytest.approx([p.abs_effect * 100 for p in points])  # in pp
    band = next(t for t in fig.data if t.fill == "toself")
    assert max(band.y) == pytest.approx(max(p.ci_high for p in points) * 100)

    shown = CliRunner().invoke(app, ["show", EXP, "--lab", str(lab.root)], terminal_width=120)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "Over time: Task success rate" in text and "Breakdowns: Task success rate" in text
    assert "not adjusted for multiple testing" in text and "explore, not to decide" in text
    assert "locale en" in text and "2026-11-05" in text


RUNTIME_SPEC = """\
    id: mini-exp
    hypothesis: A hint on the shop screen raises task success.
    prototype: mini
    unit: session
    variants:
      control: {version: 1}
      treatment: {version: 1, variant: treatment}
    allocation: {control: 0.5, treatment: 0.5}
    start: 2020-01-01
    end: 2099-12-31
    primary_metric: task_success_rate
"""


def test_events_as_the_runtime_writes_them_are_cut_by_device_and_locale(
    lab: Lab, monkeypatch
) -> None:
    """Two customers through the runtime (English on a phone, German on the kiosk): the
    runtime's device column and the locale in ``session_start`` reach the breakdowns."""
    from tests.fixtures import app_test, click, spool_events, walk_task, write_prototype

    write_prototype(lab)
    (lab.experiments_dir / "mini-exp.yaml").write_text(
        textwrap.dedent(RUNTIME_SPEC), encoding="utf-8"
    )
    for params in ({"store": "S01", "lang": "en", "device": "phone"}, {"store": "S02"}):
        at = app_test(lab, monkeypatch, prototype="mini", **params)
        click(at, "sl_consent_yes")
        walk_task(at)
    starts = [e for e in spool_events(lab) if e["type"] == "session_start"]
    assert sorted(e["props"]["locale"] for e in starts) == ["de", "en"]
    assert ingest(lab).rejected == 0

    result = read_out(lab, "mini-exp")
    counted = {}
    for r in result.breakdowns.for_metric("task_success_rate"):
        counted[(r.dimension, r.segment)] = r.baseline_sessions + r.variant_sessions
    assert {k: v for k, v in counted.items() if k[0] in ("device", "locale")} == {
        ("device", "kiosk"): 1,
        ("device", "phone"): 1,
        ("locale", "de"): 1,
        ("locale", "en"): 1,
    }
    assert counted[("region", "Nord")] == counted[("region", "Ost")] == 1  # S01, S02
    (series,) = result.timeline.series
    last = series.points[-1]  # both played today (in Berlin; two days just at midnight)
    assert len(series.points) <= 2 and last.baseline_units + last.variant_units == 2


def test_every_challenger_has_its_own_series_and_rows(lab: Lab) -> None:
    three_arms = SPEC.replace(
        "treatment: {{version: 2}}", "treatment: {{version: 2}}\n      big: {{version: 3}}"
    ).replace("{{control: 0.5, treatment: 0.5}}", "{{control: 0.4, treatment: 0.3, big: 0.3}}")
    sessions = plan("session")
    rng = random.Random(11)
    for s in sessions:
        if rng.random() < 0.3:
            s["variant"] = "big"
    write_lab(lab, "session", sessions, spec=three_arms)
    result = read_out(lab, EXP)
    assert [(s.metric, s.variant) for s in result.timeline.series][:2] == [
        ("task_success_rate", "treatment"),
        ("task_success_rate", "big"),
    ]
    for series in result.timeline.series:
        final = next(
            c
            for m in result.metrics
            if m.metric == series.metric
            for c in m.comparisons
            if c.variant == series.variant
        )
        assert (series.points[-1].abs_effect, series.points[-1].p_value) == (
            final.abs_effect,
            final.p_value,
        )
    phone = [
        r
        for r in result.breakdowns.rows
        if r.segment == "phone" and r.metric == "task_success_rate"
    ]
    assert [r.variant for r in phone] == ["treatment", "big"]
    big = [s for s in sessions if s["device"] == "phone" and s["variant"] == "big"]
    assert phone[1].variant_sessions == len(big)
