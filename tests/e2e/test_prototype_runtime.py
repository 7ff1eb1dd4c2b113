"""The prototype runtime in a real browser: taps, misclicks and screenshots on phone and kiosk.

The module-scoped fixtures ``runtime_lab`` and ``runtime_server`` (tests/e2e/conftest.py)
scaffold two prototypes into a fresh lab and start the runtime through
``prototypes.runtime.launch.run_prototype`` (what ``storelab prototype run`` calls). Chromium
is Debian's (``/usr/bin/chromium``), never a downloaded one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.fixtures import SCREENSHOTS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
KIOSK = {"width": 1920, "height": 1080}
KIOSK_TEMPLATE = "personal-recommendation"  # runtime_lab scaffolds it (tests/e2e/conftest.py)


def tap(page, key: str) -> None:
    """Tap the button with this widget key (scrolled to the middle, clear of the task bar)."""
    button = page.locator(f".st-key-{key} button").first
    button.wait_for(state="visible", timeout=30_000)
    button.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(150)
    button.click()
    page.wait_for_timeout(600)


def wait_for(page, selector: str) -> None:
    page.locator(selector).first.wait_for(state="visible", timeout=30_000)


def settle(page) -> None:
    page.wait_for_timeout(900)


def spool(lab) -> list[dict]:
    rows = []
    for path in sorted(lab.spool_dir.glob("*.jsonl*")):
        rows += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
    return rows


def wait_for_events(lab, predicate, timeout: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        rows = spool(lab)
        if predicate(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


def test_phone_scan_and_discover_taps_misclick_and_screenshot(
    runtime_server, runtime_lab, chromium_browser
) -> None:
    from feedback.events import Event

    page = chromium_browser.new_page(viewport=PHONE)
    page.goto(f"{runtime_server}/?prototype=scan-and-discover&store=S01&device=phone")
    tap(page, "sl_consent_yes")
    tap(page, "sl_start_task")
    wait_for(page, ".st-key-el_scanbtn__scan__scanner")
    settle(page)
    # a tap on empty space (the intro text) is a misclick with its position
    box = page.locator(".sl-text").first.bounding_box()
    page.mouse.click(box["x"] + 10, box["y"] + box["height"] / 2)
    settle(page)
    tap(page, "el_scanbtn__scan__scanner")
    wait_for(page, ".st-key-el_btn__product__to-availability")
    settle(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "phone-scan-and-discover.png"))
    tap(page, "el_btn__product__to-availability")
    wait_for(page, ".st-key-sl_next")
    tap(page, "sl_next")
    tap(page, "sl_scale_6")  # seq after find-size
    wait_for(page, ".st-key-sl_start_task")
    page.close()

    rows = wait_for_events(
        runtime_lab,
        lambda r: any(e["type"] == "answer" for e in r) and any(e["type"] == "misclick" for e in r),
    )
    for row in rows:
        Event.model_validate(row)
    types = [e["type"] for e in rows]
    assert types[:3] == ["session_start", "consent", "task_start"]
    misclicks = [e for e in rows if e["type"] == "misclick"]
    assert misclicks, types
    m = misclicks[0]
    assert m["screen"] == "scan" and 0 <= m["x"] <= 1 and 0 <= m["y"] <= 1
    assert m["device"] == "phone" and m["store_id"] == "S01"
    taps = [e for e in rows if e["type"] == "tap"]
    assert [t["element"] for t in taps][:2] == ["scanner", "to-availability"]
    assert any(t["x"] is not None for t in taps), "the browser should give taps their position"
    success = next(e for e in rows if e["type"] == "task_success")
    assert success["task"] == "find-size" and success["screen"] == "availability"
    answer = next(e for e in rows if e["type"] == "answer")
    assert (answer["question"], answer["value"], answer["task"]) == ("seq", 6, "find-size")


def test_kiosk_screenshot_and_questionnaire(runtime_server, runtime_lab, chromium_browser) -> None:
    page = chromium_browser.new_page(viewport=KIOSK)
    page.goto(f"{runtime_server}/?prototype={KIOSK_TEMPLATE}&store=S02&device=kiosk&lang=de")
    tap(page, "sl_consent_yes")
    tap(page, "sl_start_task")
    wait_for(page, "[class*='st-key-el_hit__home__']")
    settle(page)
    page.screenshot(path=str(SCREENSHOTS / f"kiosk-{KIOSK_TEMPLATE}.png"))
    tap(page, "sl_give_up")
    wait_for(page, ".st-key-sl_scale_7")
    assert page.locator(".st-key-sl_scale_1 button").bounding_box()["height"] >= 72
    page.close()
    rows = wait_for_events(runtime_lab, lambda r: any(e["type"] == "task_abandon" for e in r))
    abandon = [e for e in rows if e["type"] == "task_abandon"]
    assert abandon and abandon[0]["device"] == "kiosk" and abandon[0]["store_id"] == "S02"
