"""The analyst dashboard (reports/app.py) page by page, with streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from errors import DatabaseBusyError
from tests.fixtures import ANALYSIS_EXAMPLE, new_lab, session_analysis_example, write_sessions

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "reports" / "app.py")
TIMEOUT = 60


def event_count(lab_with_events) -> int:
    from feedback.store import connect

    with connect(lab_with_events) as con:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]


def app(token: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if token is not None:
        at.query_params["token"] = token
    return at.run()


def dashboard_page(lab, monkeypatch, page: str, *, timeout: int = TIMEOUT, **params: str):
    """The dashboard on ``lab``, signed in with its token (and these query parameters),
    switched to ``app_pages/<page>.py`` and run."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STORELAB_LAB", str(lab.root))
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in {"token": lab.config.dashboard.token, **params}.items():
        at.query_params[key] = value
    at.run()
    return at.switch_page(f"app_pages/{page}.py").run()


def all_text(at) -> str:
    """Every piece of text the page shows (markdown, metrics, captions, alerts, titles)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "error", "warning"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def test_without_token_asks_for_it_and_shows_no_numbers(lab_with_events) -> None:
    at = app()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Access token"]
    assert len(at.metric) == 0
    text = all_text(at)
    assert str(event_count(lab_with_events)) not in text
    assert "scan-pos-v2" not in text


def test_token_in_link_shows_the_real_event_count(lab_with_events) -> None:
    at = app(lab_with_events.config.dashboard.token)
    assert not at.exception
    events = {m.label: m.value for m in at.metric}
    assert events["Events"] == f"{event_count(lab_with_events):,}" == "48"
    assert (events["Customer sessions"], events["Preview/team sessions"]) == ("8", "0")
    assert events["Stores"] == "4"
    assert events["Rejected lines"] == "0"
    assert "scan-pos-v2" in all_text(at)  # the experiment list


def test_typed_token_opens_the_dashboard(lab_with_events) -> None:
    at = app()
    at.text_input(key="token_entry").input(lab_with_events.config.dashboard.token).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Events"] == "48"


def test_wrong_token_is_rejected(lab_with_events) -> None:
    at = app("not-the-token-at-all-xxxxx")
    assert len(at.metric) == 0
    assert any("does not match" in e.value for e in at.error)
    at.text_input(key="token_entry").input("still-wrong-token-yyyyyyyy").run()
    assert len(at.metric) == 0
    assert any("does not match" in e.value for e in at.error)


def test_ingest_button_ingests_new_spool_events(lab_with_events) -> None:
    at = app(lab_with_events.config.dashboard.token)
    assert {m.label: m.value for m in at.metric}["Events"] == "48"
    added = write_sessions(lab_with_events, 3, seed=1)
    at.button(key="ingest_button").click().run()
    assert not at.exception
    assert event_count(lab_with_events) == 48 + added
    assert {m.label: m.value for m in at.metric}["Events"] == f"{48 + added:,}"
    assert any(f"Ingested {added} new events" in s.value for s in at.success)


def test_ingest_button_shows_an_unexpected_error_as_one_line_not_a_traceback(
    lab_with_events, monkeypatch, capfd
) -> None:
    import feedback.ingest

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire\nsecond line of the message")

    monkeypatch.setattr(feedback.ingest, "ingest", broken)
    at = app(lab_with_events.config.dashboard.token)
    at.button(key="ingest_button").click().run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith("Ingest failed: RuntimeError: disk on fire second line")
    assert "\n" not in error and "Traceback" not in error
    assert {m.label: m.value for m in at.metric}["Events"] == "48"  # the page still works
    assert "Traceback" in capfd.readouterr().err  # for the operator


def test_ingest_button_names_a_spool_file_it_could_not_read(lab_with_events) -> None:
    (lab_with_events.spool_dir / "broken.jsonl").mkdir()
    at = app(lab_with_events.config.dashboard.token)
    at.button(key="ingest_button").click().run()
    assert not at.exception
    assert any(
        "1 spool file(s) could not be read, e.g. broken.jsonl: is a folder" in w.value
        for w in at.warning
    )


def test_lab_without_database_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    empty = new_lab(tmp_path / "empty", locale="en")
    monkeypatch.setenv("STORELAB_LAB", str(empty.root))
    at = app(empty.config.dashboard.token)
    assert not at.exception
    assert any("No data yet" in i.value for i in at.info)


def test_busy_database_is_a_message_not_a_traceback(lab_with_events, monkeypatch) -> None:
    from reports import data

    def busy(_lab):
        raise DatabaseBusyError("locked by pid 4242")

    monkeypatch.setattr(data, "lab_summary", busy)
    monkeypatch.setattr(data, "db_version", lambda _lab: -4242)  # bypass the cache
    at = app(lab_with_events.config.dashboard.token)
    assert not at.exception
    assert any("busy" in w.value for w in at.warning)


def test_experiment_page_renders_the_scorecard(lab_with_events) -> None:
    at = app(lab_with_events.config.dashboard.token)
    at.switch_page("app_pages/experiment.py").run()
    assert not at.exception
    assert at.selectbox(key="experiment_select").value == "scan-pos-v2"
    text = all_text(at)
    assert "data-recommendation=" in text  # the headline
    from experiments.spec import load_experiment

    spec = load_experiment(lab_with_events, "scan-pos-v2")
    assert len(spec.metric_roles()) == 4
    for metric, _role in spec.metric_roles():
        assert f'data-metric="{metric}"' in text
    assert "Sample ratio" in text
    assert len(at.get("plotly_chart")) >= 4 * 2


def test_experiment_page_with_the_example_analysis(lab_with_events, monkeypatch) -> None:
    from reports import data

    monkeypatch.setattr(data, "analyze", lambda _lab, _exp: ANALYSIS_EXAMPLE)
    monkeypatch.setattr(data, "db_version", lambda _lab: -1)  # a cache key of its own
    at = app(lab_with_events.config.dashboard.token)
    at.switch_page("app_pages/experiment.py").run()
    assert not at.exception
    text = all_text(at)
    assert "Roll out" in text and "+6.2 pp" in text and "Holm" in text
    assert len(at.get("plotly_chart")) == 4 * 3  # effect, means, per store for each metric


def test_experiment_page_shows_the_sequential_p_and_ci(lab_with_events, monkeypatch) -> None:
    """A session experiment: the scorecard has the sequential p and CI beside the fixed ones."""
    from reports import data

    monkeypatch.setattr(data, "analyze", lambda _lab, _exp: session_analysis_example())
    monkeypatch.setattr(data, "db_version", lambda _lab: -2)  # a cache key of its own
    at = app(lab_with_events.config.dashboard.token)
    at.switch_page("app_pages/experiment.py").run()
    assert not at.exception
    text = all_text(at)
    assert "Sequential p · CI" in text
    assert '<td class="sl-seq"><b>0.081</b><span class="sl-ci">[−0.3 pp, +9.3 pp]</span>' in text
    assert "Keep running" in text and "not yet by the sequential test" in text


def test_experiment_page_does_not_exist_without_token(lab_with_events) -> None:
    at = app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/experiment.py")
    assert len(at.get("plotly_chart")) == 0
    assert "data-recommendation" not in all_text(at)


# --- pilot health ---------------------------------------------------------------------------------


@pytest.fixture
def live_pilot(lab, monkeypatch):
    """``add_pilot`` around the real clock (the page has no other): S03 is never seen, which
    is flagged at any hour; S01 sent events minutes ago."""
    from datetime import UTC, datetime

    from tests.fixtures import add_pilot

    monkeypatch.setenv("STORELAB_LAB", str(lab.root))
    return add_pilot(lab, now=datetime.now(UTC))


def test_health_page_shows_the_table_and_the_flags(live_pilot) -> None:
    from reports.health import COLUMNS

    at = app(live_pilot.config.dashboard.token)
    at.switch_page("app_pages/health.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Pilot health"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Watched stores"] == "4" and metrics["Rejected lines"] == "3"
    assert int(metrics["Flagged"]) >= 1
    assert any("S03 has never sent an event" in e.value for e in at.error)
    table = at.dataframe[0].value  # the first table; the second lists rejected lines
    assert list(table.columns) == list(COLUMNS)
    rows = table.to_dict("records")
    assert [(r["Store"], r["Device"]) for r in rows[:3]] == [
        ("S01", "kiosk"), ("S01", "phone"), ("S02", "kiosk")]  # fmt: skip
    flags = {r["Store"]: r["Flag"] for r in rows}
    assert flags["S03"] == "NEVER SEEN" and flags["S01"] == ""
    assert "pilot-check: ok" in all_text(at)  # the sample ratio so far
    assert "S02 1, unknown 2" in all_text(at)


def test_health_page_needs_the_token(live_pilot) -> None:
    at = app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/health.py")
    assert "S03" not in all_text(at)


# --- the play page the dashboard serves is closed by default ------------------------------------


def open_page(at, url_path: str):
    """Run the page registered under ``url_path`` (AppTest switches only to file pages, and
    the play page is a function: the page hash Streamlit registered for it is used)."""
    (page_hash,) = [
        h for h, info in at._registered_pages.items() if info.get("url_pathname") == url_path
    ]
    at._page_hash = page_hash
    return at.run()


def page_text(at) -> str:
    return all_text(at) + "\n".join(b.label for b in at.button)


def test_play_without_token_shows_no_gallery_and_no_ids(lab_with_events) -> None:
    from prototypes.scaffold import new_prototype

    new_prototype(lab_with_events, "easy-returns", "easy-returns")  # two: the gallery, once
    at = open_page(app(), "play")
    assert not at.exception
    text = page_text(at)
    for secret in ("scan-and-discover", "easy-returns", "scan-pos-v2", "treatment", "S01"):
        assert secret not in text, secret
    assert "this link does not work" in text
    assert "sl_gallery_store" not in [s.key for s in at.selectbox]


def test_customer_link_on_the_dashboard_needs_no_token_but_the_preview_does(
    lab_with_events,
) -> None:
    at = app()
    at.query_params.update({"prototype": "scan-and-discover", "store": "S02"})
    at = open_page(at, "play")
    assert "sl_consent_yes" in [b.key for b in at.button]
    at = app()
    at.query_params.update({"prototype": "scan-and-discover", "store": "S02", "preview": "1"})
    at = open_page(at, "play")
    assert "sl_consent_yes" not in [b.key for b in at.button]
    assert [t.label for t in at.text_input] == ["Access token"]
    at = app()
    at.query_params.update({"prototype": "nope", "store": "S01"})
    at = open_page(at, "play")
    assert "scan-and-discover" not in page_text(at) and "nope" not in page_text(at)


def test_experiment_page_shows_the_cumulative_effect_and_the_breakdowns_with_the_caveat(
    lab_with_events,
) -> None:
    at = app(lab_with_events.config.dashboard.token)
    at.switch_page("app_pages/experiment.py").run()
    assert not at.exception
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    # one per metric with data: the lab's sessions answered no question, so UMUX-Lite has none
    assert sum("Cumulative effect by day" in spec for spec in specs) == 3
    text = all_text(at)
    assert "not adjusted for multiple testing" in text
    assert "Use breakdowns to explore, not to decide" in text
    assert 'sl-breakdown" data-metric="task_success_rate"' in text  # the primary first
    assert 'data-dimension="region" data-segment="Nord"' in text
    at.selectbox(key="breakdown_metric").select("time_on_task_s").run()
    assert 'sl-breakdown" data-metric="time_on_task_s"' in all_text(at)
