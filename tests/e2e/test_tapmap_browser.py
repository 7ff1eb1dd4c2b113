"""Tap maps end to end: customers tap a known element in the real runtime (Debian chromium), the
screens are snapshotted, the spool ingested, the map built, and the element's box from the
snapshot manifest lies under the map's hot spot. The map drawn in a browser is kept as a
screenshot for the README tour.

Uses the module-scoped ``runtime_lab`` / ``runtime_server`` of tests/e2e/conftest.py (a fresh lab
with scan-and-discover, served by ``launch.run_prototype``), so the counts here are exact.
"""

from __future__ import annotations

import time

import pytest

from tests.fixtures import SCREENSHOTS

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
SCANNER = ".st-key-el_scanbtn__scan__scanner button"
# Phones of one width and different heights: on the short one the scanner lies below the fold,
# so the customer scrolls to it; the map must still find every tap on the scanner.
HEIGHTS = (844, 420, 700)
CUSTOMERS = len(HEIGHTS)


def _settle(page, ms: int = 900) -> None:
    page.wait_for_timeout(ms)


def _customer(browser, url: str, height: int, *, misclick: bool) -> tuple[float, float]:
    """One customer on a phone 390 px wide and ``height`` tall: consent, the first task, a tap
    on the scanner button (scrolled into view when it is below the fold), maybe one misclick on
    the intro text first. Returns the tap's position in the page frame, and checks that the
    short phone had to scroll."""
    from prototypes.snapshots import PAGE_FRAME_JS

    page = browser.new_page(viewport={"width": PHONE["width"], "height": height})
    try:
        page.goto(f"{url}/?prototype=scan-and-discover&store=S01&device=phone&lang=en")
        for key in ("sl_consent_yes", "sl_start_task"):
            button = page.locator(f".st-key-{key} button").first
            button.wait_for(state="visible", timeout=30_000)
            button.click()
            _settle(page)
        scanner = page.locator(SCANNER).first
        scanner.wait_for(state="attached", timeout=30_000)
        _settle(page)
        if misclick:
            text = page.locator(".sl-text").first.bounding_box()
            page.mouse.click(text["x"] + 12, text["y"] + text["height"] / 2)
            _settle(page)
        below_fold = scanner.bounding_box()["y"] > height
        scanner.scroll_into_view_if_needed()
        _settle(page, 400)
        box = scanner.bounding_box()
        x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5
        frame = page.evaluate("() => {" + PAGE_FRAME_JS + " return slPage(window); }")
        assert below_fold == (frame["top"] > 0), "a scanner below the fold needs a scroll"
        page.mouse.click(x, y)
        page.locator(".st-key-el_btn__product__to-availability").first.wait_for(
            state="visible", timeout=30_000
        )
        _settle(page)
        return x / PHONE["width"], (y + frame["top"]) / frame["height"]
    finally:
        page.close()


def _positioned_taps(lab) -> list[dict]:
    from tests.e2e.test_prototype_runtime import spool

    return [e for e in spool(lab) if e["type"] == "tap" and e.get("x") is not None]


def test_a_tapped_element_is_under_the_hot_spot(runtime_server, runtime_lab, chromium_browser):
    from feedback.ingest import ingest
    from insights.tapmaps import TapFilter, build_tap_maps
    from prototypes.runtime.snapshot import SnapshotRequest, take_snapshots
    from prototypes.snapshots import read_manifest
    from reports.tapmaps import write_tapmaps_html

    clicked = [
        _customer(chromium_browser, runtime_server, h, misclick=i == 0)
        for i, h in enumerate(HEIGHTS)
    ]
    deadline = time.monotonic() + 20
    while len(_positioned_taps(runtime_lab)) < CUSTOMERS and time.monotonic() < deadline:
        time.sleep(0.3)
    stored = [
        (t["x"], t["y"])
        for t in _positioned_taps(runtime_lab)
        if t.get("screen") == "scan" and t.get("element") == "scanner"
    ]

    lines: list[str] = []
    manifest = take_snapshots(
        runtime_lab,
        SnapshotRequest("scan-and-discover", device="phone"),
        progress=lines.append,
        base_url=runtime_server,
        browser=chromium_browser,
    )
    assert not manifest.failed, manifest.failed
    assert manifest.screen("scan") is not None and len(lines) == 1 + len(manifest.screens)
    assert read_manifest(runtime_lab, "scan-and-discover", 1, "phone") == manifest
    ingest(runtime_lab)

    report = build_tap_maps(
        runtime_lab, TapFilter("scan-and-discover", device="phone", screen="scan")
    )
    m = report.get("scan", "phone")
    assert m is not None and m.image and m.misclicks == 1
    assert 1 <= m.taps <= CUSTOMERS  # the snapshot's preview session never counts
    box = manifest.screen("scan").box("scanner")
    assert box is not None and box.contains(m.hot_spot.x, m.hot_spot.y)
    assert len(stored) == CUSTOMERS  # the scrolled tap too lands on the scanner's box
    assert all(box.contains(x, y) for x, y in stored), (stored, box)
    assert m.element_at(m.hot_spot) == "scanner"
    cx = sum(x for x, _ in clicked) / len(clicked)
    cy = sum(y for _, y in clicked) / len(clicked)
    assert abs(m.hot_spot.x - cx) < 0.03 and abs(m.hot_spot.y - cy) < 0.03

    # the map as the HTML report embeds it, looked at in the browser
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page_file = write_tapmaps_html(report, SCREENSHOTS / "tapmap-scan-phone.html")
    page = chromium_browser.new_page(viewport={"width": 500, "height": 1000})
    try:
        page.goto(page_file.as_uri())
        page.locator(".sl-tapmap .main-svg").first.wait_for(state="visible", timeout=30_000)
        page.wait_for_timeout(500)
        page.locator(".sl-tapmap").first.screenshot(path=str(SCREENSHOTS / "tapmap-phone.png"))
    finally:
        page.close()


def test_a_kiosk_snapshot_has_the_customers_layout(runtime_server, runtime_lab, chromium_browser):
    """The preview's chrome is hidden for the shot: every element box of the snapshot is where
    a customer's page has it (the overlay's promise), here on a 1920×1080 kiosk."""
    from prototypes.runtime.snapshot import BOXES_JS, SnapshotRequest, take_snapshots

    kiosk = {"width": 1920, "height": 1080}
    page = chromium_browser.new_page(viewport=kiosk)
    try:
        page.goto(f"{runtime_server}/?prototype=personal-recommendation&store=S02&device=kiosk")
        for key in ("sl_consent_yes", "sl_start_task"):
            button = page.locator(f".st-key-{key} button").first
            button.wait_for(state="visible", timeout=30_000)
            button.click()
            _settle(page)
        marker = page.locator("[data-sl-screen]").first
        marker.wait_for(state="attached", timeout=30_000)
        _settle(page)
        screen = marker.get_attribute("data-sl-screen")
        seen = page.evaluate(BOXES_JS, screen)["boxes"]
    finally:
        page.close()
    manifest = take_snapshots(
        runtime_lab,
        SnapshotRequest("personal-recommendation", device="kiosk"),
        base_url=runtime_server,
        browser=chromium_browser,
    )
    assert (manifest.width, manifest.height) == (1920, 1080) and not manifest.failed
    shot = manifest.screen(screen)
    assert seen and len(shot.boxes) == len(seen)
    for box in seen:
        snap = shot.box(box["element"])
        for k, size in (("x", 1920), ("y", shot.height), ("w", 1920), ("h", shot.height)):
            assert abs(getattr(snap, k) - box[k]) * size <= 2, (box["element"], k)
