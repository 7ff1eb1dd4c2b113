"""HTML report, terminal scorecard, figures and the ``storelab report`` commands."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from experiments.results import Decision, SrmCheck
from reports import scorecard as sc
from reports.htmlreport import render_html, write_report
from tests.fixtures import (
    ANALYSIS_EXAMPLE,
    ANALYSIS_JSON,
    analysis_example,
    session_analysis_example,
)

SUMMARY = {"events": 48211, "sessions": 1602, "stores": 12, "rejected": 3, "last": "2026-11-29"}


class _Refs(HTMLParser):
    """Collects src/href attributes and counts script tags (their bodies are not parsed)."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        self.refs += [v or "" for k, v in attrs if k in ("src", "href")]


@pytest.fixture(scope="module")
def report_page() -> str:
    return render_html(ANALYSIS_EXAMPLE, SUMMARY)


def _without_plotly_bundle(page: str) -> str:
    """The page minus the plotly.js library (its code names URLs it never loads for us)."""
    start = page.index("* plotly.js v")
    end = page.index("</script>", start)
    return page[:start] + page[end:]


def test_html_is_self_contained(report_page: str) -> None:
    parser = _Refs()
    parser.feed(report_page)
    external = [r for r in parser.refs if re.match(r"^(https?:)?//", r.strip())]
    assert external == []
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", report_page)
    page = _without_plotly_bundle(report_page)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "@font-face" not in page


def test_html_inlines_plotly_exactly_once(report_page: str) -> None:
    assert report_page.count("* plotly.js v") == 1
    assert report_page.count("Plotly.newPlot(") >= 4 * 2  # every metric has its figures


def test_html_has_recommendation_reasons_srm_and_methods(report_page: str) -> None:
    assert 'data-recommendation="roll_out"' in report_page
    assert "Roll out" in report_page
    for reason in ANALYSIS_EXAMPLE.result.decision.reasons:
        assert reason.replace("'", "&#x27;") in report_page
    assert "Sample ratio OK" in report_page
    assert "Holm" in report_page
    assert "store, not the session, is the unit of inference" in report_page
    assert "Guardrail p-values are not adjusted" in report_page


def test_html_lists_every_metric_with_numbers(report_page: str) -> None:
    for metric in ANALYSIS_EXAMPLE.result.metrics:
        assert f'data-metric="{metric.metric}"' in report_page
        assert sc.metric_label(metric.metric) in report_page
    assert "+6.2 pp" in report_page  # abs effect of the primary metric
    assert "[+1.8 pp, +10.6 pp]" in report_page  # its CI
    assert "0.011" in report_page  # its p-value (one challenger: Holm leaves it as it is)
    assert "99.1%" in report_page  # its chance to win
    assert "−4.1 s" in report_page  # time on task, with unit and a real minus sign


def test_html_embeds_the_analysis_as_json(report_page: str) -> None:
    raw = re.search(
        r'<script type="application/json" id="analysis">(.*?)</script>', report_page, re.S
    )
    assert raw is not None
    assert json.loads(raw.group(1)) == ANALYSIS_JSON  # the analysis and the spec's context


def test_html_escapes_text_from_the_analysis() -> None:
    bad = analysis_example(
        hypothesis="<script>alert(1)</script>", decision=Decision("scrap", ("<b>x</b>",))
    )
    page = render_html(bad)
    assert "<script>alert(1)" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert 'data-recommendation="scrap"' in page


def test_srm_mismatch_is_shouted() -> None:
    srm = replace(
        ANALYSIS_EXAMPLE.result.srm,
        p_value=0.0001,
        ok=False,
        counts={"control": 6, "treatment": 3},
        expected={"control": 4.5, "treatment": 4.5},
    )
    ok, text = sc.srm_summary(srm)
    assert ok is False and "mismatch" in text
    assert "control 6/6 · treatment 3/6 planned stores delivered data" in text
    assert 'class="sl-note bad"' in render_html(analysis_example(srm=srm))


def test_session_srm_names_the_expected_counts() -> None:
    srm = SrmCheck(
        p_value=0.73,
        ok=True,
        counts={"control": 5981, "treatment": 6019},
        unit="session",
        planned={"control": 0.5, "treatment": 0.5},
        expected={"control": 6000.0, "treatment": 6000.0},
        sessions={"control": 5981, "treatment": 6019},
        threshold=0.001,
    )
    ok, text = sc.srm_summary(srm)
    assert ok is True
    assert text.startswith(
        "Sample ratio OK: control 5,981 · treatment 6,019 sessions, planned 50% / 50% "
        "(expected 6,000 · 6,000). χ² p = 0.73"
    )


def test_missing_numbers_render_as_dashes() -> None:
    gone = dict.fromkeys(("ci_low", "ci_high", "rel_effect", "rel_ci_low", "rel_ci_high"))
    metrics = tuple(
        replace(
            m,
            comparisons=tuple(replace(c, **gone, chance_to_win=None) for c in m.comparisons),
            stores=None,
        )
        for m in ANALYSIS_EXAMPLE.result.metrics
    )
    page = render_html(analysis_example(metrics=metrics))
    assert "–" in page and "Plotly.newPlot(" in page


def test_outcome_respects_direction() -> None:
    time_metric = next(m for m in ANALYSIS_EXAMPLE.result.metrics if m.metric == "time_on_task_s")
    faster = replace(time_metric.comparisons[0], significant=True)
    assert sc.outcome(time_metric, faster) == "win"
    assert sc.outcome(time_metric, replace(faster, abs_effect=4.1)) == "loss"
    assert sc.outcome(time_metric, time_metric.comparisons[0]) == "flat"


def test_figures_have_zero_line_mde_band_and_variant_colours() -> None:
    from reports.figures import metric_figures

    primary = ANALYSIS_EXAMPLE.result.primary
    figs = metric_figures(ANALYSIS_EXAMPLE, primary)
    assert set(figs) == {"effect", "means", "stores"}
    shapes = figs["effect"].layout.shapes
    assert any(s.type == "line" and s.x0 == 0 for s in shapes)  # zero line
    band = [s for s in shapes if s.type == "rect"]
    assert band and (band[0].x0, band[0].x1) == pytest.approx((-5.0, 5.0))  # MDE ±5 pp
    colours = [t.marker.color for t in figs["means"].data]
    assert colours == [sc.BASELINE_COLOR, sc.VARIANT_COLORS[0]]
    assert [t.name for t in figs["stores"].data] == ["control", "treatment"]
    assert list(figs["stores"].data[0].x) == ["S01", "S03", "S05", "S07", "S09", "S11"]
    assert figs["stores"].data[0].y[0] == pytest.approx(58.0)  # percent
    # only the primary metric has a minimum effect of interest
    secondary = ANALYSIS_EXAMPLE.result.metrics[1]
    assert not [s for s in metric_figures(ANALYSIS_EXAMPLE, secondary)["effect"].layout.shapes
                if s.type == "rect"]  # fmt: skip


def test_session_experiments_have_no_per_store_figure() -> None:
    from reports.figures import metric_figures

    metrics = tuple(replace(m, stores=None) for m in ANALYSIS_EXAMPLE.result.metrics)
    report = analysis_example(unit="session", metrics=metrics)
    assert set(metric_figures(report, report.result.primary)) == {"effect", "means"}


def test_terminal_show_renders_every_metric() -> None:
    from rich.console import Console

    from reports.terminal import show

    console = Console(record=True, width=200, color_system=None)
    show(ANALYSIS_EXAMPLE, console)
    text = console.export_text()
    assert "Roll out" in text
    for metric in ANALYSIS_EXAMPLE.result.metrics:
        assert sc.metric_label(metric.metric) in text
    assert "+6.2 pp [+1.8 pp, +10.6 pp]" in text
    assert "Holm" in text and "Sample ratio OK" in text


def test_sequential_p_and_ci_stand_beside_the_fixed_ones() -> None:
    """unit=session: `report show` and the HTML report show the sequential p and CI next to
    the fixed-horizon ones, and say what they are for; unit=store shows no such column."""
    from rich.console import Console

    from reports.terminal import show

    report = session_analysis_example()
    console = Console(record=True, width=250, color_system=None)
    show(report, console)
    text = console.export_text()
    assert "Seq. p" in text and "Seq. CI" in text
    # task success: fixed p 0.004 and CI [+1.4, +7.6] beside sequential p 0.081, [−0.3, +9.3]
    row = next(line for line in text.splitlines() if "Task success rate" in line)
    assert "[+1.4 pp, +7.6 pp]" in row and "0.004" in row
    assert "0.081" in row and "[−0.3 pp, +9.3 pp]" in row
    assert "not yet by the sequential test" in text  # why it keeps running
    page = render_html(report, SUMMARY)
    assert "Sequential p · CI" in page
    assert '<td class="sl-seq"><b>0.081</b><span class="sl-ci">[−0.3 pp, +9.3 pp]</span>' in page
    assert "Safe peeking" in page  # the methods paragraph
    store = render_html(ANALYSIS_EXAMPLE, SUMMARY)
    assert "Sequential p" not in store and "sl-seq" not in store
    console = Console(record=True, width=250, color_system=None)
    show(ANALYSIS_EXAMPLE, console)
    assert "Seq. p" not in console.export_text()


def test_session_report_json_reads_back_with_its_sequential_reading() -> None:
    from reports.data import ExperimentReport

    report = session_analysis_example()
    raw = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    seq = raw["metrics"][0]["comparisons"][0]["sequential"]
    assert seq["method"] == "mixture_sprt" and seq["planned_n"] == 5600
    assert ExperimentReport.from_dict(raw) == report


# --- against a real lab: experiments.analysis on DuckDB data ------------------------------------


def test_write_report_for_a_real_lab(lab_with_events) -> None:
    path = write_report(lab_with_events, "scan-pos-v2")
    assert path == lab_with_events.reports_dir / "scan-pos-v2.html"
    page = path.read_text(encoding="utf-8")
    assert "scan-pos-v2" in page and "data-recommendation=" in page
    assert ">48<" in page.replace(",", "")  # the lab's event count (8 sessions × 6 events)


def test_report_commands(lab_with_events, tmp_path: Path) -> None:
    from reports.commands import app

    runner = CliRunner()
    out = tmp_path / "r.html"
    result = runner.invoke(
        app,
        ["html", "scan-pos-v2", "--out", str(out), "--lab", str(lab_with_events.root), "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"path": str(out)}
    assert out.stat().st_size > 1_000_000  # plotly.js is inside

    result = runner.invoke(
        app, ["show", "scan-pos-v2", "--lab", str(lab_with_events.root), "--json"]
    )
    assert result.exit_code == 0, result.output
    analysis = json.loads(result.stdout)
    assert analysis["experiment"] == "scan-pos-v2"
    assert {m["metric"] for m in analysis["metrics"]} >= {"task_success_rate", "misclick_rate"}

    result = runner.invoke(app, ["show", "scan-pos-v2", "--lab", str(lab_with_events.root)])
    assert result.exit_code == 0, result.output
    assert "Task success rate" in result.stdout and "Misclick rate" in result.stdout


def test_dashboard_command_line_and_url(lab_with_events) -> None:
    from reports.serve import dashboard_command, dashboard_env, dashboard_url

    cmd = dashboard_command(8765)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("reports/app.py")
    assert cmd[7:9] == ["--server.port", "8765"] and "--browser.gatherUsageStats" in cmd
    assert dashboard_env(lab_with_events)["STORELAB_LAB"] == str(lab_with_events.root)
    token = lab_with_events.config.dashboard.token
    assert dashboard_url(lab_with_events, 8765).endswith(f":8765/?token={token}")


def test_reports_commands_import_no_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, reports.commands, reports.serve, reports.scorecard;"
        "heavy = {'streamlit', 'plotly', 'duckdb', 'pandas', 'numpy', 'scipy'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _with_nps_row():
    """The example with its SUS row turned into NPS, relative effects null (as analyze gives)."""
    gone = dict.fromkeys(("rel_effect", "rel_ci_low", "rel_ci_high"))
    metrics = tuple(
        replace(m, metric="nps", comparisons=tuple(replace(c, **gone) for c in m.comparisons))
        if m.metric == "sus"
        else m
        for m in ANALYSIS_EXAMPLE.result.metrics
    )
    return analysis_example(metrics=metrics)


def test_no_relative_effect_for_nps_is_explained() -> None:
    from rich.console import Console

    from reports.terminal import show

    report = _with_nps_row()
    page = render_html(report)
    assert "No relative effect (–) for NPS" in page
    nps_row = page[page.index('data-metric="nps"') :]
    nps_row = nps_row[: nps_row.index("</tr>")]
    rel_cell = nps_row.split("<td")[5]  # name, baseline, variant, abs. effect, rel. effect
    assert "–" in rel_cell and "%" not in rel_cell
    console = Console(record=True, width=250, color_system=None)
    show(report, console)
    assert "No relative effect (–) for NPS" in console.export_text()
    assert sc.no_relative_note(ANALYSIS_EXAMPLE.result) == ""  # no NPS, no note
