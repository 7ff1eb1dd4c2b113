"""The prototype runtime without a browser: every template walked with AppTest, events checked.

``AppTest`` runs ``prototypes/runtime/app.py`` against a fresh lab; the walk clicks exactly the
buttons a customer would (consent, mission, the links of each task's ``expected_path``,
continue, one answer per question, a comment) and then reads the spool file the runtime wrote.
"""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from errors import InvalidInputError
from feedback.events import Event
from lab import Lab
from prototypes.library import load_prototype
from prototypes.runtime.render import widget_key
from prototypes.runtime.session import CustomerSession, resolve_run
from prototypes.scaffold import new_prototype
from prototypes.templates import list_templates
from tests.fixtures import (
    answer_questions,
    app_test,
    click,
    keys,
    session,
    spool_events,
    walk_task,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = [t["id"] for t in list_templates()]
# A template whose task moves to another device is walked with two sessions in test_journeys.
HANDOVER_TEMPLATES = ["phone-to-kiosk"]


def scaffold(lab: Lab, template: str, pid: str | None = None) -> str:
    pid = pid or template
    new_prototype(lab, pid, template)
    return pid


# --- every template, happy path ---------------------------------------------------------------


@pytest.mark.parametrize("template", [t for t in TEMPLATES if t not in HANDOVER_TEMPLATES])
def test_every_template_walks_its_happy_path(lab: Lab, monkeypatch, template: str) -> None:
    pid = scaffold(lab, template)
    at = app_test(lab, monkeypatch, prototype=pid, store="S01")
    assert "sl_consent_yes" in keys(at)
    click(at, "sl_consent_yes")
    view = session(at).view
    tasks_done = 0
    while session(at).phase in ("mission", "question"):
        if session(at).phase == "mission":
            walk_task(at)
            tasks_done += 1
        answer_questions(at)
    assert tasks_done == len(view.tasks) >= 1
    assert session(at).phase == "thanks"
    assert "sl_restart" in keys(at)

    events = spool_events(lab)
    for row in events:
        Event.model_validate(row)
    types = [e["type"] for e in events]
    assert types[:3] == ["session_start", "consent", "task_start"]
    assert events[1]["value"] == 1
    assert types[-1] == "session_end" and events[-1]["props"]["reason"] == "completed"
    assert types.count("task_success") == len(view.tasks)
    assert "misclick" not in types
    first = view.tasks[0]
    success = next(e for e in events if e["type"] == "task_success")
    assert success["task"] == first.id and success["screen"] in first.goal_screens
    assert success["props"]["path"] == first.expected_path
    seen = [e["screen"] for e in events if e["type"] == "screen_view"]
    assert seen[: len(first.expected_path)] == first.expected_path
    # one answer per scale question, ids exactly as the spec's Question.id
    own = {q.id for q in view.questions if q.custom is not None}  # the template's own words
    answers = [e for e in events if e["type"] == "answer" and e["question"] not in own]
    asked = [q for t in [*(t.id for t in view.tasks), None] for q in view.questions_after(t)]
    expected = [q for q in asked if q.scale is not None and q.custom is None]
    answered_own = {e["question"] for e in events if e["type"] in ("answer", "comment")} & own
    assert answered_own == own
    assert [(a["question"], a["task"]) for a in answers] == [(q.id, q.after_task) for q in expected]
    for a, q in zip(answers, expected, strict=True):
        assert a["value"] == q.scale[1]
    # the task's own questions come right after its success
    seq = next((a for a in answers if a["question"] == "seq"), None)
    if seq is not None:
        assert types.index("answer") > types.index("task_success")
    if any(q.id == "comment" for q in view.questions):
        comment = next(e for e in events if e["type"] == "comment")
        assert comment["text"] == "Gute Idee!" and comment["question"] == "comment"
    # every event carries the session's fields
    assert len({e["session_id"] for e in events}) == 1
    assert {e["prototype_id"] for e in events} == {pid}
    assert {e["store_id"] for e in events} == {"S01"}
    assert {e["variant"] for e in events} == {"control"}
    assert {e["experiment_id"] for e in events} == {None}
    taps = [e for e in events if e["type"] == "tap"]
    assert len(taps) >= len(first.expected_path) - 1
    assert all(t["element"] and t["screen"] for t in taps)
    assert not any((e.get("props") or {}).get("preview") for e in events)


# --- consent, give up, preview, language ------------------------------------------------------


def test_no_consent_records_nothing_but_start_consent_and_end(lab: Lab, monkeypatch) -> None:
    pid = scaffold(lab, "scan-and-discover")
    at = app_test(lab, monkeypatch, prototype=pid, store="S01")
    click(at, "sl_consent_no")
    assert session(at).phase == "declined"
    click(at, "sl_browse")  # look around anyway
    click(at, widget_key("scanbtn", "scan", "scanner"))
    assert session(at).screen == "product"
    events = spool_events(lab)
    assert [e["type"] for e in events] == ["session_start", "consent", "session_end"]
    assert events[1]["value"] == 0
    assert events[2]["props"]["reason"] == "abandoned"


def test_give_up_records_task_abandon_then_asks_seq(lab: Lab, monkeypatch) -> None:
    pid = scaffold(lab, "scan-and-discover")
    at = app_test(lab, monkeypatch, prototype=pid, store="S01", device="kiosk")
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    click(at, "sl_give_up")
    assert session(at).phase == "question"
    assert session(at).question.id == "seq"
    types = [e["type"] for e in spool_events(lab)]
    assert types[-1] == "task_abandon"
    assert {e["device"] for e in spool_events(lab)} == {"kiosk"}


def test_preview_marks_events_and_shows_the_panel(lab: Lab, monkeypatch) -> None:
    pid = scaffold(lab, "scan-and-discover")
    at = app_test(lab, monkeypatch, prototype=pid, preview="1", token=lab.config.dashboard.token)
    assert "sl_pv_restart" in keys(at)
    assert at.sidebar.selectbox(key="sl_pv_variant").options == ["control", "treatment"]
    click(at, "sl_consent_yes")
    events = spool_events(lab)
    assert events and all(e["props"]["preview"] is True for e in events)
    # switching the variant starts a new session on it
    at.sidebar.selectbox(key="sl_pv_variant").select("treatment").run()
    assert session(at).ctx.view_variant == "treatment"
    assert session(at).phase == "welcome"


def test_language_toggle_and_lang_parameter(lab: Lab, monkeypatch) -> None:
    pid = scaffold(lab, "scan-and-discover")
    at = app_test(lab, monkeypatch, prototype=pid, store="S01", lang="en")
    assert session(at).locale == "en"
    assert any("Let's start" in b.label for b in at.button)
    click(at, "sl_lang_de")
    assert session(at).locale == "de"
    assert any("Los geht's" in b.label for b in at.button)


# --- variants and experiments ----------------------------------------------------------------


def write_experiment(lab: Lab, text: str) -> None:
    (lab.experiments_dir / "scan-exp.yaml").write_text(textwrap.dedent(text), encoding="utf-8")


STORE_EXP = """\
    id: scan-exp
    hypothesis: Sizes nearby on the product screen raise task success.
    prototype: scan-and-discover
    unit: store
    variants:
      control: {version: 1}
      treatment: {version: 1, variant: treatment}
    allocation: {control: 0.5, treatment: 0.5}
    stores:
      control: [S01, S03]
      treatment: [S02, S04]
    start: 2020-01-01
    end: 2099-12-31
    primary_metric: task_success_rate
"""


def test_auto_variant_follows_a_store_experiment(lab: Lab, monkeypatch) -> None:
    pid = scaffold(lab, "scan-and-discover")
    write_experiment(lab, STORE_EXP)
    at = app_test(lab, monkeypatch, prototype=pid, store="S02")
    ctx = session(at).ctx
    assert (ctx.variant, ctx.view_variant, ctx.experiment_id, ctx.assignment) == (
        "treatment",
        "treatment",
        "scan-exp",
        "store",
    )
    product = session(at).view.screens["product"]
    assert "nearby-sizes" in [e.id for e in product.elements]
    click(at, "sl_consent_yes")
    events = spool_events(lab)
    assert {e["experiment_id"] for e in events} == {"scan-exp"}
    assert {e["variant"] for e in events} == {"treatment"}
    assert events[0]["props"]["assignment"] == "store"
    # a store outside the experiment runs the base variant, without experiment id
    proto = load_prototype(lab.prototypes_dir / pid)
    other = resolve_run(lab, proto, store_id="S05", device="phone", session_id=uuid.uuid4())
    assert (other.variant, other.experiment_id) == ("control", None)


def test_auto_variant_hashes_the_session_for_a_session_experiment(lab: Lab) -> None:
    from experiments.assignment import assign_variant

    pid = scaffold(lab, "scan-and-discover")
    write_experiment(
        lab,
        STORE_EXP.replace("unit: store", "unit: session").replace(
            "stores:\n      control: [S01, S03]\n      treatment: [S02, S04]", "stores: []"
        ),
    )
    proto = load_prototype(lab.prototypes_dir / pid)
    seen = set()
    for _ in range(40):
        sid = uuid.uuid4()
        ctx = resolve_run(lab, proto, store_id="S01", device="phone", session_id=sid)
        assert ctx.variant == assign_variant("scan-exp", sid, {"control": 0.5, "treatment": 0.5})
        assert ctx.view_variant == ctx.variant and ctx.assignment == "session"
        seen.add(ctx.variant)
    assert seen == {"control", "treatment"}
    forced = resolve_run(
        lab, proto, store_id="S01", device="phone", session_id=uuid.uuid4(), variant="treatment"
    )
    assert (forced.variant, forced.assignment) == ("treatment", "forced")


def test_unknown_variant_or_version_is_a_clear_error(lab: Lab) -> None:
    pid = scaffold(lab, "scan-and-discover")
    proto = load_prototype(lab.prototypes_dir / pid)
    with pytest.raises(InvalidInputError, match="no variant 'blue'"):
        resolve_run(
            lab, proto, store_id="S01", device="phone", session_id=uuid.uuid4(), variant="blue"
        )
    with pytest.raises(InvalidInputError, match="no version 7"):
        resolve_run(lab, proto, store_id="S01", device="phone", session_id=uuid.uuid4(), version=7)


def test_experiment_for_prefers_the_running_one_and_skips_broken_files(lab: Lab) -> None:
    import datetime as dt

    from experiments.assignment import arm_for, experiment_for, experiments_on

    pid = scaffold(lab, "scan-and-discover")
    assert experiment_for(lab, pid) is None
    write_experiment(lab, STORE_EXP)
    old = STORE_EXP.replace("id: scan-exp", "id: old-exp").replace(
        "start: 2020-01-01\n    end: 2099-12-31", "start: 2020-01-01\n    end: 2020-02-01"
    )
    (lab.experiments_dir / "old-exp.yaml").write_text(textwrap.dedent(old), encoding="utf-8")
    (lab.experiments_dir / "broken.yaml").write_text("id: [", encoding="utf-8")
    assert [e.id for e in experiments_on(lab, pid)] == ["old-exp", "scan-exp"]
    assert experiment_for(lab, pid).id == "scan-exp"
    # nothing running that day: the latest start wins (ties by id)
    assert experiment_for(lab, pid, today=dt.date(2019, 1, 1)).id == "scan-exp"
    sid = uuid.uuid4()
    arm = arm_for(lab, pid, "S02", sid)
    assert (arm.experiment.id, arm.name, arm.assignment) == ("scan-exp", "treatment", "store")
    assert arm_for(lab, pid, "S05", sid) is None  # not in the store experiment
    assert arm_for(lab, pid, "S05", sid, "control").assignment == "forced"
    assert arm_for(lab, pid, "S01", sid, "blue") is None


# --- the session state machine and browser taps -----------------------------------------------


def make_session(lab: Lab, device: str = "phone") -> CustomerSession:
    pid = scaffold(lab, "scan-and-discover")
    proto = load_prototype(lab.prototypes_dir / pid)
    ctx = resolve_run(lab, proto, store_id="S01", device=device, session_id=uuid.uuid4())
    return CustomerSession(ctx=ctx, view=proto.resolve(), locale="de")


def test_browser_taps_become_misclicks_and_tap_positions(lab: Lab) -> None:
    s = make_session(lab)
    written: list[Event] = []
    s.start(True)
    s.start_task()
    key = widget_key("scanbtn", "scan", "scanner")
    s.key_elements[key] = "scanner"
    s.browser_taps(
        [
            {"seq": 1, "x": 0.2, "y": 0.3, "hit": False, "key": None, "screen": "scan"},
            {"seq": 2, "x": 0.5, "y": 0.8, "hit": True, "key": key, "screen": "scan"},
            {
                "seq": 3,
                "x": 0.5,
                "y": 0.5,
                "hit": False,
                "key": None,
                "screen": None,
            },  # not a screen
        ]
    )
    s.navigate("scanner", "product", key=key)
    s.flush(written.append)
    by_type = {e.type: e for e in written}
    assert (by_type["misclick"].x, by_type["misclick"].y, by_type["misclick"].screen) == (
        0.2,
        0.3,
        "scan",
    )
    tap = by_type["tap"]
    assert (tap.element, tap.screen, tap.x, tap.y) == ("scanner", "scan", 0.5, 0.8)
    assert [e.type for e in written].count("misclick") == 1
    assert written[-1].type == "screen_view" and written[-1].screen == "product"


def test_idle_timeout_ends_once_and_only_kiosks_reset_after_thanks(lab: Lab) -> None:
    s = make_session(lab, device="kiosk")
    assert s.idle_timeout_s() is None  # the welcome screen waits forever
    s.start(True)
    assert s.idle_timeout_s() == 90  # the lab's [kiosk] idle_timeout_s
    s.end("idle_timeout")
    s.end("completed")
    out: list[Event] = []
    s.flush(out.append)
    ends = [e for e in out if e.type == "session_end"]
    assert len(ends) == 1 and ends[0].props["reason"] == "idle_timeout"
    s.phase = "thanks"
    assert s.idle_timeout_s() == 20


def test_time_limit_fails_the_task(lab: Lab) -> None:
    s = make_session(lab)
    s.start(True)
    s.start_task()
    s.task_started_at -= 10_000  # fake the clock; tasks are frozen, so set the limit directly
    object.__setattr__(s.view.tasks[0], "time_limit_s", 60)
    assert s.check_time_limit()
    out: list[Event] = []
    s.flush(out.append)
    assert out[-1].type == "task_fail" and out[-1].value > 60
    assert s.phase == "question"
