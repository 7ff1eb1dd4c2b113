"""A journey across two devices in a real browser: a phone page and a kiosk page on one server.

The phone (persona Anna, rain) starts the task, hands it over and shows a six-digit code with a
QR code; the kiosk page types the code on its keypad and finishes the task. After ingest, both
sessions carry one journey id and the usability report counts one successful run across both
devices. Screenshots (``STORELAB_SCREENSHOTS``): the greeting under two personas, the phone's
code, the kiosk's keypad.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.test_prototype_runtime import PHONE, settle, spool, tap, wait_for, wait_for_events
from tests.fixtures import ARMS_EXPERIMENT, SCREENSHOTS, new_lab, served_prototype

pytestmark = pytest.mark.e2e

PID = "hello-kiosk"
KIOSK = {"width": 1280, "height": 1000}


@pytest.fixture(scope="module")
def journey_lab(tmp_path_factory: pytest.TempPathFactory):
    from prototypes.scaffold import new_prototype

    lab = new_lab(tmp_path_factory.mktemp("journey") / "lab")
    new_prototype(lab, PID, "phone-to-kiosk")
    # an experiment assigned per session: the kiosk must continue in the phone's arm
    (lab.experiments_dir / "arms.yaml").write_text(textwrap.dedent(ARMS_EXPERIMENT), "utf-8")
    return lab


@pytest.fixture(scope="module")
def journey_server(journey_lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_prototype(journey_lab, PID, tmp_path_factory, "journey") as url:
        yield url


def _phone_home(browser, url: str, query: str):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{url}/?prototype={PID}&store=S01&device=phone&{query}")
    tap(page, "sl_consent_yes")
    tap(page, "sl_start_task")
    wait_for(page, ".st-key-el_hit__home__jacket")
    settle(page)
    return page


def test_a_greeting_for_each_persona(journey_server, chromium_browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    anna = _phone_home(chromium_browser, journey_server, "persona=anna&weather=rain")
    assert anna.get_by_text("Hallo Anna!").count() == 1
    assert anna.get_by_text("Es regnet").count() == 1
    anna.screenshot(path=str(SCREENSHOTS / "phone-greeting-anna.png"))
    ben = _phone_home(chromium_browser, journey_server,
                      "persona=ben&time_of_day=evening&channel=street&lang=en")  # fmt: skip
    assert ben.get_by_text("Hello Ben!").count() == 1
    assert ben.get_by_text("Open until 8 pm.").count() == 1
    assert ben.get_by_text("It is raining").count() == 0
    ben.screenshot(path=str(SCREENSHOTS / "phone-greeting-ben.png"))
    anna.close()
    ben.close()


def test_phone_hands_over_and_the_kiosk_finishes_one_journey(
    journey_server, journey_lab, chromium_browser
) -> None:
    from feedback.events import session_journeys_sql
    from feedback.ingest import ingest
    from feedback.store import connect
    from insights.usability import UsabilityQuery, usability_report

    phone = _phone_home(chromium_browser, journey_server, "persona=anna&weather=rain")
    tap(phone, "el_hit__home__jacket")
    tap(phone, "el_btn__product__to-kiosk")
    wait_for(phone, "[data-sl-code]")
    settle(phone)
    code = phone.locator("[data-sl-code]").first.get_attribute("data-sl-code")
    assert code and len(code) == 6 and code.isdigit()
    assert phone.locator("[data-sl-handover] svg").count() == 1  # the QR code
    phone.screenshot(path=str(SCREENSHOTS / "phone-handover-code.png"), full_page=True)
    shown = phone.locator("[data-sl-screen='pass']").first.get_attribute("data-sl-variant")

    kiosk = chromium_browser.new_page(viewport=KIOSK)
    kiosk.goto(f"{journey_server}/?prototype={PID}&store=S01&device=kiosk")
    tap(kiosk, "sl_consent_yes")
    wait_for(kiosk, ".st-key-el_kpok__kiosk-code__keypad")
    for digit in "999999" if code != "999999" else "999998":  # a wrong code first
        tap(kiosk, f"el_kp{digit}__kiosk-code__keypad")
    tap(kiosk, "el_kpok__kiosk-code__keypad")
    wait_for(kiosk, "[data-sl-code-error='unknown']")
    assert kiosk.get_by_text("Dieser Code passt nicht").count() == 1
    for digit in code[:4]:
        tap(kiosk, f"el_kp{digit}__kiosk-code__keypad")
    wait_for(kiosk, f"[data-sl-typed='{code[:4]}']")
    kiosk.screenshot(path=str(SCREENSHOTS / "kiosk-handover-keypad.png"), full_page=True)
    for digit in code[4:]:
        tap(kiosk, f"el_kp{digit}__kiosk-code__keypad")
    tap(kiosk, "el_kpok__kiosk-code__keypad")
    wait_for(kiosk, ".st-key-el_btn__kiosk-sizes__reserve")
    assert kiosk.get_by_text("Schön, dass Sie da sind, Anna.").count() == 1
    # the kiosk shows the variant the phone showed (the journey keeps its experiment arm)
    sizes = kiosk.locator("[data-sl-screen='kiosk-sizes']").first
    assert shown in ("control", "treatment")
    assert sizes.get_attribute("data-sl-variant") == shown
    tap(kiosk, "el_btn__kiosk-sizes__reserve")
    wait_for(kiosk, ".st-key-sl_next")
    tap(phone, "sl_handed")
    rows = wait_for_events(
        journey_lab, lambda rs: sum(r["type"] == "task_success" for r in rs) >= 1
    )
    phone.close()
    kiosk.close()

    kiosk_rows = [r for r in rows if r["device"] == "kiosk"]
    phone_rows = [r for r in rows if r["device"] == "phone" and (r["props"] or {}).get("persona")]
    assert kiosk_rows and phone_rows
    assert ingest(journey_lab).rejected == 0
    with connect(journey_lab, read_only=True) as con:
        journeys = dict(con.execute(session_journeys_sql()).fetchall())
    kiosk_id = kiosk_rows[0]["session_id"]
    handed = next(r for r in rows if r["type"] == "task_abandon")
    assert (handed["props"]["reason"], handed["device"]) == ("handover", "phone")
    assert str(journeys[uuid.UUID(kiosk_id)]) == handed["session_id"]
    # from the keypad tap that took the code on, the kiosk's events carry the phone's arm
    took = next(i for i, r in enumerate(kiosk_rows) if (r["props"] or {}).get("journey_arm"))
    assert kiosk_rows[took]["props"]["journey_arm"] == "kept"
    assert {r["variant"] for r in kiosk_rows[took:]} == {handed["variant"]} == {shown}
    report = usability_report(journey_lab, PID, UsabilityQuery())
    task = report.task("reserve-on-kiosk")
    assert task.outcomes["success"].count == 1
    # the journey's path crosses both devices and is the expected one (the greeting test's
    # phone sessions stopped at home)
    assert task.paths.expected_path == ("home", "product", "pass", "kiosk-sizes", "reserved")
    assert task.paths.on_expected == 1
    assert len(spool(journey_lab)) >= len(rows)
