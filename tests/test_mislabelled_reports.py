"""Sessions a store sent under another variant than its own: left out, and every report says so.

Issue 13, defect 7: with unit=store such sessions were counted silently. They are now left out
(``MetricData.mislabelled_sessions``) and a user sees which store sent how many, under which
label, in ``analyze --json``, ``experiment analyze``, ``report show``, the HTML report and
the dashboard's experiment page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from experiments.spec import load_experiment
from feedback.ingest import ingest
from feedback.sink import SpoolSink
from tests.fixtures import session_events
from tests.test_reports_app import all_text, app

runner = CliRunner()


def _mislabel(lab) -> tuple[str, str, str]:
    """Three sessions from a control store labelled with the treatment; (store, label, own)."""
    spec = load_experiment(lab, "scan-pos-v2")
    store = spec.stores[spec.baseline][-1]
    label = next(v for v in spec.variants if v != spec.baseline)
    with SpoolSink(lab.spool_dir) as sink:
        for k in range(3):
            start = datetime(2026, 11, 4, 10, k, tzinfo=UTC)
            for event in session_events(store_id=store, variant=label, success=True, start=start):
                sink.emit(event)
    ingest(lab)
    return store, label, spec.baseline


def test_every_report_names_the_store_that_sent_the_wrong_label(lab_with_events, tmp_path):
    from experiments.commands import app as experiment_app
    from reports.commands import app as report_app

    lab = lab_with_events
    store, label, _own = _mislabel(lab)
    root = str(lab.root)

    out = runner.invoke(experiment_app, ["analyze", "scan-pos-v2", "--lab", root, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["mislabelled_sessions"] == {store: {label: 3}}

    sentence = f"{store} sent 3 labelled “{label}”"
    out = runner.invoke(experiment_app, ["analyze", "scan-pos-v2", "--lab", root])
    assert out.exit_code == 0, out.output
    assert "3 sessions left out of every metric" in out.stdout and sentence in out.stdout

    out = runner.invoke(report_app, ["show", "scan-pos-v2", "--lab", root])
    assert out.exit_code == 0, out.output
    assert sentence in " ".join(out.stdout.split())  # rich may wrap the line

    out = runner.invoke(report_app, ["show", "scan-pos-v2", "--lab", root, "--json"])
    assert json.loads(out.stdout)["mislabelled_sessions"] == {store: {label: 3}}

    html = tmp_path / "r.html"
    out = runner.invoke(report_app, ["html", "scan-pos-v2", "--lab", root, "--out", str(html)])
    assert out.exit_code == 0, out.output
    assert sentence in html.read_text()

    at = app(lab.config.dashboard.token)
    at.switch_page("app_pages/experiment.py").run()
    assert not at.exception
    assert sentence in all_text(at)


def test_without_mislabelled_sessions_no_warning(lab_with_events):
    from reports.commands import app as report_app

    out = runner.invoke(report_app, ["show", "scan-pos-v2", "--lab", str(lab_with_events.root)])
    assert out.exit_code == 0, out.output
    assert "left out of every metric" not in out.stdout
