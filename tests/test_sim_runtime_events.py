"""The simulator writes events the way the runtime does: the same event types, the same fields
and props on each, task ends with their path, and a give-up that does not end the session.

The runtime (``prototypes.runtime``, walked in AppTest) is the truth; the simulator
(``sample_data``) is checked against it on the same prototype, so an analysis that works on
one works on the other."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest

from sample_data.generate import generate_sample
from tests.fixtures import (
    answer_questions,
    app_test,
    arms_experiment_lab,
    click,
    handover_journeys,
    link_key,
    session,
    spool_events,
    walk_task,
)

FIELDS = ("screen", "element", "task", "question", "value", "text", "x", "y")
# Set only for team or preview sessions, or by the assignment; the simulator has neither.
CONTEXT_PROPS = {"team", "preview", "assignment"}


def _shapes(events: list[dict]) -> dict[str, tuple[set[str], set[str]]]:
    """Per event type: the fields ever set (not null) and the props keys ever written."""
    shapes: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for event in events:
        fields, props = shapes[event["type"]]
        fields.update(f for f in FIELDS if event.get(f) is not None)
        props.update(set(event.get("props") or {}) - CONTEXT_PROPS)
    return dict(shapes)


def _runtime_events(lab, monkeypatch) -> list[dict]:
    """Two kiosk sessions through the runtime: every outcome the simulator writes.

    One finishes task 1 on the expected path, misclicks and taps (the browser reports the
    positions) and gives up task 2, answers and comments; one times out (idle) inside task 1.
    """
    params = {"prototype": "scan-and-discover", "store": "S01", "device": "kiosk"}
    at = app_test(lab, monkeypatch, **params)
    click(at, "sl_consent_yes")
    walk_task(at)
    answer_questions(at)
    click(at, "sl_start_task")
    here, there = session(at).task.expected_path[:2]
    key = link_key(at, here, there)
    session(at).browser_taps([{"x": 0.5, "y": 0.8, "hit": True, "key": key, "screen": here}])
    click(at, key)
    session(at).browser_taps([{"x": 0.9, "y": 0.1, "hit": False, "key": None, "screen": there}])
    click(at, "sl_give_up")
    answer_questions(at, comment="Die Reservierung war umständlich.")
    assert session(at).phase == "thanks"
    at = app_test(lab, monkeypatch, **params)
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    session(at).time_out()
    at.run()
    return spool_events(lab)


@pytest.fixture
def both(lab, monkeypatch) -> tuple[list[dict], list[dict]]:
    """(simulator events, runtime events) of scan-and-discover in one lab."""
    generate_sample(lab, stores=12, sessions=400, seed=5, ingest=False)
    simulated = spool_events(lab)
    for path in lab.spool_dir.glob("*.jsonl*"):
        path.unlink()
    return simulated, _runtime_events(lab, monkeypatch)


def test_same_types_fields_and_props(both) -> None:
    simulated, runtime = both
    sim, run = _shapes(simulated), _shapes(runtime)
    assert set(sim) == set(run)
    for kind in sorted(run):
        assert sim[kind] == run[kind], kind


def test_task_ends_carry_the_path_walked(both) -> None:
    simulated, _ = both
    by_session: dict[str, list[dict]] = defaultdict(list)
    for event in simulated:
        by_session[event["session_id"]].append(event)
    ends = 0
    for events in by_session.values():
        events.sort(key=lambda e: e["ts"])
        walked: list[str] = []
        for event in events:
            if event["type"] == "task_start":
                walked = []
            elif event["type"] == "screen_view":
                walked.append(event["screen"])
            elif event["type"] in ("task_success", "task_fail", "task_abandon"):
                assert event["props"]["path"] == walked
                assert event["props"]["path"][:1] == event["props"]["expected_path"][:1]
                ends += 1
    assert ends > 300


def test_a_give_up_goes_on_and_only_an_idle_timeout_ends_a_task(both) -> None:
    simulated, _ = both
    by_session: dict[str, list[dict]] = defaultdict(list)
    for event in sorted(simulated, key=lambda e: e["ts"]):
        by_session[event["session_id"]].append(event)
    went_on = idle = 0
    for events in by_session.values():
        types = [e["type"] for e in events]
        for i, event in enumerate(events):
            if event["type"] != "task_abandon":
                continue
            if event["props"].get("reason") == "idle":
                # the runtime's idle timeout: the task ends, then the session
                assert types[i + 1 :] == ["session_end"]
                assert events[-1]["props"]["reason"] == "idle_timeout"
                idle += 1
            elif "task_start" in types[i + 1 :]:
                went_on += 1
    assert went_on > 5 and idle > 5


def test_event_ids_are_time_ordered_uuid7_as_the_runtime_makes_them(both) -> None:
    """Ingest's dedupe reads only stored ids within a file's id range: narrow for UUIDv7."""
    from datetime import datetime

    for events in both:
        for e in events[:200]:
            event_id = uuid.UUID(str(e["event_id"]))
            assert event_id.version == 7, e["type"]
            ms = int(datetime.fromisoformat(str(e["ts"])).timestamp() * 1000)
            assert abs((event_id.int >> 80) - ms) <= 1  # the id's time is the event's


# --- handover journeys: the receiving session in the sender's arm ------------------------------


def _receiving(events: list[dict]) -> list[tuple[dict, list[dict]]]:
    """Per receiving session: (the sending session's first event, its events from the one
    that took the journey on)."""
    by_session: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        by_session[event["session_id"]].append(event)
    out = []
    for mine in by_session.values():
        took = next((i for i, e in enumerate(mine) if e["props"].get("journey_arm")), None)
        if took is not None:
            out.append((by_session[mine[took]["props"]["journey"]][0], mine[took:]))
    return out


def test_journeys_keep_the_sender_s_arm_in_the_simulator_as_in_the_runtime(
    lab, monkeypatch
) -> None:
    from sample_data.journeys import simulate_handover_journeys

    arms_lab = arms_experiment_lab(lab, monkeypatch)
    handover_journeys(arms_lab, monkeypatch, 4)
    runtime = spool_events(arms_lab)
    for path in arms_lab.spool_dir.glob("*.jsonl*"):
        path.unlink()
    simulate_handover_journeys(arms_lab, "hello-kiosk", journeys=30, continue_share=1.0, seed=4)
    simulated = spool_events(arms_lab)
    shapes = {}
    for name, events in (("runtime", runtime), ("simulator", simulated)):
        received = _receiving(events)
        assert received, name
        for sent, mine in received:
            assert {e["variant"] for e in mine} == {sent["variant"]}, name
            assert {e["experiment_id"] for e in mine} == {sent["experiment_id"]} == {"arms"}
            assert mine[0]["props"]["journey_arm"] == "kept"
        # the event that took the journey: a QR link's session_start or the keypad's tap
        shapes[name] = {(m[0]["type"], *sorted(m[0]["props"])) for _, m in received}
        assert {kind for kind, *_ in shapes[name]} == {"session_start", "tap"}, name
    strip = {"persona", "assignment"}  # a persona only when one was drawn or linked
    assert {tuple(k for k in s if k not in strip) for s in shapes["simulator"]} == {
        tuple(k for k in s if k not in strip) for s in shapes["runtime"]}  # fmt: skip
