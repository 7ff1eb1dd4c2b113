"""The analyst dashboard and the HTML report in a real browser (Debian chromium)."""

from __future__ import annotations

import re

import pytest

from tests.fixtures import SCREENSHOTS, wait_for_app

pytestmark = pytest.mark.e2e


def event_count(lab) -> int:
    from feedback.store import connect

    with connect(lab) as con:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]


def test_dashboard_shows_the_event_count(dashboard_server, e2e_lab, browser_page) -> None:
    page = browser_page
    page.goto(f"{dashboard_server}/?token={e2e_lab.config.dashboard.token}")
    wait_for_app(page)
    events = page.locator("[data-testid='stMetric']", has_text="Events")
    events.wait_for(timeout=60_000)
    expected = f"{event_count(e2e_lab):,}"
    assert expected in events.inner_text()
    page.get_by_role("button", name="Ingest new events").wait_for()
    page.locator(".js-plotly-plot .main-svg").first.wait_for()
    page.wait_for_timeout(800)  # plotly draws after the script ends
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"))


def test_experiment_scorecard_in_the_browser(dashboard_server, e2e_lab, browser_page) -> None:
    from experiments.spec import list_experiments

    exp = list_experiments(e2e_lab)[0]
    page = browser_page
    page.goto(f"{dashboard_server}/experiment?token={e2e_lab.config.dashboard.token}&exp={exp}")
    wait_for_app(page)
    page.locator(".sl-decision").wait_for(timeout=60_000)
    # The scorecard table; breakdown tables share the class, so exclude them.
    page.locator(".sl-table:not(.sl-breakdown)").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    page.wait_for_timeout(800)
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 8
    page.screenshot(path=str(SCREENSHOTS / "experiment.png"))


def test_no_data_without_the_token(dashboard_server, e2e_lab, browser_page) -> None:
    page = browser_page
    page.goto(f"{dashboard_server}/?token=wrong-token-0000000000")
    wait_for_app(page)
    page.get_by_text("does not match").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stMetric']").count() == 0
    body = page.locator("[data-testid='stMain']").inner_text()
    assert f"{event_count(e2e_lab):,}" not in body


def test_customers_play_without_token_and_team_sees_the_gallery(
    dashboard_server, e2e_lab, browser_page
) -> None:
    """The dashboard server also serves the click dummies: /play is public, the gallery not."""
    page = browser_page
    page.goto(f"{dashboard_server}/play?prototype=scan-and-discover&store=S02&device=phone")
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Let's start|Los geht")).wait_for(timeout=60_000)
    page.goto(f"{dashboard_server}/prototypes?token={e2e_lab.config.dashboard.token}")
    wait_for_app(page)
    page.get_by_text("scan-and-discover").first.wait_for(timeout=60_000)
    assert page.get_by_role("link", name=re.compile("Phone")).count() >= 1
    page.goto(f"{dashboard_server}/prototypes")
    wait_for_app(page)
    page.get_by_text("Access token").first.wait_for(timeout=60_000)
    assert page.get_by_role("link", name=re.compile("Phone")).count() == 0


def test_html_report_renders_offline(e2e_lab, browser_page, tmp_path) -> None:
    from experiments.spec import list_experiments
    from reports.htmlreport import write_report

    path = write_report(e2e_lab, list_experiments(e2e_lab)[0], tmp_path / "report.html")
    page = browser_page
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto(path.as_uri())
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    external = [u for u in requests if not re.match(r"^(file|data|blob):", u)]
    assert external == []
    assert page.locator(".js-plotly-plot").count() >= 8
    assert page.locator(".sl-decision .sl-verdict").inner_text().strip()
    page.screenshot(path=str(SCREENSHOTS / "report.png"))
