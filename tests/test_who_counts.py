"""Only customers count: preview and team sessions stay out of every metric and the SRM check.

The events are the runtime's own (AppTest with ``preview=1``, a gallery link, the team token),
ingested and analysed as a pilot's would be; the dashboard's overview shows them apart.
"""

from __future__ import annotations

import textwrap
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from experiments.analysis import analyze
from experiments.metrics import sufficient_statistics
from experiments.spec import load_experiment
from feedback.ingest import ingest
from feedback.sink import SpoolSink
from feedback.store import connect, summary
from lab import Lab
from tests.fixtures import (
    ROOT,
    app_test,
    click,
    new_test_experiment,
    session_events,
    spool_events,
    walk_task,
    write_prototype,
)

EXPERIMENT = """\
    id: mini-exp
    hypothesis: A hint on the shop screen raises task success.
    prototype: mini
    unit: {unit}
    variants:
      control: {{version: 1}}
      treatment: {{version: 1, variant: treatment}}
    allocation: {{control: 0.5, treatment: 0.5}}
    stores: {stores}
    start: 2020-01-01
    end: 2099-12-31
    primary_metric: task_success_rate
"""
STORES = {"session": "[]", "store": "{control: [S01], treatment: [S02]}"}


def play_one_task(lab: Lab, monkeypatch, store: str, **params: str) -> None:
    """One visit through the runtime: consent, the task walked to its goal."""
    at = app_test(lab, monkeypatch, prototype="mini", store=store, **params)
    click(at, "sl_consent_yes")
    walk_task(at)


def dashboard_metrics(lab: Lab) -> dict[str, str]:
    at = AppTest.from_file(str(ROOT / "reports" / "app.py"), default_timeout=60)
    at.query_params["token"] = lab.config.dashboard.token
    at.run()
    assert not at.exception, at.exception
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("unit", ["session", "store"])
def test_preview_and_team_sessions_never_count(lab: Lab, monkeypatch, unit: str) -> None:
    write_prototype(lab)
    spec = EXPERIMENT.format(unit=unit, stores=STORES[unit])
    (lab.experiments_dir / "mini-exp.yaml").write_text(textwrap.dedent(spec), encoding="utf-8")
    play_one_task(lab, monkeypatch, "S01")  # the one customer
    token = lab.config.dashboard.token
    play_one_task(lab, monkeypatch, "S02", preview="1", token=token)  # the team's preview
    play_one_task(lab, monkeypatch, "S02", team="1")  # a "try it" link from the gallery
    play_one_task(lab, monkeypatch, "S02", token=token)
    events = spool_events(lab)
    assert len({e["session_id"] for e in events}) == 4
    assert {e["experiment_id"] for e in events} == {"mini-exp"}  # all four are in the pilot

    assert ingest(lab).rejected == 0
    result = analyze(lab, "mini-exp")
    assert sum(result.srm.sessions.values()) == 1
    if unit == "store":  # the SRM check counts the stores that delivered data
        assert result.srm.counts == {"control": 1, "treatment": 0}
    else:
        assert sum(result.srm.counts.values()) == 1
    primary = result.primary  # task_success_rate
    assert sum(v.sessions for v in primary.variants) == 1
    assert [v.mean for v in primary.variants if v.sessions] == [1.0]

    counts = summary(lab)
    assert (counts["sessions"], counts["customer_sessions"], counts["team_sessions"]) == (4, 1, 3)
    shown = dashboard_metrics(lab)
    assert (shown["Customer sessions"], shown["Preview/team sessions"]) == ("1", "3")


def test_a_flag_on_any_event_marks_the_session_and_false_is_a_customer(lab: Lab) -> None:
    """Written by other tools than the runtime: the flag may sit on one event only, be false,
    or props may be missing; only ``true`` keeps a session out."""
    from prototypes.scaffold import new_prototype

    with SpoolSink(lab.spool_dir) as sink:
        for i, flag in enumerate(
            [None, None, {"preview": False}, {"team": False}, "all-preview", "start-team"]
        ):
            events = session_events(store_id="S01", variant="control", success=True)
            for j, event in enumerate(events):
                if flag == "all-preview":
                    event["props"] = {**event.get("props", {}), "preview": True}
                elif flag == "start-team" and j == 0:
                    event["props"] = {"team": True}
                elif isinstance(flag, dict):
                    event["props"] = {**event.get("props", {}), **flag}
                elif i == 0:
                    event.pop("props", None)
                sink.emit(event)
    ingest(lab)
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    new_test_experiment(lab, "scan-pos-v2", "scan-and-discover", "session", start=date(2026, 11, 2))
    with connect(lab) as con:
        data = sufficient_statistics(con, load_experiment(lab, "scan-pos-v2"))
    assert data.sessions_by_variant == {"control": 4}
    counts = summary(lab)
    assert (counts["customer_sessions"], counts["team_sessions"]) == (4, 2)
