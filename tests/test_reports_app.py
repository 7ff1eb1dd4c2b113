"""The analyst dashboard (reports/app.py) page by page, with streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from errors import DatabaseBusyError
from tests.fixtures import ANALYSIS_EXAMPLE, new_lab, write_sessions

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
    assert events["Sessions"] == "8"
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


def test_experiment_page_does_not_exist_without_token(lab_with_events) -> None:
    at = app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/experiment.py")
    assert len(at.get("plotly_chart")) == 0
    assert "data-recommendation" not in all_text(at)
