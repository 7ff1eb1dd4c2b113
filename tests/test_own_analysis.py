"""The prototype's own questions and goals analysed: on events the runtime wrote (AppTest
walkers) and on simulated pilots with a planted truth (``sample_data.own``).

Known truth: the simulator writes exactly how many sessions reached each goal (the truth's
``own.goal_sessions``) and the answer probabilities it planted per variant (``own.values``);
the experiment metrics must equal the first and cover the second.
"""

from __future__ import annotations

import math

import pytest
import yaml

from experiments.analysis import analyze
from experiments.spec import parse_experiment
from feedback.ingest import ingest
from insights.own import preference_p_value
from insights.usability import UsabilityQuery, usability_report
from sample_data.own import OwnTruth
from sample_data.simulate import simulate_pilot
from tests.fixtures import (
    ASKS_PROTOTYPE,
    answer_questions,
    app_test,
    click,
    new_lab,
    session,
    spool_events,
    walk_task,
    write_prototype,
)

METRICS = [
    "question:found.yes", "question:channels.online", "question:stars", "question:layout.b",
    "question:recall.recalled", "question:where.pay", "goal:helped", "goal:checkout",
]  # fmt: skip


def write_experiment(lab, unit: str = "session") -> None:
    raw = {
        "id": "asks-test", "hypothesis": "The hint helps.", "prototype": "asks", "unit": unit,
        "variants": {"control": {"version": 1},
                     "treatment": {"version": 1, "variant": "treatment"}},
        "allocation": {"control": 0.5, "treatment": 0.5}, "stores": [],
        "start": "2026-11-02", "end": "2026-11-29", "primary_metric": "goal:reserved",
        "secondary_metrics": METRICS, "guardrails": [],
    }  # fmt: skip
    parse_experiment(raw, "asks-test.yaml")
    path = lab.experiments_dir / "asks-test.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def metric(result, name):
    return next(m for m in result.metrics if m.metric == name)


def variant_mean(result, name, variant):
    return next(v for v in metric(result, name).variants if v.variant == variant).mean


# --- events the runtime wrote -----------------------------------------------------------------


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """Two customers in AppTest under the experiment (arms by session): the first answers
    every question (the five-second test with a keyword), the second gives up after tapping
    'help' and does not remember. Returns the lab and the two customers' variants."""
    from _pytest.monkeypatch import MonkeyPatch

    lab = new_lab(tmp_path_factory.mktemp("walk") / "lab", locale="de")
    write_prototype(lab, "asks", ASKS_PROTOTYPE)
    write_experiment(lab)
    mp = MonkeyPatch()
    try:
        at = app_test(lab, mp, prototype="asks", store="S01")
        first = session(at).ctx.variant
        click(at, "sl_consent_yes")
        walk_task(at)
        answer_questions(at, comment="Mehr Farben", recall="Die Jacke und der Preis")
        assert session(at).phase == "thanks"
        at = app_test(lab, mp, prototype="asks", store="S02")
        second = session(at).ctx.variant
        click(at, "sl_consent_yes")
        click(at, "sl_start_task")
        click(at, "el_btn__start__go")
        click(at, "el_btn__shop__help")  # the goal 'helped' (an element's tap)
        click(at, "sl_give_up")
        answer_questions(at, comment="Nichts", recall="weiß nicht")
    finally:
        mp.undo()
    ingest(lab)
    return lab, first, second


def test_runtime_events_carry_answers_and_goals(walked):
    lab, _, _ = walked
    events = spool_events(lab)
    assert {e["experiment_id"] for e in events} == {"asks-test"}
    answers = {(e["question"], e["element"]) for e in events if e["type"] == "answer"}
    assert {("found", "yes"), ("channels", "store"), ("channels", "online"), ("channels", "app"),
            ("layout", "b"), ("recall", "recalled"), ("recall", "not_recalled"),
            ("where", "pay")} <= answers  # fmt: skip
    goals = [(e["type"], e["props"]["goals"]) for e in events if "goals" in (e["props"] or {})]
    assert ("screen_view", ["reserved"]) in goals and ("tap", ["helped"]) in goals
    first = next(e for e in events if e["question"] == "where")
    assert first["screen"] == "shop" and first["value"] == 1.0


def test_usability_report_reads_runtime_events(walked):
    lab, first, second = walked
    report = usability_report(lab, "asks", UsabilityQuery())

    def total(question, option=None):  # over the variants the two customers happened to get
        rows = [q for q in report.own if q.question == question]
        if option is None:
            return sum(q.answered for q in rows)
        return sum(q.option(option).rate.count for q in rows)

    assert (total("found"), total("found", "yes")) == (2, 2)
    assert [total("channels", o) for o in ("store", "online", "app")] == [2, 2, 2]
    assert {q.mean for q in report.own if q.question == "stars"} == {5.0}
    texts = {t for q in report.own if q.question == "wish" for t, _ in q.texts}
    assert texts == {"Mehr Farben", "Nichts"}
    assert (total("layout", "b"), total("where", "pay")) == (2, 2)
    recalled_by = {q.variant: q.option("recalled").rate.count for q in report.own
                   if q.question == "recall"}  # fmt: skip
    assert sum(recalled_by.values()) == 1 and recalled_by[first] == 1
    goals = {}
    for g in report.goals:
        goals[g.goal] = goals.get(g.goal, 0) + g.rate.count
    assert goals == {"reserved": 1, "helped": 1, "checkout": 1}
    assert {g.variant for g in report.goals} == {first, second}
    again = type(report).from_dict(report.to_dict())
    assert again.own == report.own and again.goals == report.goals


def test_experiment_metrics_read_runtime_events(walked):
    lab, first, second = walked
    result = analyze(lab, "asks-test")
    total = {}
    for name in ("goal:reserved", "goal:helped", "question:recall.recalled", "question:stars"):
        total[name] = sum(v.mean * v.sessions for v in metric(result, name).variants if v.sessions)
    assert total == {"goal:reserved": 1.0, "goal:helped": 1.0, "question:recall.recalled": 1.0,
                     "question:stars": 10.0}  # fmt: skip
    if first != second:
        assert variant_mean(result, "goal:reserved", first) == 1.0
        assert variant_mean(result, "goal:helped", second) == 1.0


def test_no_own_questions_no_section(walked):
    from insights.own import own_specs
    from prototypes.library import load_lab_prototype
    from tests.fixtures import MINI_PROTOTYPE

    lab, _, _ = walked
    write_prototype(lab, "mini", MINI_PROTOTYPE)
    assert own_specs(load_lab_prototype(lab, "mini"), 1) == {}


# --- a simulated pilot with a planted truth ---------------------------------------------------


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    lab = new_lab(tmp_path_factory.mktemp("pilot") / "lab", locale="de")
    write_prototype(lab, "asks", ASKS_PROTOTYPE)
    write_experiment(lab)
    from experiments.spec import load_experiment

    res = simulate_pilot(lab, load_experiment(lab, "asks-test"), sessions=6000, seed=5)
    ingest(lab)
    return lab, res.truth, analyze(lab, "asks-test")


def test_goal_rates_equal_the_simulators_exact_counts(pilot):
    lab, truth, result = pilot
    for name in ("reserved", "checkout"):
        m = metric(result, f"goal:{name}")
        for v in m.variants:
            reached = truth["own"]["goal_sessions"][v.variant][name]
            assert v.sessions > 1000
            assert v.mean * v.sessions == pytest.approx(reached, abs=1e-6)
    assert variant_mean(result, "goal:reserved", "control") > 0.3  # the task's success


@pytest.mark.parametrize(
    "name",
    ["question:found.yes", "question:channels.online", "question:stars", "question:layout.b",
     "question:recall.recalled", "question:where.pay"],
)  # fmt: skip
def test_question_metrics_recover_the_planted_truth(pilot, name):
    _, truth, result = pilot
    m = metric(result, name)
    planted = truth["own"]["values"]
    for v in m.variants:
        p = planted[v.variant][name]
        se = math.sqrt((4.0 if name == "question:stars" else 0.25) / v.sessions)
        assert abs(v.mean - p) < 4 * se, (v.variant, v.mean, p)
    c = m.comparisons[0]
    lift = planted["treatment"][name] - planted["control"][name]
    assert c.ci_low < lift < c.ci_high


def test_preference_share_and_binomial_test(pilot):
    lab, truth, _ = pilot
    report = usability_report(lab, "asks", UsabilityQuery())
    pref = {q.variant: q for q in report.own if q.question == "layout"}
    b = pref["treatment"].option("b").rate
    assert b.ci_low < OwnTruth().prefer_b + OwnTruth().prefer_lift < b.ci_high
    assert pref["treatment"].p_value < 1e-6  # 65 % is not 50 %
    assert pref["control"].p_value > 0.001  # 50 % is
    recall = {q.variant: q for q in report.own if q.question == "recall"}
    r = recall["treatment"].option("recalled").rate
    assert r.ci_low < OwnTruth().recall + OwnTruth().recall_lift < r.ci_high
    clicks = {q.variant: q for q in report.own if q.question == "where"}["control"].clicks
    assert len(clicks) > 100 and all(0 <= x <= 1 and 0 <= y <= 1 for x, y, _ in clicks)


def test_open_text_counts_equal_what_the_simulator_wrote(pilot):
    lab, truth, _ = pilot
    report = usability_report(lab, "asks", UsabilityQuery())
    for q in report.own:
        if q.question == "wish":
            assert sum(n for _, n in q.texts) == truth["own"]["texts_written"][q.variant]["wish"]
            assert q.answered == truth["own"]["texts_written"][q.variant]["wish"]


def test_preference_p_value_is_the_exact_binomial_test():
    from scipy.stats import binomtest

    for k, n in ((0, 1), (3, 10), (5, 10), (60, 100), (520, 1000), (13, 40)):
        assert preference_p_value(k, n) == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-9)
    assert preference_p_value(0, 0) is None


def test_reports_show_own_questions_and_goals(pilot, tmp_path):
    from rich.console import Console

    from reports.usability_html import render_usability_html
    from reports.usability_terminal import show_usability

    lab, _, result = pilot
    report = usability_report(lab, "asks", UsabilityQuery())
    page = render_usability_html(report)
    assert "The prototype&#x27;s own questions and goals" in page or "own questions" in page
    assert "layout (preference) · treatment: View A 34% [32–36%], View B 66%" in page
    assert "against 50%: p = " in page
    assert "where (first click) · control: pay (target)" in page
    assert "reserved · control:" in page and "To checkout · treatment:" in page
    console = Console(record=True, width=200)
    show_usability(report, console)
    text = console.export_text()
    assert "recall (five-second test) · treatment: recalled" in text
    assert "stars (rating) · control: mean" in text
    from reports import scorecard

    assert scorecard.metric_label("goal:reserved") == "Goal: reserved"
    assert {m.metric for m in result.metrics} >= {"goal:reserved", "question:layout.b"}


def test_experiment_report_shows_goal_and_question_metrics(pilot, tmp_path):
    from rich.console import Console

    from reports import terminal
    from reports.htmlreport import write_report

    lab, _, _ = pilot
    page = write_report(lab, "asks-test", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Goal: reserved" in page and "layout: b" in page
    from reports.data import analyze as report_of

    console = Console(record=True, width=200)
    terminal.show(report_of(lab, "asks-test"), console)
    text = console.export_text()
    assert "Goal: reserved" in text and "recall: recalled" in text


def test_dashboard_usability_page_shows_own_questions(pilot, monkeypatch):

    from tests.test_reports_app import all_text, dashboard_page

    lab, _, _ = pilot
    at = dashboard_page(lab, monkeypatch, "usability")
    assert not at.exception, at.exception
    text = all_text(at)
    assert "The prototype's own questions and goals" in text
    assert "layout (preference) · treatment: View A" in text and "reserved · control:" in text


def test_a_preference_image_must_exist(tmp_path):
    from prototypes.validate import validate_file

    text = ASKS_PROTOTYPE.replace(
        "      - {id: b, label: {de: Ansicht B, en: View B}, screen: shop-b}\n",
        "      - {id: b, label: {de: Ansicht B, en: View B}, image: design-b.png}\n",
    )
    path = tmp_path / "prototype.yaml"
    path.write_text(text, encoding="utf-8")
    problems = [p for p in validate_file(path) if "design-b.png" in p.message]
    assert len(problems) == 1 and problems[0].path == "questions[4].options[1].image", problems


def test_a_preference_between_two_images_in_the_runtime(tmp_path, monkeypatch):
    from PIL import Image

    text = ASKS_PROTOTYPE.replace(
        "      - {id: a, label: {de: Ansicht A, en: View A}, screen: shop}\n"
        "      - {id: b, label: {de: Ansicht B, en: View B}, screen: shop-b}\n",
        "      - {id: a, label: {de: Ansicht A, en: View A}, image: a.png}\n"
        "      - {id: b, label: {de: Ansicht B, en: View B}, image: b.png}\n",
    )
    lab = new_lab(tmp_path / "lab")
    spec = write_prototype(lab, "asks", text)
    for name, colour in (("a.png", "#1f3a5f"), ("b.png", "#c0392b")):
        Image.new("RGB", (60, 100), colour).save(spec.parent / name)
    at = app_test(lab, monkeypatch, prototype="asks", store="S01")
    click(at, "sl_consent_yes")
    walk_task(at)
    while session(at).question is not None and session(at).question.id != "layout":
        answer_questions_once(at)
    page = " ".join(m.value for m in at.markdown)
    assert page.count("data:image/png;base64,") == 2
    click(at, "sl_pref_a")
    answer = [e for e in spool_events(lab) if e["question"] == "layout"]
    assert [(e["element"], e["value"]) for e in answer] == [("a", 1.0)]


def answer_questions_once(at) -> None:
    from tests.fixtures import answer_own_question

    answer_own_question(at, "ok", "nichts")
