"""The new journey templates of issue 15 in a real browser, in a phone frame (390×844): each is
walked along its expected path to the screen that shows its new elements, tapped where those
elements take taps, and photographed (``docs/screenshots/journey-<template>.png`` when
``STORELAB_SCREENSHOTS`` points there, as ``make screenshots`` does)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_prototype_runtime import settle, spool, tap, wait_for_events
from tests.fixtures import SCREENSHOTS, new_lab, served_prototype

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# template -> (the taps from the first task's start to the screen to show, that screen)
JOURNEYS: dict[str, tuple[list[str], str]] = {
    "scan-and-go": (["el_btn__start__begin", "el_scanbtn__scan__scanner"], "cart"),
    "associate-tablet": (["el_scanbtn__lookup__card"], "profile"),
    "order-follow-up": (["el_hit__push__ready"], "tracking"),
    # Anna's first task ends in the store; the second goes from the poster to the reviews
    "poster-to-app": (
        [
            "el_hit__street__push",
            "el_hit__nearby__map-here",
            "sl_next",
            "sl_scale_7",
            "sl_start_task",
            "el_scanbtn__instore__scanner",
            "el_btn__product__to-reviews",
        ],
        "reviews",
    ),  # fmt: skip
    "personal-greeting": (["el_scanbtn__welcome__card"], "greeting"),
}


@pytest.fixture(scope="module")
def journey_lab(tmp_path_factory: pytest.TempPathFactory):
    from prototypes.scaffold import new_prototype

    lab = new_lab(tmp_path_factory.mktemp("journeys") / "lab")
    for template in JOURNEYS:
        new_prototype(lab, template, template)
    return lab


@pytest.fixture(scope="module")
def journey_server(journey_lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_prototype(journey_lab, "scan-and-go", tmp_path_factory, "journey") as url:
        yield url


def wait_screen(page, screen: str) -> None:
    """Until the runtime shows ``screen`` (its hidden marker is in the page)."""
    page.locator(f"[data-sl-screen='{screen}']").first.wait_for(state="attached", timeout=30_000)


def open_journey(browser, server: str, template: str):
    """A phone page on the template's first task, walked to the screen it is shown by."""
    taps, screen = JOURNEYS[template]
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{server}/?prototype={template}&store=S01&device=phone&lang=de")
    tap(page, "sl_consent_yes")
    tap(page, "sl_start_task")
    for key in taps:
        tap(page, key)
    wait_screen(page, screen)
    return page


def photograph(page, template: str) -> None:
    """The phone frame scrolled to the top of the screen, then the whole screen as well."""
    settle(page)
    page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollTo(0, 0)")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"journey-{template}.png"))


@pytest.mark.parametrize("template", list(JOURNEYS))
def test_journey_in_a_phone_frame(journey_server, journey_lab, chromium_browser, template) -> None:
    page = open_journey(chromium_browser, journey_server, template)
    photograph(page, template)
    page.close()
    rows = wait_for_events(
        journey_lab,
        lambda r: (
            sum(e["type"] == "tap" and e["prototype_id"] == template for e in r)
            >= len(JOURNEYS[template][0])
        ),
    )
    mine = [e for e in rows if e["prototype_id"] == template]
    views = [e["screen"] for e in mine if e["type"] == "screen_view"]
    assert views[-1] == JOURNEYS[template][1] and all(e["device"] == "phone" for e in mine)


def test_scan_and_go_cart_steppers_and_payment_sheet_take_taps(
    journey_server, journey_lab, chromium_browser
) -> None:
    page = open_journey(chromium_browser, journey_server, "scan-and-go")
    total = page.locator(".sl-cart-total")
    assert "70,80" in total.inner_text()
    tap(page, "el_step__cart__basket-mug-more")
    page.wait_for_function(
        "() => document.querySelector('.sl-cart-total').innerText.includes('90,75')"
    )
    button = page.locator(".st-key-el_step__cart__basket-mug-more button")
    assert button.bounding_box()["height"] >= 52  # a big touch target
    tap(page, "el_btn__cart__basket")
    wait_screen(page, "pay")
    assert page.locator(".st-key-el_opt__pay__sheet-invoice button").is_disabled()
    tap(page, "el_opt__pay__sheet-card")
    settle(page)
    tap(page, "el_btn__pay__sheet")
    wait_screen(page, "exit")
    page.close()
    rows = wait_for_events(
        journey_lab, lambda r: any(e["element"] == "sheet" for e in r if e["type"] == "tap")
    )
    taps = [e for e in spool(journey_lab) if e["type"] == "tap"]
    mine = [(e["screen"], e["element"]) for e in taps if e["prototype_id"] == "scan-and-go"]
    assert ("cart", "basket.mug.more") in mine and ("pay", "sheet.card") in mine
    more = next(e for e in rows if e["type"] == "tap" and e["element"] == "basket.mug.more")
    assert more["props"]["quantity"] == 2 and more["x"] is not None
