"""A prototype's own questions and goals in a real browser (phone): every question type
answered with the runtime's big controls, a screenshot of each (docs/screenshots/question-*.png
when ``STORELAB_SCREENSHOTS`` points there), and the events they wrote: the first click's
position and element, the five-second test's verdict, the goals on the events that reach them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.test_prototype_runtime import PHONE, settle, tap, wait_for, wait_for_events
from tests.fixtures import ASKS_PROTOTYPE, SCREENSHOTS, new_lab, served_prototype
from tests.fixtures import write_prototype as write_spec

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def asks_lab(tmp_path_factory):
    lab = new_lab(tmp_path_factory.mktemp("asks") / "lab", locale="de")
    write_spec(lab, "asks", ASKS_PROTOTYPE)
    return lab


@pytest.fixture(scope="module")
def asks_server(asks_lab, tmp_path_factory) -> Iterator[str]:
    with served_prototype(asks_lab, "asks", tmp_path_factory, "asks") as url:
        yield url


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"question-{name}.png"), full_page=True)


def test_every_question_type_answered_in_the_browser(asks_server, asks_lab, chromium_browser):
    from feedback.events import Event

    page = chromium_browser.new_page(viewport=PHONE)
    page.goto(f"{asks_server}/?prototype=asks&store=S01&device=phone&lang=de")
    tap(page, "sl_consent_yes")
    tap(page, "sl_start_task")
    tap(page, "el_btn__start__go")
    tap(page, "el_btn__shop__pay")  # the goals 'checkout' (a tap) and 'reserved' (a screen)
    tap(page, "sl_next")

    wait_for(page, ".st-key-sl_opt_yes")  # single choice, after the task
    settle(page)
    shot(page, "single-choice")
    tap(page, "sl_opt_yes")

    wait_for(page, ".st-key-sl_send_choices")  # multiple choice
    tap(page, "sl_opt_store")
    tap(page, "sl_opt_app")
    settle(page)
    shot(page, "multiple-choice")
    tap(page, "sl_send_choices")

    wait_for(page, ".st-key-sl_scale_5")  # rating 1-5 with anchors
    settle(page)
    shot(page, "rating")
    tap(page, "sl_scale_4")

    wait_for(page, ".st-key-sl_comment textarea")  # open text
    page.locator(".st-key-sl_comment textarea").fill("Mehr Farben bitte")
    settle(page)
    shot(page, "open-text")
    tap(page, "sl_send")

    wait_for(page, ".st-key-sl_pref_b")  # preference between two screens
    settle(page)
    shot(page, "preference")
    tap(page, "sl_pref_b")

    wait_for(page, ".st-key-sl_fs_start")  # five-second test: ready, shown, hidden, asked
    settle(page)
    shot(page, "five-second-ready")
    started = time.monotonic()
    tap(page, "sl_fs_start")
    wait_for(page, ".st-key-ask_fs_show")
    settle(page)
    shot(page, "five-second-shown")
    assert page.locator(".st-key-sl_recall").count() == 0, "asked only after the seconds"
    wait_for(page, ".st-key-sl_recall textarea")
    assert time.monotonic() - started >= 4.5, "the screen stays for its five seconds"
    assert page.locator(".st-key-ask_fs_show").count() == 0, "then it is hidden"
    page.locator(".st-key-sl_recall textarea").fill("Eine Regenjacke für 129 Euro")
    settle(page)
    shot(page, "five-second-asked")
    tap(page, "sl_send_recall")

    wait_for(page, ".st-key-ask_fc .st-key-el_btn__shop__pay button")  # first click
    settle(page)
    shot(page, "first-click")
    target = page.locator(".st-key-ask_fc .st-key-el_btn__shop__pay button").first
    target.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(200)
    box = target.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    wait_for(page, ".st-key-sl_restart")
    page.close()

    rows = wait_for_events(
        asks_lab, lambda r: any(e["type"] == "session_end" for e in r), timeout=20
    )
    for row in rows:
        Event.model_validate(row)
    answers = {}
    for e in rows:
        if e["type"] in ("answer", "comment"):
            answers.setdefault(e["question"], []).append(e)
    assert [a["element"] for a in answers["found"]] == ["yes"]
    assert sorted(a["element"] for a in answers["channels"]) == ["app", "store"]
    assert [a["value"] for a in answers["stars"]] == [4.0]
    assert [a["text"] for a in answers["wish"]] == ["Mehr Farben bitte"]
    assert [(a["element"], a["value"]) for a in answers["layout"]] == [("b", 2.0)]
    recall = answers["recall"][0]
    assert (recall["element"], recall["value"], recall["screen"]) == ("recalled", 1.0, "shop")
    first = answers["where"][0]
    assert (first["element"], first["value"], first["screen"]) == ("pay", 1.0, "shop")
    assert 0 < first["x"] < 1 and 0 < first["y"] < 1, "the first click has its position"
    goals = {tuple(e["props"]["goals"]) for e in rows if "goals" in (e["props"] or {})}
    assert goals == {("checkout",), ("reserved",)}
    taps_after = [e for e in rows if e["type"] in ("tap", "misclick") and e["ts"] > first["ts"]]
    assert taps_after == [], "the first-click screen does not navigate"


def test_a_first_click_on_empty_space_is_a_miss(asks_server, asks_lab, chromium_browser):
    page = chromium_browser.new_page(viewport=PHONE)
    page.goto(f"{asks_server}/?prototype=asks&store=S02&device=phone&lang=en")
    tap(page, "sl_consent_yes")
    tap(page, "sl_start_task")
    tap(page, "sl_give_up")
    while not page.locator(".st-key-ask_fc").first.is_visible():
        tap(page, "sl_skip")
    settle(page)
    hint = page.locator(".sl-question-text").first  # the question above: not on the screen
    box = hint.bounding_box()
    page.mouse.click(box["x"] + 5, box["y"] + box["height"] / 2)
    settle(page)
    assert page.locator(".st-key-ask_fc").first.is_visible(), "a tap off the screen is no answer"
    text = page.locator(".st-key-ask_fc .sl-text").first
    box = text.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)
    wait_for(page, ".st-key-sl_restart")
    page.close()
    rows = wait_for_events(
        asks_lab,
        lambda r: any(e["question"] == "where" and e["store_id"] == "S02" for e in r),
    )
    miss = next(e for e in rows if e["question"] == "where" and e["store_id"] == "S02")
    assert (miss["element"], miss["value"]) in ((None, 0.0), ("body", 0.0))
    assert miss["x"] is not None and miss["y"] is not None
