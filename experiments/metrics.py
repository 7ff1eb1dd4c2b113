"""The one place with the SQL that turns ``events`` into metric values and sufficient statistics.

Python never sees events: one query reduces them, inside DuckDB, to per-session metric values
and then to (n, sum, sum of squares) per variant and per store. Values are always bound as
parameters, never pasted into SQL text.

Which sessions count
    Sessions whose events carry ``experiment_id``, whose first event falls in the spec's
    [start, end] dates (UTC days: ``start 00:00Z <= first ts < (end + 1 day) 00:00Z``; a session
    is never cut in two), whose variant is one of the spec's variants (sessions showing two
    variants are dropped) and, when the spec lists stores, whose store is listed.

Per-session metrics (NULL = the session has no value and is left out of that metric)
    task_success_rate  For each task the session started (a ``task_start`` with that ``task``),
                       1 if a ``task_success`` for that task followed in the session, else 0
                       (fail, abandon or nothing). The session's value is the mean over its
                       started tasks; with one task per session it is the 0/1 outcome.
                       NULL when the session started no task.
    time_on_task_s     Per started task: seconds from its first ``task_start`` to its first
                       ``task_success``/``task_fail`` (abandoned/unfinished tasks excluded);
                       the session's value is the mean over its finished tasks.
    misclick_rate      misclicks / (taps + misclicks); NULL without any tap or misclick.
    completion_rate    1 if the session has a ``session_end`` with ``props.reason = 'completed'``,
                       else 0 (every session counts).
    sus                All of sus.q1..q10 answered (1-5): 2.5 · Σ(odd: r − 1, even: 5 − r), 0-100.
    umux_lite          Both umux_lite.q1, q2 answered (1-7): (q1 − 1 + q2 − 1) · 100/12, 0-100.
    seq, ces           The answer (1-7).
    nps                Answer 0-10 → 100 (9-10, promoter), 0 (7-8), −100 (0-6, detractor).
    csat               Answer 1-5 → 100 (4-5) or 0, so the mean is the familiar share in %.
    If a question was answered more than once in a session, the last answer counts; answers
    outside the item's scale are ignored.

Per-unit statistics
    by variant: n (sessions with a value), Σ value, Σ value² for each metric; "sessions" = all
    counted sessions. By store: the same per store (the store-level test uses n and Σ value as
    denominator and numerator of a ratio-of-sums metric; Σ value² is kept for later
    within-store work such as CUPED).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from experiments.spec import METRICS
from experiments.statistics import SampleMeanStatistic

if TYPE_CHECKING:
    import duckdb

    from experiments.spec import ExperimentSpec

SESSIONS = "__sessions__"  # pseudo-metric: 1 per counted session
_SUS_ODD = [f"sus.q{i}" for i in (1, 3, 5, 7, 9)]
_SUS_EVEN = [f"sus.q{i}" for i in (2, 4, 6, 8, 10)]

PER_SESSION_SQL = f"""
WITH ev AS (
    SELECT session_id, ts, variant, store_id, type, task, question, "value", props
    FROM events
    WHERE experiment_id = $experiment_id
),
sessions AS (
    SELECT session_id, min(variant) AS variant, min(store_id) AS store_id
    FROM ev
    GROUP BY session_id
    HAVING min(ts) >= $start_ts AND min(ts) < $end_ts
       AND count(DISTINCT variant) = 1
       AND list_contains($variants, min(variant))
       AND ($all_stores OR list_contains($stores, min(store_id)))
),
task_runs AS (
    SELECT session_id, task,
           min(ts) FILTER (WHERE type = 'task_start') AS started_at,
           min(ts) FILTER (WHERE type IN ('task_success', 'task_fail')) AS ended_at,
           bool_or(type = 'task_success') AS succeeded
    FROM ev
    WHERE task IS NOT NULL AND type IN ('task_start', 'task_success', 'task_fail')
    GROUP BY session_id, task
),
task_metrics AS (
    SELECT session_id,
           avg(CASE WHEN succeeded THEN 1.0 ELSE 0.0 END) FILTER (WHERE started_at IS NOT NULL)
               AS task_success_rate,
           avg(date_diff('millisecond', started_at, ended_at) / 1000.0)
               FILTER (WHERE started_at IS NOT NULL AND ended_at >= started_at)
               AS time_on_task_s
    FROM task_runs
    GROUP BY session_id
),
event_metrics AS (
    SELECT session_id,
           CASE WHEN count(*) FILTER (WHERE type IN ('tap', 'misclick')) > 0
                THEN CAST(count(*) FILTER (WHERE type = 'misclick') AS DOUBLE)
                     / count(*) FILTER (WHERE type IN ('tap', 'misclick'))
           END AS misclick_rate,
           CASE WHEN coalesce(bool_or(type = 'session_end'
                    AND json_extract_string(props, '$.reason') = 'completed'), false)
                THEN 1.0 ELSE 0.0 END AS completion_rate
    FROM ev
    GROUP BY session_id
),
answers AS (
    SELECT session_id, question, arg_max("value", ts) AS v
    FROM ev
    WHERE type = 'answer' AND question IS NOT NULL AND "value" IS NOT NULL
    GROUP BY session_id, question
),
instrument_metrics AS (
    SELECT session_id,
           CASE WHEN count(*) FILTER (WHERE question LIKE 'sus.q%' AND v BETWEEN 1 AND 5
                                       AND list_contains($sus_items, question)) = 10
                THEN 2.5 * sum(CASE WHEN list_contains($sus_odd, question) THEN v - 1
                                    WHEN list_contains($sus_even, question) THEN 5 - v END)
                          FILTER (WHERE v BETWEEN 1 AND 5)
           END AS sus,
           CASE WHEN count(*) FILTER (WHERE question IN ('umux_lite.q1', 'umux_lite.q2')
                                       AND v BETWEEN 1 AND 7) = 2
                THEN (sum(v) FILTER (WHERE question IN ('umux_lite.q1', 'umux_lite.q2')) - 2)
                     * 100.0 / 12
           END AS umux_lite,
           max(v) FILTER (WHERE question = 'seq' AND v BETWEEN 1 AND 7) AS seq,
           CASE WHEN max(v) FILTER (WHERE question = 'nps' AND v BETWEEN 0 AND 10) >= 9 THEN 100.0
                WHEN max(v) FILTER (WHERE question = 'nps' AND v BETWEEN 0 AND 10) >= 7 THEN 0.0
                WHEN max(v) FILTER (WHERE question = 'nps' AND v BETWEEN 0 AND 10) >= 0
                    THEN -100.0
           END AS nps,
           CASE WHEN max(v) FILTER (WHERE question = 'csat' AND v BETWEEN 1 AND 5) >= 4 THEN 100.0
                WHEN max(v) FILTER (WHERE question = 'csat' AND v BETWEEN 1 AND 5) >= 1 THEN 0.0
           END AS csat,
           max(v) FILTER (WHERE question = 'ces' AND v BETWEEN 1 AND 7) AS ces
    FROM answers
    GROUP BY session_id
),
per_session AS (
    SELECT s.session_id, s.variant, s.store_id,
           CAST(t.task_success_rate AS DOUBLE) AS task_success_rate,
           CAST(t.time_on_task_s AS DOUBLE) AS time_on_task_s,
           CAST(e.misclick_rate AS DOUBLE) AS misclick_rate,
           CAST(e.completion_rate AS DOUBLE) AS completion_rate,
           CAST(i.sus AS DOUBLE) AS sus,
           CAST(i.umux_lite AS DOUBLE) AS umux_lite,
           CAST(i.seq AS DOUBLE) AS seq,
           CAST(i.nps AS DOUBLE) AS nps,
           CAST(i.csat AS DOUBLE) AS csat,
           CAST(i.ces AS DOUBLE) AS ces
    FROM sessions s
    JOIN event_metrics e USING (session_id)
    LEFT JOIN task_metrics t USING (session_id)
    LEFT JOIN instrument_metrics i USING (session_id)
),
long AS (
    SELECT variant, store_id, metric, "value"
    FROM (UNPIVOT per_session ON {", ".join(METRICS)} INTO NAME metric VALUE "value")
    UNION ALL
    SELECT variant, store_id, '{SESSIONS}' AS metric, 1.0 AS "value" FROM per_session
)
"""

SUFFICIENT_STATISTICS_SQL = (
    PER_SESSION_SQL
    + """
SELECT CASE WHEN grouping(variant) = 0 THEN 'variant' ELSE 'store' END AS level,
       variant, store_id, metric,
       count(*) AS n, sum("value") AS sum, sum("value" * "value") AS sum_squares
FROM long
GROUP BY GROUPING SETS ((variant, metric), (store_id, metric))
ORDER BY level, variant, store_id, metric
"""
)

PER_SESSION_VALUES_SQL = PER_SESSION_SQL + "SELECT * FROM per_session ORDER BY session_id"


@dataclass
class MetricData:
    """Sufficient statistics of one experiment, as the SQL returned them."""

    by_variant: dict[str, dict[str, SampleMeanStatistic]] = field(default_factory=dict)
    sessions_by_variant: dict[str, int] = field(default_factory=dict)
    by_store: dict[str, dict[str, SampleMeanStatistic]] = field(default_factory=dict)
    sessions_by_store: dict[str, int] = field(default_factory=dict)


def query_parameters(spec: ExperimentSpec) -> dict:
    """Bound parameters of the metric SQL for one experiment spec."""
    return {
        "experiment_id": spec.id,
        "start_ts": datetime.combine(spec.start, time(0), tzinfo=UTC),
        "end_ts": datetime.combine(spec.end + timedelta(days=1), time(0), tzinfo=UTC),
        "variants": list(spec.variants),
        "all_stores": not spec.store_list,
        "stores": spec.store_list or [""],
        "sus_items": _SUS_ODD + _SUS_EVEN,
        "sus_odd": _SUS_ODD,
        "sus_even": _SUS_EVEN,
    }


def sufficient_statistics(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> MetricData:
    """Run the reduction for ``spec`` on an open connection (read-only is enough)."""
    rows = con.execute(SUFFICIENT_STATISTICS_SQL, query_parameters(spec)).fetchall()
    data = MetricData()
    for level, variant, store_id, metric, n, total, squares in rows:
        if metric == SESSIONS:
            target = data.sessions_by_variant if level == "variant" else data.sessions_by_store
            target[variant if level == "variant" else store_id] = int(n)
            continue
        stat = SampleMeanStatistic(n=int(n), sum=float(total), sum_squares=float(squares))
        if level == "variant":
            data.by_variant.setdefault(variant, {})[metric] = stat
        else:
            data.by_store.setdefault(store_id, {})[metric] = stat
    return data


def per_session_values(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> list[tuple]:
    """Per-session metric values (for tests and debugging; analysis never needs them)."""
    return con.execute(PER_SESSION_VALUES_SQL, query_parameters(spec)).fetchall()
