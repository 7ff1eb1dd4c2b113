"""Who counts with unit=store, and what time on task measures.

A store sending the other arm's variant label is left out and reported, never counted silently;
an abandoned task has a time on task like a succeeded or failed one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import duckdb

from experiments.metrics import per_session_values, session_counts, sufficient_statistics
from experiments.spec import ExperimentSpec, write_experiment
from feedback.catalogue import CATALOGUE
from feedback.store import create_schema
from tests.test_experiments_analysis import spec_dict

COLUMNS = ["session_id", "variant", "store_id", *CATALOGUE.metrics]
BASE = datetime(2026, 11, 3, 10, tzinfo=UTC)


def _insert(lab, spec: ExperimentSpec, sessions: list[tuple[str, str, list]]) -> list[str]:
    """Insert sessions given as (variant, store, [(seconds, type, task), ...]); their ids."""
    write_experiment(lab, spec)
    rows, ids = [], []
    for k, (variant, store, events) in enumerate(sessions):
        sid = str(uuid.uuid4())
        ids.append(sid)
        start = BASE + timedelta(minutes=k)
        for seconds, type_, task in events:
            rows.append((str(uuid.uuid4()), start + timedelta(seconds=seconds), sid, spec.id,
                         variant, store, type_, task))  # fmt: skip
    con = duckdb.connect(str(lab.db_path))
    create_schema(con)
    con.executemany(
        """INSERT INTO events VALUES (?, ?, ?, ?, 'p', 1, ?, ?, 'kiosk', ?, NULL, NULL, ?,
           NULL, NULL, NULL, NULL, NULL, '{}', 'test', now())""",
        rows,
    )
    con.close()
    return ids


def _task(seconds: float, end: str) -> list:
    return [(0, "session_start", None), (1, "task_start", "t1"), (1 + seconds, end, "t1")]


def test_a_store_sending_the_other_arms_label_is_left_out_and_reported(lab):
    spec = ExperimentSpec.model_validate(spec_dict("exp-l", "store"))
    assigned = spec.store_variants
    ctrl_store = next(s for s, v in assigned.items() if v == "control")
    trt_store = next(s for s, v in assigned.items() if v == "treatment")
    wrong_store = next(s for s, v in assigned.items() if v == "control" and s != ctrl_store)
    ok = _task(10, "task_success")
    _insert(
        lab,
        spec,
        [("control", ctrl_store, ok)] * 3
        + [("treatment", trt_store, ok)] * 3
        + [("treatment", wrong_store, _task(99, "task_fail"))] * 5,
    )
    con = duckdb.connect(str(lab.db_path), read_only=True)
    try:
        data = sufficient_statistics(con, spec)
        counts = session_counts(con, spec)
    finally:
        con.close()
    for got in (data, counts):
        assert got.sessions_by_variant == {"control": 3, "treatment": 3}
        assert wrong_store not in got.sessions_by_store
        assert got.mislabelled_sessions == {wrong_store: {"treatment": 5}}
    assert data.by_variant["treatment"]["task_success_rate"].n == 3
    assert data.by_variant["treatment"]["task_success_rate"].sum == 3.0
    assert wrong_store not in data.by_store


def test_a_session_experiment_has_no_mislabelled_sessions(lab):
    spec = ExperimentSpec.model_validate(spec_dict("exp-s", "session"))
    store = spec.store_list[0]
    _insert(lab, spec, [("control", store, _task(5, "task_success")),
                        ("treatment", store, _task(5, "task_success"))])  # fmt: skip
    con = duckdb.connect(str(lab.db_path), read_only=True)
    try:
        data = sufficient_statistics(con, spec)
    finally:
        con.close()
    assert data.sessions_by_variant == {"control": 1, "treatment": 1}
    assert data.mislabelled_sessions == {}


def test_time_on_task_counts_abandoned_tasks(lab):
    spec = ExperimentSpec.model_validate(spec_dict("exp-a", "session"))
    store = spec.store_list[0]
    events = [
        (0, "session_start", None),
        (1, "task_start", "t1"),
        (11, "task_success", "t1"),  # 10 s
        (12, "task_start", "t2"),
        (42, "task_abandon", "t2"),  # 30 s, given up
    ]
    (sid,) = _insert(lab, spec, [("control", store, events)])
    con = duckdb.connect(str(lab.db_path), read_only=True)
    try:
        rows = per_session_values(con, spec)
    finally:
        con.close()
    got = {str(r[0]): dict(zip(COLUMNS, r, strict=True)) for r in rows}[sid]
    assert got["time_on_task_s"] == 20.0
    assert got["task_success_rate"] == 0.5
