"""Personas, context and device handover in the runtime (AppTest, no browser).

The phone-to-kiosk template: a phone session greets by persona and weather, walks to the
handover screen and shows a code; a kiosk session on the same lab enters it on the keypad (or
opens the ``?journey=CODE`` link) and finishes the task. The spool then holds both sessions
with one journey id, and wrong, used and expired codes say so in German or English.
"""

from __future__ import annotations

import json
import time

import pytest

from lab import Lab
from prototypes.handover import CODE_TTL_S, claim_code, handover_dir, issue_code
from prototypes.runtime.render import widget_key
from prototypes.scaffold import new_prototype
from tests.fixtures import app_test, click, keys, session, spool_events

PID = "hello-kiosk"


@pytest.fixture
def journey_lab(lab: Lab) -> Lab:
    new_prototype(lab, PID, "phone-to-kiosk")
    return lab


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _phone_to_pass(lab: Lab, monkeypatch, **params: str):
    at = app_test(lab, monkeypatch, prototype=PID, store="S01", device="phone", **params)
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    click(at, widget_key("hit", "home", "jacket"))
    click(at, widget_key("btn", "product", "to-kiosk"))
    assert session(at).screen == "pass"
    return at


def _type_code(at, code: str, element: str = "keypad") -> None:
    for digit in code:
        click(at, widget_key(f"kp{digit}", "kiosk-code", element))
    click(at, widget_key("kpok", "kiosk-code", element))


def test_persona_and_weather_change_what_the_phone_shows(journey_lab, monkeypatch) -> None:
    plain = app_test(journey_lab, monkeypatch, prototype=PID, store="S01")
    click(plain, "sl_consent_yes")
    click(plain, "sl_start_task")
    text = _markdown(plain)
    assert "Willkommen bei storelab" in text and "Anna" not in text and "Es regnet" not in text
    anna = app_test(journey_lab, monkeypatch, prototype=PID, store="S01", persona="anna",
                    weather="rain")  # fmt: skip
    click(anna, "sl_consent_yes")
    click(anna, "sl_start_task")
    text = _markdown(anna)
    assert "Hallo Anna!" in text and "Größe 116" in text and "Es regnet" in text
    assert "Willkommen bei storelab" not in text and "Läufe" not in text
    starts = [e for e in spool_events(journey_lab) if e["type"] == "session_start"]
    assert "persona" not in starts[0]["props"]
    assert starts[0]["props"]["context"] == {
        "weather": "sun", "time_of_day": "afternoon", "channel": "store"}  # fmt: skip
    assert starts[1]["props"]["persona"] == "anna"
    assert starts[1]["props"]["context"]["weather"] == "rain"


def test_a_link_with_an_unknown_persona_or_context_value_is_a_broken_link(
    journey_lab, monkeypatch
) -> None:
    for params in ({"persona": "carl"}, {"weather": "snow"}, {"mood": "happy"}):
        at = app_test(journey_lab, monkeypatch, prototype=PID, store="S01", **params)
        assert "sl_consent_yes" not in keys(at)
        assert 'data-sl-problem="link"' in _markdown(at)
    assert spool_events(journey_lab) == []


def test_phone_hands_over_and_kiosk_finishes_one_journey(journey_lab, monkeypatch) -> None:
    phone = _phone_to_pass(journey_lab, monkeypatch, persona="anna", weather="rain")
    handoff = session(phone).issued["code"]
    assert f'data-sl-code="{handoff.code}"' in _markdown(phone)
    assert "<svg" in _markdown(phone)  # the QR code
    assert session(phone).handed_over
    click(phone, "sl_handed")
    assert session(phone).phase == "thanks"

    kiosk = app_test(journey_lab, monkeypatch, prototype=PID, store="S01", device="kiosk")
    click(kiosk, "sl_consent_yes")
    assert session(kiosk).screen == "kiosk-code"
    _type_code(kiosk, handoff.code)
    s = session(kiosk)
    assert s.screen == "kiosk-sizes" and s.task_active and s.profile.persona == "anna"
    assert "Schön, dass Sie da sind, Anna." in _markdown(kiosk)
    click(kiosk, widget_key("btn", "kiosk-sizes", "reserve"))
    assert session(kiosk).awaiting_next

    events = spool_events(journey_lab)
    phone_id = str(session(phone).session_id)
    kiosk_events = [e for e in events if e["session_id"] != phone_id]
    abandon = next(e for e in events if e["type"] == "task_abandon")
    assert abandon["session_id"] == phone_id
    assert abandon["props"]["reason"] == "handover" and abandon["props"]["journey"] == phone_id
    entered = next(e for e in kiosk_events if e["type"] == "tap" and e["element"] == "keypad")
    assert entered["props"]["journey"] == phone_id and entered["props"]["handover"] == "in"
    assert entered["props"]["persona"] == "anna"
    start = next(e for e in kiosk_events if e["type"] == "task_start")
    assert start["task"] == "reserve-on-kiosk" and start["props"]["journey"] == phone_id
    assert {e["device"] for e in kiosk_events} == {"kiosk"}
    assert any(e["type"] == "task_success" for e in kiosk_events)
    # the code worked once: it is gone from the registry
    assert not (handover_dir(journey_lab) / f"{handoff.code}.json").exists()


def test_the_qr_link_continues_the_journey_on_the_kiosk(journey_lab, monkeypatch) -> None:
    phone = _phone_to_pass(journey_lab, monkeypatch, lang="en")
    handoff = session(phone).issued["code"]
    kiosk = app_test(journey_lab, monkeypatch, prototype=PID, store="S01", device="kiosk",
                     journey=handoff.code)  # fmt: skip
    click(kiosk, "sl_consent_yes")
    s = session(kiosk)
    assert s.screen == "kiosk-sizes" and s.task_active and s.locale == "en"
    start = [e for e in spool_events(journey_lab) if e["type"] == "session_start"][-1]
    assert start["props"]["journey"] == str(session(phone).session_id)


def test_wrong_used_and_expired_codes_say_why_without_a_traceback(journey_lab, monkeypatch) -> None:
    kiosk = app_test(journey_lab, monkeypatch, prototype=PID, store="S01", device="kiosk")
    click(kiosk, "sl_consent_yes")
    _type_code(kiosk, "123")
    assert 'data-sl-code-error="format"' in _markdown(kiosk)
    assert "Bitte geben Sie die 6 Ziffern ein" in _markdown(kiosk)
    _type_code(kiosk, "000000" if not (handover_dir(journey_lab) / "000000.json").exists()
               else "999999")  # fmt: skip
    assert "Dieser Code passt nicht" in _markdown(kiosk)
    old = issue_code(journey_lab, now=time.time() - CODE_TTL_S - 1, journey="j", prototype_id=PID,
                     store_id="S01", to="kiosk", target="kiosk-sizes")  # fmt: skip
    _type_code(kiosk, old.code)
    assert "Dieser Code ist abgelaufen" in _markdown(kiosk)
    assert session(kiosk).screen == "kiosk-code" and not session(kiosk).task_active
    for _ in range(3):
        _type_code(kiosk, "999998")
    assert 'data-sl-code-error="locked"' in _markdown(kiosk)
    assert widget_key("kpok", "kiosk-code", "keypad") not in keys(kiosk)
    # a QR link with a wrong code opens the keypad with the message (English link: English)
    link = app_test(journey_lab, monkeypatch, prototype=PID, store="S01", device="kiosk",
                    journey="424242", lang="en")  # fmt: skip
    click(link, "sl_consent_yes")
    assert session(link).screen == "kiosk-code"
    assert "That code does not match" in _markdown(link)


def test_codes_are_single_use_expire_and_stay_in_their_store(journey_lab) -> None:
    entry = issue_code(
        journey_lab, journey="j1", prototype_id=PID, store_id="S01", to="kiosk",
        target="kiosk-sizes", persona="anna", context={"weather": "rain"},
    )  # fmt: skip
    assert len(entry.code) == 6 and entry.code.isdigit()
    saved = handover_dir(journey_lab) / f"{entry.code}.json"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert json.loads(saved.read_text())["journey"] == "j1"
    with pytest.raises(Exception, match="does not match"):
        claim_code(journey_lab, entry.code, prototype_id=PID, store_id="S02", locale="en")
    # a wrong try in another store does not use up the customer's code in S01
    assert claim_code(journey_lab, entry.code, prototype_id=PID, store_id="S01").journey == "j1"
    entry = issue_code(journey_lab, journey="j2", prototype_id=PID, store_id="S01", to="kiosk",
                       target="kiosk-sizes")  # fmt: skip
    spaced = f"{entry.code[:3]} {entry.code[3:]}"
    assert claim_code(journey_lab, spaced, prototype_id=PID, store_id="S01").journey == "j2"
    with pytest.raises(Exception, match="passt nicht"):
        claim_code(journey_lab, entry.code, prototype_id=PID, store_id="S01")


def test_the_preview_switches_persona_and_context(journey_lab, monkeypatch) -> None:
    token = journey_lab.config.dashboard.token
    at = app_test(journey_lab, monkeypatch, prototype=PID, preview="1", token=token)
    persona = at.sidebar.selectbox(key="sl_pv_persona")
    assert persona.options == ["anonymous", "Anna (anna)", "Ben (ben)"]
    assert at.sidebar.selectbox(key="sl_pv_ctx_weather").options == ["sun", "rain"]
    persona.select("ben").run()
    at.sidebar.selectbox(key="sl_pv_ctx_weather").select("rain").run()
    s = session(at)
    assert s.profile.persona == "ben" and s.profile.context["weather"] == "rain"
    assert at.query_params["persona"] == "ben" and at.query_params["weather"] == "rain"
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    text = _markdown(at)
    assert "Hallo Ben!" in text and "Es regnet" in text and "Läufe" in text
    start = [e for e in spool_events(journey_lab) if e["type"] == "session_start"][-1]
    assert start["props"]["persona"] == "ben" and start["props"]["preview"] is True


def test_the_phone_shows_a_fresh_code_once_its_code_expired(journey_lab, monkeypatch) -> None:
    from dataclasses import replace

    phone = _phone_to_pass(journey_lab, monkeypatch)
    old = session(phone).issued["code"]
    session(phone).issued["code"] = replace(old, expires_at=time.time() - 1)
    phone.run()
    fresh = session(phone).issued["code"]
    assert fresh.code != old.code and fresh.journey == old.journey
    assert f'data-sl-code="{fresh.code}"' in _markdown(phone)
