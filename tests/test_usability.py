"""The usability report (insights.usability, `storelab report usability`, its HTML file and the
dashboard page): numbers against hand computations, on hand-written and on runtime events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from cli import app as cli_app
from insights.paths import first_deviation
from insights.screens import rework_ranking
from insights.usability import UsabilityQuery, usability_report
from insights.usability_results import UsabilityReport, wilson
from tests.fixtures import (
    answer_questions,
    app_test,
    click,
    session,
    walk_task,
    write_jsonl,
    write_prototype,
)

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def _session(steps, *, team: bool = False, variant: str = "control", start=T0) -> list[dict]:
    """Events of one session: ``steps`` are (seconds after start, type, fields)."""
    sid = str(uuid.uuid4())
    out = []
    for seconds, kind, extra in steps:
        props = dict(extra.pop("props", {}))
        if team:
            props["team"] = True
        out.append({
            "event_id": str(uuid.uuid4()), "ts": (start + timedelta(seconds=seconds)).isoformat(),
            "session_id": sid, "prototype_id": "mini", "prototype_version": 1,
            "variant": variant, "store_id": "S01", "device": "kiosk", "type": kind,
            "props": props, **extra,
        })  # fmt: skip
    return out


def _run(task_end: tuple | None, screens: list[tuple[float, str]], *, misclicks=(), seq=None,
         nps=None) -> list[tuple]:  # fmt: skip
    """A task run of ``buy`` as the runtime writes it: task_start, a tap + screen_view per
    screen (no ``task`` on them), misclicks, the end at ``task_end`` = (seconds, type, reason)."""
    steps = [(0, "session_start", {}), (1, "task_start", {"task": "buy", "screen": "start"})]
    for i, (t, screen) in enumerate(screens):
        if i:
            steps.append((t - 0.01, "tap", {"screen": screens[i - 1][1], "element": "go"}))
        steps.append((t, "screen_view", {"screen": screen}))
    steps += [(t, "misclick", {"screen": s, "x": 0.5, "y": 0.5}) for t, s in misclicks]
    if task_end is not None:
        t, kind, reason = task_end
        steps.append((t, kind, {"task": "buy", "props": {"reason": reason} if reason else {}}))
        if seq is not None:
            steps.append((t + 2, "answer", {"task": "buy", "question": "seq", "value": seq}))
    if nps is not None:
        steps.append((100, "answer", {"question": "nps", "value": nps}))
    return steps


# Hand-made pilot of prototype "mini" (expected path start → shop → done), times in seconds:
# A direct success at 21 (start 1–11, shop 11–21), SEQ 6, NPS 9
# B indirect (start, shop, start, shop, done) at 41, one misclick on shop, SEQ 4
# C gives up on shop at 31, two misclicks on shop, SEQ 2
# D idle timeout on start at 91 (task_abandon, reason idle)
# E time limit on shop at 61 (task_fail)
# F the team's direct success: never counts
# G left on shop (no end event)
HAND = {
    "A": _run(
        (21, "task_success", None), [(1, "start"), (11, "shop"), (21, "done")], seq=6, nps=9
    ),  # fmt: skip
    "B": _run(
        (41, "task_success", None),
        [(1, "start"), (11, "shop"), (21, "start"), (31, "shop"), (41, "done")],
        misclicks=[(12, "shop")],
        seq=4,
    ),  # fmt: skip
    "C": _run(
        (31, "task_abandon", None),
        [(1, "start"), (11, "shop")],
        misclicks=[(12, "shop"), (13, "shop")],
        seq=2,
    ),  # fmt: skip
    "D": _run((91, "task_abandon", "idle"), [(1, "start")]),
    "E": _run((61, "task_fail", None), [(1, "start"), (11, "shop")]),
    "G": _run(None, [(1, "start"), (11, "shop")]),
}


@pytest.fixture
def hand_lab(lab):
    from feedback.ingest import ingest

    write_prototype(lab)
    rows = [e for steps in HAND.values() for e in _session([tuple(s) for s in steps])]
    rows += _session(_run((21, "task_success", None), [(1, "start"), (11, "shop"), (21, "done")],
                          seq=1), team=True)  # fmt: skip
    write_jsonl(lab.spool_dir / "hand.jsonl", rows)
    report = ingest(lab)
    assert report.rejected == 0
    return lab


def test_outcomes_rates_and_wilson_intervals_by_hand(hand_lab) -> None:
    from statsmodels.stats.proportion import proportion_confint

    report = usability_report(hand_lab, "mini", UsabilityQuery())
    task = report.task("buy")
    assert task.runs == 6  # A B C D E G; the team's run F never counts
    counts = {k: r.count for k, r in task.outcomes.items()}
    assert counts == {"direct": 1, "indirect": 1, "give_up": 1, "timeout": 2, "unfinished": 1,
                      "success": 2}  # fmt: skip
    low, high = proportion_confint(2, 6, alpha=0.05, method="wilson")
    assert task.outcomes["timeout"].ci_low == pytest.approx(low)
    assert task.outcomes["timeout"].ci_high == pytest.approx(high)
    # taps: A 2, B 4, C 1, E 1, G 1 = 9; misclicks 3 -> 3 / 12
    assert (task.misclicks, task.taps) == (3, 9)
    assert task.misclick_rate == pytest.approx(3 / 12)


def test_time_on_task_answers_and_score_by_hand(hand_lab) -> None:
    task = usability_report(hand_lab, "mini", UsabilityQuery()).task("buy")
    # ended runs: A 20 s, B 40, C 30, D 90, E 60 (G has no end)
    assert task.time.n == 5
    assert task.time.quantiles["p50"] == pytest.approx(40)
    assert task.time.mean == pytest.approx(48)
    assert sum(b.count for b in task.time.histogram) == 5
    seq = task.answers[0]
    assert (seq.question, seq.n, seq.mean) == ("seq", 3, pytest.approx(4))
    assert dict(seq.counts) == {2.0: 1, 4.0: 1, 6.0: 1}
    # SUM-like: completion 2/6, time: successes within 3 screens x 10 s = 30 s: A only -> 1/2,
    # satisfaction (4 - 1) / 6, accuracy 1 - 3/12
    parts = [2 / 6, 1 / 2, 3 / 6, 1 - 3 / 12]
    assert task.usability.score == pytest.approx(100 * sum(parts) / 4)


def test_screens_drop_off_time_and_rework_ranking_by_hand(hand_lab) -> None:
    report = usability_report(hand_lab, "mini", UsabilityQuery())
    screens = {s.screen: s for s in report.task("buy").screens}
    # failures (C, D, E, G) ended: shop C E G, start D
    assert (screens["shop"].drop_offs, screens["start"].drop_offs) == (3, 1)
    assert screens["shop"].failure_share == pytest.approx(3 / 4)
    assert screens["shop"].sessions == 5 and screens["shop"].views == 6
    assert screens["shop"].misclicks == 3
    # time on shop per run: A 10, B 10 + 10, C 20, E 50 (G: no end, unknown) -> median 20
    assert screens["shop"].median_seconds == pytest.approx(20)
    first = rework_ranking(report)[0]
    assert first.screen == "shop"
    assert first.score == pytest.approx((3 / 4 + 3 / 3) / 2)
    assert "shop: 3 failed runs ended here" in first.evidence()


def test_paths_and_where_they_leave_the_expected_path(hand_lab) -> None:
    paths = usability_report(hand_lab, "mini", UsabilityQuery()).task("buy").paths
    assert paths.top[0].path == ("start", "shop") and paths.top[0].n == 3  # C E G
    assert paths.on_expected == 1
    devs = {(d.screen, d.to): d.n for d in paths.deviations}
    assert devs == {("shop", "(end)"): 3, ("start", "(end)"): 1, ("shop", "start"): 1}
    assert first_deviation(("a", "x"), ("a", "b", "c")) == ("a", "x")
    flows = {(t.step, t.source, t.target): t.n for t in paths.transitions}
    assert flows[(0, "start", "shop")] == 5 and flows[(1, "shop", "… left")] == 1


def test_json_round_trips_and_team_answers_are_left_out(hand_lab) -> None:
    report = usability_report(hand_lab, "mini", UsabilityQuery())
    data = json.loads(json.dumps(report.to_dict()))
    assert UsabilityReport.from_dict(data) == report
    assert report.scores[0].instrument == "nps" and report.scores[0].n == 1
    assert report.sessions == 6


def test_wilson_matches_statsmodels() -> None:
    from statsmodels.stats.proportion import proportion_confint

    for count, total in ((0, 10), (3, 7), (50, 50), (412, 1000)):
        rate = wilson(count, total)
        assert (rate.ci_low, rate.ci_high) == pytest.approx(
            proportion_confint(count, total, method="wilson")
        )


# --- on events written by the runtime ---------------------------------------------------------


def test_on_runtime_events_a_success_a_misclick_and_a_give_up(lab, monkeypatch) -> None:
    from feedback.ingest import ingest

    write_prototype(lab)
    at = app_test(lab, monkeypatch, prototype="mini", store="S01", device="kiosk")
    click(at, "sl_consent_yes")
    walk_task(at)
    answer_questions(at)
    at = app_test(lab, monkeypatch, prototype="mini", store="S01", device="kiosk")
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    session(at).browser_taps([{"x": 0.9, "y": 0.1, "hit": False, "key": None, "screen": "start"}])
    click(at, "sl_give_up")
    ingest(lab)
    task = usability_report(lab, "mini", UsabilityQuery()).task("buy")
    counts = {k: r.count for k, r in task.outcomes.items()}
    assert (counts["direct"], counts["give_up"], task.runs) == (1, 1, 2)
    assert task.misclicks == 1
    screens = {s.screen: s for s in task.screens}
    assert screens["start"].drop_offs == 1 and screens["start"].misclicks == 1
    assert task.paths.top[0].n == 1


# --- the command line -------------------------------------------------------------------------


def _cli(*args: str):
    return CliRunner().invoke(cli_app, ["report", "usability", *args])


def test_cli_json_shape(hand_lab) -> None:
    result = _cli("mini", "--lab", str(hand_lab.root), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    head = ["prototype", "version", "variant", "store", "persona", "title", "sessions"]
    assert list(data)[:7] == head
    assert data["tasks"][0]["outcomes"]["direct"]["count"] == 1
    assert data["screens_to_rework"][0]["screen"] == "shop"


def test_cli_prints_tasks_screens_and_rework(hand_lab) -> None:
    result = _cli("mini", "--lab", str(hand_lab.root))
    assert result.exit_code == 0, result.output
    assert "Screens to rework" in result.output and "Usability score" in result.output


def test_cli_unknown_prototype_is_one_line(hand_lab) -> None:
    result = _cli("nope", "--lab", str(hand_lab.root))
    assert result.exit_code == 1
    assert "There is no prototype 'nope'" in result.output
    assert "Traceback" not in result.output


def test_cli_prototype_without_events_says_so(hand_lab) -> None:
    write_prototype(hand_lab, "quiet")
    result = _cli("quiet", "--lab", str(hand_lab.root))
    assert result.exit_code == 1
    assert "No customer session of prototype 'quiet' version 1" in result.output
    assert "Traceback" not in result.output


def test_html_file_has_tasks_screens_and_a_sankey(hand_lab, tmp_path) -> None:
    out = tmp_path / "u.html"
    result = _cli("mini", "--lab", str(hand_lab.root), "--html", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert 'data-task="buy"' in page and "sl-screens" in page and "shop" in page
    assert '"type":"sankey"' in page.replace(" ", "")
    assert "http://" not in page.split("<script>")[0]  # self-contained head
    embedded = page.split('id="usability">')[1].split("</script>")[0]
    assert json.loads(embedded)["prototype"] == "mini"


# --- the dashboard page -----------------------------------------------------------------------


def test_dashboard_usability_page(hand_lab, monkeypatch) -> None:

    from tests.test_reports_app import all_text, dashboard_page

    write_prototype(hand_lab, "quiet")
    at = dashboard_page(hand_lab, monkeypatch, "usability")
    assert not at.exception, at.exception
    text = all_text(at)
    assert "Usability" in text and "Screens to rework" in text
    assert [s.label for s in at.selectbox] == ["Prototype", "Version", "Variant", "Store"]
    assert "buy" in text
    assert at.selectbox(key="usab_store").options == ["(all)", "S01"]
    at.selectbox(key="usab_prototype").set_value("quiet").run()
    assert not at.exception
    assert "No customer session of prototype 'quiet'" in all_text(at)
