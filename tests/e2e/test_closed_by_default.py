"""Closed by default, in a real browser: without the lab's token a browser sees a customer link's
prototype and nothing else, on the runtime's server (``storelab prototype run``) and on the
dashboard's. A broken link names no id; the preview and the gallery ask for the token.
"""

from __future__ import annotations

import re

import pytest

from tests.fixtures import SCREENSHOTS, wait_for_app

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
BROKEN = "Dieser Link funktioniert leider nicht"
LAB_FACTS = ("scan-and-discover", "personal-recommendation", "treatment", "version")
PANEL = ".sl-pv-box"  # the team preview's side panel (prototype, version, variant, tasks)


def main_text(page) -> str:
    return page.locator("[data-testid='stApp']").inner_text()


def open_page(browser, url: str, viewport: dict | None = None):
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    page.goto(url)
    wait_for_app(page)
    return page


def test_play_without_token_shows_no_gallery(runtime_server, runtime_lab, chromium_browser):
    for path in ("/", "/?store=S01", "/gallery"):
        page = open_page(chromium_browser, runtime_server + path)
        if path == "/gallery":
            page.get_by_text("Access token").first.wait_for(timeout=60_000)
        else:
            page.get_by_text(BROKEN).first.wait_for(timeout=60_000)
        text = main_text(page)
        assert not [fact for fact in LAB_FACTS if fact in text], (path, text)
        assert page.locator("a[href*='play?prototype=']").count() == 0
        page.close()


def test_customer_link_works_and_a_broken_one_names_nothing(
    runtime_server, runtime_lab, chromium_browser
):
    page = open_page(
        chromium_browser,
        f"{runtime_server}/?prototype=scan-and-discover&store=S03&device=phone",
        PHONE,
    )
    page.get_by_role("button", name=re.compile("Los geht|Let's start")).wait_for(timeout=60_000)
    assert page.get_by_text("Access token").count() == 0
    assert "personal-recommendation" not in main_text(page)
    page.close()

    for query in ("prototype=nope&store=S01", "prototype=scan-and-discover&store=S99"):
        page = open_page(chromium_browser, f"{runtime_server}/?{query}&device=phone", PHONE)
        page.get_by_text(BROKEN).first.wait_for(timeout=60_000)
        text = main_text(page)
        assert "This link does not work" in text.replace("Sorry, this", "This")
        for secret in (*LAB_FACTS, "S01", "S02", "Hamburg", "nope", "S99"):
            assert secret not in text, secret
        if "S99" in query:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "customer-broken-link.png"))
        page.close()


def test_preview_needs_the_token(runtime_server, runtime_lab, chromium_browser):
    link = f"{runtime_server}/?prototype=scan-and-discover&store=S01&device=phone&preview=1"
    page = open_page(chromium_browser, link)
    page.get_by_text("Access token").first.wait_for(timeout=60_000)
    assert page.locator(PANEL).count() == 0
    assert "scan-and-discover" not in main_text(page)
    assert page.get_by_role("button", name=re.compile("Los geht|Let's start")).count() == 0
    field = page.get_by_label("Access token")
    field.fill(runtime_lab.config.dashboard.token)
    field.press("Enter")
    page.locator(PANEL).first.wait_for(timeout=60_000)
    assert "scan-and-discover" in page.locator(PANEL).first.inner_text()
    page.close()

    page = open_page(chromium_browser, f"{link}&token={runtime_lab.config.dashboard.token}")
    page.locator(PANEL).first.wait_for(timeout=60_000)
    page.close()


def test_dashboard_without_token_shows_nothing(dashboard_server, e2e_lab, chromium_browser):
    from experiments.spec import list_experiments

    experiments = list_experiments(e2e_lab)
    facts = (*experiments, "scan-and-discover", "treatment", "Events")
    for path in ("/", "/overview", "/experiment", "/prototypes", "/play", "/play?store=S01"):
        page = open_page(chromium_browser, dashboard_server + path)
        if path.startswith("/play"):
            page.get_by_text(BROKEN).first.wait_for(timeout=60_000)
        else:
            page.get_by_text("Access token").first.wait_for(timeout=60_000)
        text = main_text(page)
        assert not [fact for fact in facts if fact in text], (path, text)
        assert page.locator("[data-testid='stMetric']").count() == 0
        assert page.locator("a[href*='play?prototype=']").count() == 0
        page.close()
