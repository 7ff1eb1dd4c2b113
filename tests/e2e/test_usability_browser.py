"""The usability page and the usability HTML report in a real browser (Debian chromium);
their screenshots are the README tour's pictures."""

from __future__ import annotations

import re

import pytest

from tests.fixtures import SCREENSHOTS, wait_for_app

pytestmark = pytest.mark.e2e


def test_usability_page_in_the_browser(dashboard_server, e2e_lab, browser_page) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 3600})
    page.goto(f"{dashboard_server}/usability?token={e2e_lab.config.dashboard.token}")
    wait_for_app(page)
    page.get_by_text("Screens to rework").first.wait_for(timeout=60_000)
    page.locator(".sl-rework").wait_for()
    page.locator(".js-plotly-plot .sankey").first.wait_for(timeout=30_000)
    page.wait_for_timeout(800)  # plotly draws after the script ends
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 3
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "usability.png"), full_page=True)


def test_usability_html_report_renders_offline(e2e_lab, browser_page, tmp_path) -> None:
    from insights.usability import UsabilityQuery, usability_report
    from reports.usability_html import write_usability_html

    report = usability_report(e2e_lab, "scan-and-discover", UsabilityQuery())
    path = write_usability_html(report, tmp_path / "usability.html")
    page = browser_page
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto(path.as_uri())
    page.locator(".js-plotly-plot .sankey").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert [u for u in requests if not re.match(r"^(file|data|blob):", u)] == []
    assert page.locator("section[data-task]").count() == len(report.tasks)
    page.screenshot(path=str(SCREENSHOTS / "usability-report.png"), full_page=True)
