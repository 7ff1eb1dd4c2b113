"""The kiosk's life cycle: how long it waits for a tap, what a reset writes, who is the team.

The runtime runs in AppTest; the browser's idle timer is played by ``browser_reports_idle``
(the trigger ``taps.JS`` sends), and what the browser is told (``idle_ms``) is read from the
capture component's data.
"""

from __future__ import annotations

import json

import pytest

from errors import SpecError
from lab import Lab
from prototypes.library import load_prototype
from prototypes.validate import validate_file
from tests.fixtures import (
    MINI_PROTOTYPE,
    app_test,
    click,
    session,
    spool_events,
    write_prototype,
)


def tap_capture_data(at) -> dict:
    """What the runtime hands the browser's tap and idle capture (``idle_ms``, ``epoch``, …)."""
    [component] = at.get("bidi_component")
    return json.loads(component.proto.json)


def browser_reports_idle(at):
    """Run the page as after the browser's idle timer fired (what ``taps.JS`` sends)."""
    from streamlit.components.v2.bidi_component.main import _make_trigger_id

    [component] = at.get("bidi_component")
    states = at._tree.get_widget_states()
    trigger = states.widgets.add()
    trigger.id = _make_trigger_id(component.proto.id, "events")
    trigger.json_trigger_value = json.dumps([{"event": "idle", "value": "1"}])
    at._run(states)
    assert not at.exception, at.exception
    return at


# --- how long a kiosk waits -------------------------------------------------------------------


def set_lab_idle(lab: Lab, seconds: int) -> None:
    text = lab.config_path.read_text(encoding="utf-8")
    assert "idle_timeout_s = 90" in text
    lab.config_path.write_text(text.replace("idle_timeout_s = 90", f"idle_timeout_s = {seconds}"))


def with_settings(text: str) -> str:
    """``MINI_PROTOTYPE`` with top-level device settings (before ``screens:``)."""
    return MINI_PROTOTYPE.replace("screens:\n", text + "screens:\n", 1)


def idle_ms_in_a_task(lab: Lab, monkeypatch, device: str) -> int:
    at = app_test(lab, monkeypatch, prototype="mini", store="S01", device=device)
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    return tap_capture_data(at)["idle_ms"]


def test_the_labs_kiosk_idle_timeout_reaches_the_browser(lab: Lab, monkeypatch) -> None:
    write_prototype(lab)
    set_lab_idle(lab, 45)
    assert idle_ms_in_a_task(lab, monkeypatch, "kiosk") == 45_000
    # phones keep their own five minutes: the lab setting is the kiosk's
    assert idle_ms_in_a_task(lab, monkeypatch, "phone") == 300_000


def test_the_prototypes_idle_timeout_wins_over_the_labs(lab: Lab, monkeypatch) -> None:
    write_prototype(lab, text=with_settings("kiosk: {idle_timeout_s: 60}\n"))
    set_lab_idle(lab, 45)
    assert idle_ms_in_a_task(lab, monkeypatch, "kiosk") == 60_000
    assert idle_ms_in_a_task(lab, monkeypatch, "phone") == 300_000
    write_prototype(lab, text=with_settings("phone: {idle_timeout_s: 120}\n"))
    assert idle_ms_in_a_task(lab, monkeypatch, "phone") == 120_000
    assert idle_ms_in_a_task(lab, monkeypatch, "kiosk") == 45_000


def test_the_welcome_screen_waits_and_the_thanks_screen_resets_after_20s(
    lab: Lab, monkeypatch
) -> None:
    write_prototype(lab, text=with_settings("kiosk: {idle_timeout_s: 60}\n"))
    at = app_test(lab, monkeypatch, prototype="mini", store="S01", device="kiosk")
    assert tap_capture_data(at)["idle_ms"] == 0  # the welcome screen waits for the next customer
    click(at, "sl_consent_no")
    assert tap_capture_data(at)["idle_ms"] == 20_000


def test_a_prototype_idle_timeout_is_read_from_the_spec(tmp_path) -> None:
    path = tmp_path / "prototype.yaml"
    path.write_text(with_settings("kiosk: {idle_timeout_s: 60}\nphone: {idle_timeout_s: 600}\n"))
    proto = load_prototype(path)
    assert (proto.kiosk.idle_timeout_s, proto.phone.idle_timeout_s) == (60, 600)
    path.write_text(MINI_PROTOTYPE)
    assert (load_prototype(path).kiosk, load_prototype(path).phone) == (None, None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5", "idle_timeout_s must be between 10 and 3600 seconds, not 5"),
        ("7200", "idle_timeout_s must be between 10 and 3600 seconds, not 7200"),
        ("soon", "valid integer"),
        ("1.5", "valid integer"),
    ],
)
def test_a_bad_idle_timeout_is_one_clear_problem_at_its_line(tmp_path, value, message) -> None:
    text = with_settings(f"kiosk:\n  idle_timeout_s: {value}\n")
    path = tmp_path / "prototype.yaml"
    path.write_text(text, encoding="utf-8")
    [problem] = validate_file(path)
    assert message in problem.message
    assert problem.path == "kiosk.idle_timeout_s"
    assert problem.line == text.splitlines().index(f"  idle_timeout_s: {value}") + 1
    with pytest.raises(SpecError):
        load_prototype(path)


def test_an_unknown_key_in_the_kiosk_settings_is_named(tmp_path) -> None:
    path = tmp_path / "prototype.yaml"
    path.write_text(with_settings("kiosk: {idle_timeout: 60}\n"), encoding="utf-8")
    [problem] = validate_file(path)
    assert "unknown key 'idle_timeout'" in problem.message
    assert "idle_timeout_s" in problem.message  # the did-you-mean


# --- what a reset writes ---------------------------------------------------------------------


def test_idle_reset_abandons_the_task_then_ends_the_session_once(lab: Lab, monkeypatch) -> None:
    write_prototype(lab)
    at = app_test(lab, monkeypatch, prototype="mini", store="S01", device="kiosk")
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    click(at, "el_btn__start__go")  # the customer is on the shop screen, then walks away
    first = session(at).session_id
    browser_reports_idle(at)

    events = spool_events(lab)
    types = [e["type"] for e in events]
    assert types[-2:] == ["task_abandon", "session_end"]
    assert types.count("task_abandon") == 1 and types.count("session_end") == 1
    abandon, end = events[-2:]
    assert abandon["task"] == "buy" and abandon["props"]["reason"] == "idle"
    assert abandon["props"]["path"] == ["start", "shop"]
    assert abandon["screen"] == "shop" and abandon["value"] >= 0
    assert end["props"]["reason"] == "idle_timeout"
    assert {e["session_id"] for e in events} == {str(first)}
    # the welcome screen is back, for a new customer; the next idle report changes nothing
    assert session(at).phase == "welcome" and session(at).session_id != first
    assert "sl_consent_yes" in [b.key for b in at.button]
    browser_reports_idle(at)
    assert spool_events(lab) == events


def test_idle_reset_between_tasks_ends_the_session_without_an_abandon(
    lab: Lab, monkeypatch
) -> None:
    write_prototype(lab)
    at = app_test(lab, monkeypatch, prototype="mini", store="S01", device="kiosk")
    click(at, "sl_consent_yes")
    browser_reports_idle(at)  # the mission card: no task is running yet
    events = spool_events(lab)
    assert [e["type"] for e in events] == ["session_start", "consent", "session_end"]
    assert events[-1]["props"]["reason"] == "idle_timeout"


def test_idle_reset_after_the_customer_said_no_writes_nothing_more(lab: Lab, monkeypatch) -> None:
    write_prototype(lab)
    at = app_test(lab, monkeypatch, prototype="mini", store="S01", device="kiosk")
    click(at, "sl_consent_no")
    before = spool_events(lab)
    browser_reports_idle(at)
    assert spool_events(lab) == before
    assert session(at).phase == "welcome"


# --- the team ----------------------------------------------------------------------------------


def flags(lab: Lab) -> list[tuple[bool, bool]]:
    """(preview, team) of every event written."""
    return [
        (bool(e["props"].get("preview")), bool(e["props"].get("team"))) for e in spool_events(lab)
    ]


def test_gallery_links_open_team_sessions(lab: Lab, monkeypatch) -> None:
    write_prototype(lab)
    write_prototype(lab, "other")
    # several prototypes and none chosen: the team's gallery (it needs the token)
    at = app_test(lab, monkeypatch, token=lab.config.dashboard.token)
    page = " ".join(m.value for m in at.markdown)
    assert "play?prototype=mini&amp;store=S01&amp;device=kiosk&amp;team=1" in page
    assert "play?prototype=mini&amp;store=S01&amp;device=phone&amp;team=1" in page

    at = app_test(lab, monkeypatch, prototype="mini", team="1")
    click(at, "sl_consent_yes")
    assert flags(lab) and set(flags(lab)) == {(False, True)}


@pytest.mark.parametrize(
    ("token", "team"), [("lab", True), ("wrong-token-xxxxxxxxxxxx", False), (None, False)]
)
def test_the_team_token_marks_a_session(lab: Lab, monkeypatch, token, team) -> None:
    write_prototype(lab)
    params = {"prototype": "mini", "store": "S01"}
    if token is not None:
        params["token"] = lab.config.dashboard.token if token == "lab" else token
    at = app_test(lab, monkeypatch, **params)
    click(at, "sl_consent_yes")
    assert set(flags(lab)) == {(False, team)}


def test_a_preview_session_stays_marked_as_preview(lab: Lab, monkeypatch) -> None:
    write_prototype(lab)
    # the preview needs the lab's token, so a preview session is the team's as well
    at = app_test(lab, monkeypatch, prototype="mini", preview="1", token=lab.config.dashboard.token)
    click(at, "sl_consent_yes")
    assert set(flags(lab)) == {(True, True)}
