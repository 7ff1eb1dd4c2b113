"""Analyses of personas, context and journeys across devices, against what the simulator planted.

The simulator writes persona and context on ``session_start`` as the runtime does, so the
read-out's breakdowns count exactly the sessions of each persona and weather; and it writes
handover journeys as the runtime does, so the usability report counts a task started on the
phone and finished on the kiosk as one successful run whose path crosses both devices.
"""

from __future__ import annotations

import textwrap
from collections import Counter

import pytest

from experiments.profile_slices import recorded_dimensions
from experiments.readout import read_out
from experiments.spec import load_experiment
from feedback.ingest import ingest
from feedback.store import connect
from insights.usability import UsabilityQuery, usability_report
from lab import Lab
from prototypes.scaffold import new_prototype
from sample_data.journeys import simulate_handover_journeys
from sample_data.simulate import simulate_pilot
from tests.fixtures import spool_events

PID = "hello-kiosk"
EXPERIMENT = """\
    id: hello-pilot
    hypothesis: Continuing at the kiosk from the greeting raises task success.
    prototype: hello-kiosk
    unit: session
    variants:
      control: {version: 1}
      treatment: {version: 1, variant: treatment}
    allocation: {control: 0.5, treatment: 0.5}
    start: 2026-11-02
    end: 2026-11-29
    primary_metric: task_success_rate
"""


@pytest.fixture
def hello_lab(lab: Lab) -> Lab:
    new_prototype(lab, PID, "phone-to-kiosk")
    return lab


def test_breakdowns_count_the_simulated_sessions_of_each_persona_and_weather(hello_lab) -> None:
    lab = hello_lab
    (lab.experiments_dir / "hello-pilot.yaml").write_text(textwrap.dedent(EXPERIMENT), "utf-8")
    simulate_pilot(lab, load_experiment(lab, "hello-pilot"), sessions=600, seed=5)
    starts = [e for e in spool_events(lab) if e["type"] == "session_start"]
    personas = Counter(e["props"].get("persona", "anonymous") for e in starts)
    weather = Counter(e["props"]["context"]["weather"] for e in starts)
    assert set(personas) == {"anonymous", "anna", "ben"} and set(weather) == {"sun", "rain"}
    assert ingest(lab).rejected == 0

    result = read_out(lab, "hello-pilot")
    counted: dict[tuple[str, str], int] = {}
    for r in result.breakdowns.for_metric("task_success_rate"):
        counted[(r.dimension, r.segment)] = r.baseline_sessions + r.variant_sessions
    # every session counts (consent and the window as the simulator plants them): the segments
    # hold exactly the sessions that started under that persona or weather
    consented = {e["session_id"] for e in spool_events(lab) if e["type"] == "task_start"}
    per_persona = Counter(e["props"].get("persona", "anonymous") for e in starts
                          if e["session_id"] in consented)  # fmt: skip
    per_weather = Counter(e["props"]["context"]["weather"] for e in starts
                          if e["session_id"] in consented)  # fmt: skip
    assert {s: counted[("persona", s)] for s in per_persona} == dict(per_persona)
    assert {s: counted[("weather", s)] for s in per_weather} == dict(per_weather)
    # a context variable no session recorded is not a dimension at all, nor a grouping set
    assert not any(d == "mood" for d, _ in counted)
    with connect(lab, read_only=True) as con:
        dims = recorded_dimensions(con, load_experiment(lab, "hello-pilot"))
    assert dims == ("day", "device", "locale", "persona", "weather", "time_of_day", "channel")


def test_usability_follows_a_journey_from_the_phone_to_the_kiosk(hello_lab) -> None:
    lab = hello_lab
    truth = simulate_handover_journeys(lab, PID, journeys=40, continue_share=0.75, seed=2)
    assert 0 < truth.succeeded < truth.continued < truth.journeys
    assert ingest(lab).rejected == 0
    devices = {e["device"] for e in spool_events(lab)}
    assert devices == {"phone", "kiosk"}

    report = usability_report(lab, PID, UsabilityQuery())
    task = report.task(truth.task)
    assert report.sessions == truth.journeys  # one journey, however many devices
    assert task.runs == truth.journeys
    assert task.outcomes["success"].count == truth.succeeded
    # the journeys that stopped at the handover never ended: unfinished, not "gave up"
    gave_up = truth.continued - truth.succeeded
    assert task.outcomes["give_up"].count == gave_up
    assert task.outcomes["unfinished"].count == truth.journeys - truth.continued
    expected = ("home", "product", "pass", "kiosk-sizes", "reserved")
    assert task.paths.expected_path == expected
    assert task.paths.on_expected == truth.succeeded  # the path crosses both devices
    top = task.paths.top[0]
    assert tuple(top.path) == expected and top.n == truth.succeeded


def test_sample_journeys_command_writes_and_reports_the_truth(hello_lab) -> None:
    import json

    from typer.testing import CliRunner

    from prototypes.scaffold import new_prototype
    from tests.fixtures import sample_cli

    runner = CliRunner()
    args = ["sample", "journeys", PID, "--lab", str(hello_lab.root), "--journeys", "12", "--json"]
    result = runner.invoke(sample_cli(), args)
    assert result.exit_code == 0, result.output
    truth = json.loads(result.stdout)
    assert truth["journeys"] == 12 and truth["sessions"] == 12 + truth["continued"]
    starts = [e for e in spool_events(hello_lab) if e["type"] == "session_start"]
    assert len(starts) == truth["sessions"]
    new_prototype(hello_lab, "scan", "scan-and-discover")
    bad = runner.invoke(sample_cli(), ["sample", "journeys", "scan", "--lab", str(hello_lab.root)])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "no task whose expected_path crosses a handover" in bad.output


def test_the_usability_report_by_persona_counts_that_persona_s_journeys(hello_lab) -> None:
    lab = hello_lab
    truth = simulate_handover_journeys(lab, PID, journeys=30, continue_share=1.0,
                                       success_share=1.0, seed=4)  # fmt: skip
    assert ingest(lab).rejected == 0
    for persona, n in truth.by_persona.items():
        report = usability_report(lab, PID, UsabilityQuery(persona=persona))
        task = report.task(truth.task)
        assert report.sessions == task.runs == task.outcomes["success"].count == n
    with pytest.raises(Exception, match="persona 'carl'"):
        usability_report(lab, PID, UsabilityQuery(persona="carl"))


def test_a_kiosk_session_that_took_a_handover_counts_under_the_journey_s_persona(
    hello_lab,
) -> None:
    from experiments.metrics import SESSIONS
    from experiments.slice_statistics import statistics_with_slices

    lab = hello_lab
    (lab.experiments_dir / "hello-pilot.yaml").write_text(textwrap.dedent(EXPERIMENT), "utf-8")
    truth = simulate_handover_journeys(lab, PID, journeys=40, continue_share=1.0, seed=3)
    events = spool_events(lab)
    keypad = [e for e in events if e["type"] == "tap" and e["element"] == "keypad"]
    assert keypad and all("persona" not in e["props"] or e["props"]["persona"] for e in keypad)
    assert ingest(lab).rejected == 0
    with connect(lab, read_only=True) as con:
        _, slices = statistics_with_slices(con, load_experiment(lab, "hello-pilot"))
    counted = Counter()
    for (_variant, _store, persona), stats in slices.cells["persona"].items():
        counted[persona or "anonymous"] += stats[SESSIONS].n
    # every journey (the phone's session and the kiosk's, by QR link or keypad, in the phone's
    # arm) is one unit, under the persona the journey started with
    assert dict(counted) == truth.by_persona
    locales, arms = Counter(), Counter()
    for (variant, _store, locale), stats in slices.cells["locale"].items():
        locales[locale] += stats[SESSIONS].n
        arms[variant] += stats[SESSIONS].n
    assert None not in locales and sum(locales.values()) == truth.journeys
    assert dict(arms) == truth.by_variant and len(arms) == 2


def test_the_dashboard_usability_page_reads_one_persona(hello_lab, monkeypatch) -> None:
    """A prototype with personas gets a persona picker; picking one shows its journeys only."""

    from tests.test_reports_app import all_text, dashboard_page

    lab = hello_lab
    truth = simulate_handover_journeys(lab, PID, journeys=30, continue_share=1.0,
                                       success_share=1.0, seed=4)  # fmt: skip
    assert ingest(lab).rejected == 0
    at = dashboard_page(lab, monkeypatch, "usability")
    assert not at.exception, at.exception
    picker = at.selectbox(key="usab_persona")
    assert picker.options == ["(all)", "anna", "ben", "anonymous"]
    assert f"{truth.journeys:,} customer sessions" in all_text(at)
    persona, n = next((p, n) for p, n in truth.by_persona.items() if p != "anonymous")
    picker.set_value(persona).run()
    assert not at.exception, at.exception
    assert f"persona {persona} · {n:,} customer sessions" in all_text(at)
