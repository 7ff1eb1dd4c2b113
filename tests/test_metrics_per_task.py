"""Per-task instruments (SEQ) score per task; a late out-of-scale answer hides nothing.

The metric SQL and the simulator's own scoring (and so the truth file) use one definition.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pytest

from experiments.metrics import per_session_values, sufficient_statistics
from experiments.spec import ExperimentSpec, load_experiment, write_experiment
from feedback.catalogue import CATALOGUE
from feedback.store import create_schema
from sample_data.answers import instrument_scores
from tests.test_experiments_analysis import spec_dict

COLUMNS = ["session_id", "variant", "store_id", *CATALOGUE.metrics]


def _values(lab, answers: dict[str, list[tuple[str | None, str, float]]]) -> dict[str, dict]:
    """Per-session metric values of sessions given as [(task, question, value), ...] in order."""
    spec = ExperimentSpec.model_validate(spec_dict("exp-t", "session"))
    write_experiment(lab, spec)
    base = datetime(2026, 11, 3, 10, tzinfo=UTC)
    rows = []
    ids = {name: str(uuid.uuid4()) for name in answers}
    for name, given in answers.items():
        for k, (task, question, value) in enumerate(given):
            rows.append((str(uuid.uuid4()), base + timedelta(seconds=k), ids[name], "exp-t",
                         "control", "S01", "answer", task, question, value))  # fmt: skip
    con = duckdb.connect(str(lab.db_path))
    create_schema(con)
    con.executemany(
        """INSERT INTO events VALUES (?, ?, ?, ?, 'p', 1, ?, ?, 'kiosk', ?, NULL, NULL, ?,
           ?, NULL, NULL, ?, NULL, '{}', 'test', now())""",
        rows,
    )
    con.close()
    con = duckdb.connect(str(lab.db_path), read_only=True)
    got = {str(r[0]): dict(zip(COLUMNS, r, strict=True)) for r in per_session_values(con, spec)}
    con.close()
    return {name: got[sid] for name, sid in ids.items()}


def test_seq_after_two_tasks_is_the_mean_of_the_tasks(lab):
    got = _values(
        lab,
        {
            "two": [("find-size", "seq", 7.0), ("reserve", "seq", 1.0)],
            "again": [
                ("find-size", "seq", 2.0),
                ("find-size", "seq", 6.0),
                ("reserve", "seq", 4.0),
            ],
            "one": [("find-size", "seq", 5.0)],
        },
    )
    assert got["two"]["seq"] == 4.0
    assert got["again"]["seq"] == 5.0  # the last answer within a task counts
    assert got["one"]["seq"] == 5.0


def test_a_last_answer_off_the_scale_keeps_the_earlier_valid_one(lab):
    got = _values(
        lab,
        {
            "seq": [("find-size", "seq", 6.0), ("find-size", "seq", 9.0)],
            "seq_task": [("find-size", "seq", 6.0), ("reserve", "seq", 0.0)],
            "nps": [(None, "nps", 10.0), (None, "nps", 11.0)],
            "csat": [(None, "csat", 2.0), (None, "csat", -1.0)],
        },
    )
    assert got["seq"]["seq"] == 6.0
    assert got["seq_task"]["seq"] == 6.0  # the task without a valid answer is not scored
    assert got["nps"]["nps"] == 100.0
    assert got["csat"]["csat"] == 0.0


def test_simulator_scores_seq_per_task_like_the_sql():
    answered = np.array([True, True, True, False])
    after = [
        (0, "seq", answered, np.array([7.0, 3.0, 5.0, 5.0])),
        (1, "seq", np.array([True, False, True, False]), np.array([1.0, 6.0, 9.0, 2.0])),
    ]
    value, ok = instrument_scores({}, after, 4)["seq"]
    assert ok.tolist() == [True, True, True, False]
    assert value[ok].tolist() == [4.0, 3.0, 5.0]


def _seq_from_events(con, exp_id: str) -> dict[str, float]:
    """Per-session SEQ straight from the events: the mean over tasks of each task's last answer."""
    rows = con.execute(
        """SELECT session_id, task, arg_max("value", ts) FROM events
           WHERE experiment_id = $e AND type = 'answer' AND question = 'seq' GROUP BY ALL""",
        {"e": exp_id},
    ).fetchall()
    per: dict[str, list[float]] = {}
    for sid, _task, value in rows:
        per.setdefault(str(sid), []).append(value)
    return {sid: float(np.mean(v)) for sid, v in per.items()}


def test_seq_effect_on_two_tasks_matches_the_planted_truth(lab):
    from sample_data.generate import generate_sample

    effect = -0.6
    summary = generate_sample(lab, stores=12, sessions=6000, seed=13, effects={"seq": effect})
    truth = json.loads(lab.truth_path.read_text(encoding="utf-8"))
    assert truth["true_effects"]["seq"]["treatment"] == pytest.approx(effect, abs=0.01)
    spec = load_experiment(lab, summary["experiment"])
    con = duckdb.connect(str(lab.db_path), read_only=True)
    try:
        data = sufficient_statistics(con, spec)
        rows = per_session_values(con, spec)
        direct = _seq_from_events(con, spec.id)
    finally:
        con.close()
    # the SQL's per-session SEQ is the mean over the session's tasks
    per_session = {str(r[0]): dict(zip(COLUMNS, r, strict=True))["seq"] for r in rows}
    two_tasks = [sid for sid, v in direct.items() if v != round(v)]
    assert two_tasks, "some sessions answered SEQ after both tasks with different answers"
    for sid in two_tasks[:200]:
        assert per_session[sid] == pytest.approx(direct[sid])
    c, t = data.by_variant["control"]["seq"], data.by_variant["treatment"]["seq"]
    diff = t.mean - c.mean
    se = math.sqrt(t.variance / t.n + c.variance / c.n)
    cond = truth["conditional_means"]["seq"]
    assert diff < 0
    assert abs(diff - (cond["treatment"] - cond["control"])) < 4 * se, (diff, cond, se)
    assert abs(t.mean - cond["treatment"]) < 4 * math.sqrt(t.variance / t.n) + 0.1
