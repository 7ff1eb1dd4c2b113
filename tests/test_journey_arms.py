"""A journey keeps its experiment arm across devices (sticky bucketing).

With an experiment assigned per session, the phone's code carries its arm and the kiosk that
takes it (keypad or ``?journey=`` link) continues in it: the customer sees the same variant on
both devices, the kiosk's events carry it, and the analysis counts the journey once, in that
arm. A code whose arm left the experiment meanwhile starts the kiosk afresh, saying so.
"""

from __future__ import annotations

import textwrap

import pytest

from experiments.measures import catalogue_for
from experiments.metrics import per_session_values, session_counts
from experiments.spec import load_experiment
from feedback.ingest import ingest
from feedback.store import connect
from lab import Lab
from tests.fixtures import (
    ARMS_EXPERIMENT,
    arms_experiment_lab,
    handover_journeys,
    kiosk_takes,
    phone_code,
    spool_events,
)


@pytest.fixture
def arms_lab(lab: Lab, monkeypatch) -> Lab:
    return arms_experiment_lab(lab, monkeypatch)


def test_every_receiving_session_runs_in_its_sender_s_arm(arms_lab, monkeypatch) -> None:
    pairs = handover_journeys(arms_lab, monkeypatch, 8)
    assert {phone.ctx.variant for phone, _ in pairs} == {"control", "treatment"}
    events = spool_events(arms_lab)
    took = {}
    for phone, kiosk in pairs:
        # what the customer sees: the phone's prototype variant and version on the kiosk too
        assert (kiosk.ctx.view_variant, kiosk.ctx.version) == (
            phone.ctx.view_variant, phone.ctx.version)  # fmt: skip
        mine = [e for e in events if e["session_id"] == str(kiosk.session_id)]
        at = next(i for i, e in enumerate(mine) if e["props"].get("journey"))
        # the keypad's session began before the code (its own assignment until then); from
        # the event that took the journey on, every event carries the phone's arm
        assert {e["variant"] for e in mine[at:]} == {phone.ctx.variant}
        assert {e["experiment_id"] for e in mine} == {"arms"}
        took[kiosk.session_id] = mine[at]
    for event in took.values():  # the event that took the journey says it kept the arm
        assert event["props"]["journey_arm"] == "kept"
        if event["type"] == "session_start":  # the QR link: the whole session in the arm
            assert event["props"]["assignment"] == "journey"
    assert sorted(e["type"] for e in took.values()) == ["session_start"] * 4 + ["tap"] * 4


def test_the_analysis_counts_each_journey_once_in_its_arm(arms_lab, monkeypatch) -> None:
    pairs = handover_journeys(arms_lab, monkeypatch, 6)
    assert ingest(arms_lab).rejected == 0
    spec = load_experiment(arms_lab, "arms")
    with connect(arms_lab, read_only=True) as con:
        rows = per_session_values(con, spec)
        counts = session_counts(con, spec)
    units = {str(r[0]): r[1] for r in rows}
    # one unit per journey, named by the phone session (the randomised one), in its arm
    assert units == {str(phone.session_id): phone.ctx.variant for phone, _ in pairs}
    arms = [phone.ctx.variant for phone, _ in pairs]
    assert counts.sessions_by_variant == {v: arms.count(v) for v in set(arms)}
    # the task was handed over on the phone and reserved on the kiosk: a success per journey
    at = 3 + list(catalogue_for(spec).metrics).index("task_success_rate")
    assert [r[at] for r in rows] == [1.0] * len(pairs)


def test_a_code_whose_arm_left_the_experiment_starts_afresh(arms_lab, monkeypatch) -> None:
    phone, handoff = phone_code(arms_lab, monkeypatch)
    other = "treatment" if phone.ctx.variant == "control" else "control"
    # the phone's arm is renamed before the kiosk takes the code
    arms = {"control": "{version: 1}", "treatment": "{version: 1, variant: treatment}"}
    spec = textwrap.dedent(ARMS_EXPERIMENT).split("variants:")[0] + textwrap.dedent(f"""\
        variants:
          {other}: {arms[other]}
          renamed: {arms[phone.ctx.variant]}
        allocation: {{{other}: 0.5, renamed: 0.5}}
        start: 2026-01-01
        end: 2030-12-31
        primary_metric: task_success_rate
        """)
    (arms_lab.experiments_dir / "arms.yaml").write_text(spec, "utf-8")
    assert set(load_experiment(arms_lab, "arms").variants) == {other, "renamed"}
    kiosk = kiosk_takes(arms_lab, monkeypatch, handoff.code, by_link=False)
    assert kiosk.ctx.variant in {other, "renamed"}  # its own fresh assignment, no crash
    mine = [e for e in spool_events(arms_lab) if e["session_id"] == str(kiosk.session_id)]
    took = next(e for e in mine if e["props"].get("journey"))
    assert took["props"]["journey_arm"] == "gone"


def test_a_journey_recorded_before_sticky_arms_never_counts_in_two_arms(arms_lab) -> None:
    """Events written before the code carried the arm: the kiosk session in its own arm and no
    ``journey_arm``. A journey whose two sessions differ is dropped, the others count once."""
    from experiments.assignment import assign_variant
    from feedback.events import Event
    from feedback.sink import SpoolSink
    from sample_data.journeys import simulate_handover_journeys

    simulate_handover_journeys(arms_lab, "hello-kiosk", journeys=40, continue_share=1.0, seed=8)
    events = spool_events(arms_lab)
    for path in arms_lab.spool_dir.glob("*.jsonl*"):
        path.unlink()
    phones = {e["session_id"]: e["variant"] for e in events if e["device"] == "phone"}
    split = set()
    with SpoolSink(arms_lab.spool_dir) as sink:
        for e in events:
            if e["device"] == "kiosk":  # as before: assigned afresh, no journey_arm
                own = assign_variant("arms", e["session_id"], {"control": 0.5, "treatment": 0.5})
                e["variant"] = own
                e["props"].pop("journey_arm", None)
                if (journey := e["props"].get("journey")) and phones[journey] != own:
                    split.add(journey)
            sink.emit(Event.model_validate(e))
    assert 0 < len(split) < len(phones)
    assert ingest(arms_lab).rejected == 0
    with connect(arms_lab, read_only=True) as con:
        units = {
            str(r[0]): r[1] for r in per_session_values(con, load_experiment(arms_lab, "arms"))
        }
    assert units == {p: v for p, v in phones.items() if p not in split}
