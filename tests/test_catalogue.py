"""One catalogue entry is all a new measure needs.

A made-up instrument (``trust``: two items on 1-5, the second negatively worded) and a made-up
metric (``again_rate``: sessions that tapped "again") are added to the catalogue in a fixture,
and nothing else changes. They are then validated in specs, asked by the runtime, scored from
the events the runtime wrote, analysed in an experiment and labelled in the reports.
"""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from errors import InvalidInputError, SpecError
from experiments.analysis import analyze
from experiments.metrics import per_session_values
from experiments.spec import ExperimentSpec, parse_experiment, write_experiment
from feedback.catalogue import CATALOGUE, Metric
from feedback.ingest import ingest
from feedback.store import connect
from prototypes.library import load_lab_prototype
from reports.data import ExperimentReport
from reports.htmlreport import render_html
from reports.scorecard import metric_label, unit_suffix
from tests.fixtures import (
    MINI_PROTOTYPE,
    TRUST,
    app_test,
    click,
    keys,
    session,
    spool_events,
    walk_task,
    write_prototype,
)

AGAIN = Metric(
    id="again_rate",
    kind="proportion",
    higher_is_better=False,
    label={"de": "Neustart-Anteil", "en": "Started again"},
    description="sessions that tapped 'again' on the done screen",
    source="events",
    sql="CASE WHEN bool_or(type = 'tap' AND element = 'again') THEN 1.0 ELSE 0.0 END",
)
ASKS_TRUST = MINI_PROTOTYPE.replace("- {instrument: nps}", "- {instrument: trust}")


@pytest.fixture
def catalogue():
    with CATALOGUE.extended(TRUST, AGAIN) as extended:
        yield extended


def trust_score(q1: int, q2: int) -> float:
    """The rule written out by hand, to check the catalogue's SQL against."""
    return 12.5 * ((q1 - 1) + (5 - q2))


def experiment(lab, **over) -> ExperimentSpec:
    raw = {
        "id": "trust-test",
        "hypothesis": "The hint raises trust.",
        "prototype": "mini",
        "unit": "session",
        "variants": {
            "control": {"version": 1},
            "treatment": {"version": 1, "variant": "treatment"},
        },
        "allocation": {"control": 0.5, "treatment": 0.5},
        "stores": ["S01"],
        "start": date.today(),
        "end": date.today(),
        "primary_metric": "task_success_rate",
        "secondary_metrics": ["trust", "again_rate"],
        "guardrails": [],
        **over,
    }
    return parse_experiment(raw, "trust-test.yaml")


def test_without_the_entries_specs_refuse_them(lab):
    write_prototype(lab, "mini", ASKS_TRUST)
    with pytest.raises(SpecError, match="unknown instrument 'trust'"):
        load_lab_prototype(lab, "mini")
    with pytest.raises(InvalidInputError, match="unknown metric 'trust'"):
        experiment(lab)


def test_specs_validate_both(lab, catalogue):
    write_prototype(lab, "mini", ASKS_TRUST)
    view = load_lab_prototype(lab, "mini").resolve()
    trust = [q for q in view.questions if q.instrument == "trust"]
    assert [q.id for q in trust] == ["trust.q1", "trust.q2"]
    assert trust[1].text["de"] == "Ich würde nachfragen." and trust[0].scale == (1, 5)
    assert experiment(lab).secondary_metrics == ["trust", "again_rate"]
    # an unknown instrument is refused naming the known ones, the new one among them
    bad = yaml.safe_load(ASKS_TRUST.replace("instrument: trust", "instrument: trusty"))
    write_prototype(lab, "bad", yaml.safe_dump(bad, allow_unicode=True))
    with pytest.raises(SpecError, match="known: .*trust"):
        load_lab_prototype(lab, "bad")


def answer(at, value: int) -> None:
    click(at, f"sl_scale_{value}")


def test_the_runtime_asks_it_and_the_sql_scores_what_it_wrote(lab, catalogue, monkeypatch):
    write_prototype(lab, "mini", ASKS_TRUST)
    write_experiment(lab, experiment(lab))
    # a customer's link: the experiment assigns the variant, and the session counts
    at = app_test(lab, monkeypatch, prototype="mini", store="S01")
    click(at, "sl_consent_yes")
    walk_task(at)
    answer(at, 6)  # SEQ after the task
    assert session(at).question.id == "trust.q1"
    page = " ".join(m.value for m in at.markdown)
    assert "Ich vertraue diesen Angaben." in page  # asked in the lab's locale (de)
    answer(at, 4)
    assert session(at).question.id == "trust.q2"
    answer(at, 2)
    while session(at).phase == "question":  # the comment, if any
        click(at, "sl_send" if "sl_send" in keys(at) else keys(at)[-1])
    written = [e for e in spool_events(lab) if e["type"] == "answer"]
    assert [(e["question"], e["value"]) for e in written][-2:] == [("trust.q1", 4), ("trust.q2", 2)]

    ingest(lab)
    with connect(lab) as con:
        rows = per_session_values(con, experiment(lab))
    columns = ["session_id", "variant", "store_id", *CATALOGUE.metrics]
    (row,) = [dict(zip(columns, r, strict=True)) for r in rows]
    assert row["trust"] == trust_score(4, 2) == 75.0
    assert row["again_rate"] == 0.0 and row["task_success_rate"] == 1.0


def write_answered_sessions(lab) -> dict[str, list[tuple[int, int, bool]]]:
    """Sessions with known answers and taps, written the way the runtime writes them."""
    from feedback.events import Event
    from feedback.sink import SpoolSink

    plan = {
        "control": [(4, 2, True), (3, 3, False), (4, 3, True), (2, 4, False), (3, 2, False)],
        "treatment": [(5, 1, False), (4, 1, False), (5, 2, True), (4, 2, False), (5, 1, False)],
    }
    today = date.today().isoformat()
    with SpoolSink(lab.spool_dir) as sink:
        for variant, sessions in plan.items():
            for i, (q1, q2, again) in enumerate(sessions):
                sid = f"00000000-0000-4000-8000-{len(variant):06d}{i:06d}"
                base = {
                    "session_id": sid, "experiment_id": "trust-test", "prototype_id": "mini",
                    "prototype_version": 1, "variant": variant, "store_id": "S01",
                    "device": "kiosk", "ts": f"{today}T10:0{i}:00+00:00",
                }  # fmt: skip
                rows = [
                    {"type": "session_start"},
                    {"type": "task_start", "task": "buy", "screen": "start"},
                    {"type": "task_success", "task": "buy", "screen": "done"},
                    {"type": "answer", "question": "trust.q1", "value": q1},
                    {"type": "answer", "question": "trust.q2", "value": q2},
                    *([{"type": "tap", "screen": "done", "element": "again"}] if again else []),
                    {"type": "session_end", "props": {"reason": "completed"}},
                ]
                for row in rows:
                    sink.emit(Event(**base, **row))  # as the runtime emits: Event objects
    ingest(lab)
    return plan


def test_analysis_and_reports_use_both(lab, catalogue):
    write_prototype(lab, "mini", ASKS_TRUST)
    write_experiment(lab, experiment(lab))
    plan = write_answered_sessions(lab)
    result = analyze(lab, "trust-test")
    by_name = {m.metric: m for m in result.metrics}
    for variant, sessions in plan.items():
        trust = next(v for v in by_name["trust"].variants if v.variant == variant)
        want = sum(trust_score(q1, q2) for q1, q2, _ in sessions) / len(sessions)
        assert trust.mean == pytest.approx(want) and trust.units == len(sessions)
        again = next(v for v in by_name["again_rate"].variants if v.variant == variant)
        assert again.mean == pytest.approx(sum(a for *_, a in sessions) / len(sessions))
    assert by_name["trust"].kind == "mean" and by_name["trust"].higher_is_better
    assert by_name["again_rate"].kind == "proportion" and not by_name["again_rate"].higher_is_better
    (comparison,) = by_name["trust"].comparisons
    assert comparison.abs_effect == pytest.approx(90.0 - 55.0)  # the means of the plan above

    assert metric_label("trust") == "Trust" and metric_label("again_rate") == "Started again"
    assert unit_suffix(by_name["trust"]) == ""
    spec = experiment(lab)
    page = render_html(ExperimentReport.of(spec, result))
    assert "Trust" in page and "Started again" in page
