"""Decisions that say what to do: an ``extend``/``iterate`` names the screens to rework first.

On a lab with the simulator's planted problem (sample_data.problem) whose experiment ends in
``extend``, the planted screen is named first in ``experiment analyze --json``, in its text,
in the HTML report, in the dashboard's decision box (the same HTML piece) and in ``report
show``; the evidence carries the counts the events hold for the challenger's sessions.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html import unescape

import pytest
from typer.testing import CliRunner

from experiments.results import Decision
from insights.advice import rework_screens, with_rework
from insights.usability import UsabilityQuery, usability_report
from sample_data.generate import generate_sample
from sample_data.problem import PlantedProblem

PROBLEM = PlantedProblem("reserve", x=0.62, y=0.38, drop=0.3, misclicks=1.2)
EXPERIMENT = "scan-and-discover-pilot"
runner = CliRunner()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from tests.fixtures import new_lab

    lab = new_lab(tmp_path_factory.mktemp("rework") / "lab")
    generate_sample(lab, stores=12, sessions=3000, seed=5, problem=PROBLEM)
    return lab


def _count(lab, sql: str) -> int:
    from feedback.store import connect

    with connect(lab) as con:
        return con.execute(sql).fetchone()[0]


def test_analyze_json_names_the_planted_screen_first(planted) -> None:
    from experiments.commands import app

    out = runner.invoke(app, ["analyze", EXPERIMENT, "--lab", str(planted.root), "--json"])
    assert out.exit_code == 0, out.output
    decision = json.loads(out.output)["decision"]
    assert decision["recommendation"] in ("iterate", "extend")
    screens = decision["rework_screens"]
    assert 1 <= len(screens) <= 3
    first = screens[0]
    assert first["screen"] == "reserve" and first["variant"] == "treatment"
    assert first["version"] == 1 and "reserve" in first["tasks"]
    # the evidence is the challenger's own: every misclick its sessions left on that screen
    assert first["misclicks"] == _count(
        planted,
        "SELECT count(*) FROM events WHERE type = 'misclick' AND screen = 'reserve' "
        f"AND variant = 'treatment' AND experiment_id = '{EXPERIMENT}'",
    )
    assert f"{first['misclicks']:,} misclicks" in first["evidence"]
    assert [s["score"] for s in screens] == sorted((s["score"] for s in screens), reverse=True)
    # and the text read-out lists them under the reasons
    text = runner.invoke(app, ["analyze", EXPERIMENT, "--lab", str(planted.root)]).output
    listed = text.split("Screens to rework first", 1)[1]
    assert re.search(r"1\. reserve:", listed)


def test_html_report_and_report_show_name_it_first(planted, tmp_path) -> None:
    from reports.commands import app
    from reports.htmlreport import write_report

    html = write_report(planted, EXPERIMENT, tmp_path / "r.html").read_text(encoding="utf-8")
    box = html.split('class="sl-decision"', 1)[1].split("<h2>", 1)[0]
    named = re.findall(r'<li data-screen="([^"]+)"', box)
    assert named[0] == "reserve" and len(named) <= 3
    assert "Screens to rework first" in unescape(box)
    out = runner.invoke(
        app, ["show", EXPERIMENT, "--lab", str(planted.root)], env={"COLUMNS": "200"}
    )
    assert out.exit_code == 0, out.output
    after = out.output.split("Screens to rework first", 1)[1]
    assert re.search(r"1\. reserve:", after) and after.index("reserve") < after.index("2.")


def test_report_json_round_trips_the_screens(planted) -> None:
    from reports import data

    report = data.analyze(planted, EXPERIMENT)
    assert report.result.decision.rework_screens[0].screen == "reserve"
    back = data.ExperimentReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert back.result.decision == report.result.decision


def test_only_iterate_and_extend_name_screens(planted) -> None:
    from experiments.readout import ReadOut, read_out
    from experiments.spec import load_experiment

    spec = load_experiment(planted, EXPERIMENT)
    result = read_out(planted, EXPERIMENT, ReadOut(False, False))
    for rec in ("roll_out", "scrap", "keep_running"):
        other = replace(result, decision=Decision(rec, ("why",)))
        assert rework_screens(planted, spec, other) == ()
        assert with_rework(planted, spec, other) is other
    iterate = replace(result, decision=Decision("iterate", ("why",)))
    assert with_rework(planted, spec, iterate).decision.rework_screens[0].screen == "reserve"


def test_usability_query_narrows_to_one_experiment_and_its_days(planted) -> None:
    from datetime import date

    from errors import InvalidInputError

    whole = usability_report(planted, "scan-and-discover", UsabilityQuery(variant="treatment"))
    same = usability_report(
        planted,
        "scan-and-discover",
        UsabilityQuery(
            variant="treatment",
            experiment=EXPERIMENT,
            period=(date(2000, 1, 1), date(2100, 1, 1)),
        ),
    )
    assert same.sessions == whole.sessions > 0
    with pytest.raises(InvalidInputError, match="experiment 'other'"):
        usability_report(planted, "scan-and-discover", UsabilityQuery(experiment="other"))
    with pytest.raises(InvalidInputError, match="No customer session"):
        usability_report(
            planted,
            "scan-and-discover",
            UsabilityQuery(period=(date(2000, 1, 1), date(2000, 1, 2))),
        )


def test_decision_json_written_before_rework_screens_reads_back() -> None:
    old = {"recommendation": "extend", "reasons": ["r"], "extend_by": None}
    assert Decision.from_dict(old).rework_screens == ()


def test_scorecard_links_to_the_history(planted, tmp_path, monkeypatch) -> None:

    from reports.htmlreport import write_report

    html = write_report(planted, EXPERIMENT, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<code>storelab report history scan-and-discover</code>" in html
    from tests.test_reports_app import dashboard_page

    at = dashboard_page(planted, monkeypatch, "experiment", timeout=120)
    assert not at.exception, at.exception
    links = [e.proto for e in at.get("page_link")]
    history = [p for p in links if "history" in p.page]
    assert history and "prototype=scan-and-discover" in history[0].query_string
    box = "\n".join(str(m.value) for m in at.markdown if "sl-decision" in str(m.value))
    assert re.findall(r'<li data-screen="([^"]+)"', box)[0] == "reserve"
