"""The one place with the SQL that turns ``events`` into metric values and sufficient statistics.

Python never sees events: one query reduces them, inside DuckDB, to per-session metric values
and then to (n, sum, sum of squares) per variant and per store. The spec's values enter the SQL
only through ``execute`` (``$name`` placeholders written as quoted literals by one function;
see there why not bound parameters).

Which sessions count
    Customers' sessions whose events carry ``experiment_id``, whose first event falls in the
    spec's [start, end] dates (UTC days: ``start 00:00Z <= first ts < (end + 1 day) 00:00Z``; a
    session is never cut in two), whose variant is one of the spec's variants (sessions showing
    two variants are dropped) and, when the spec lists stores, whose store is listed. With
    ``unit: store`` a session counts only when its variant is the one the spec assigns to its
    store; a store sending another label (a misconfigured tablet) has those sessions left out
    of every metric and the SRM and counted in ``MetricData.mislabelled_sessions``. A session
    with any event flagged ``props.preview`` or ``props.team`` = true (``feedback.events.
    TEAM_FLAGS``: the team trying the prototype) never counts, in no metric and not in the SRM.

Per-session metrics (NULL = the session has no value and is left out of that metric)
    Every metric of ``feedback.catalogue.CATALOGUE``, in catalogue order. Behavioural metrics
    are aggregates over the session's events or its task runs (each metric's ``sql``):
    task_success_rate  per started task 1 if a ``task_success`` followed, else 0; the mean.
    time_on_task_s     per started task: seconds from its first ``task_start`` to its end,
                       the first ``task_success``/``task_fail``/``task_abandon`` (give up,
                       idle timeout, exit); the mean over the session's ended tasks.
    misclick_rate      misclicks / (taps + misclicks); NULL without any tap or misclick.
    completion_rate    1 if the session ended with ``props.reason = 'completed'``, else 0.
    Instrument metrics are scored from the session's answers by the instrument's rule (linear:
    every item answered on its scale, ``factor · Σ(offset + weight · answer)``; buckets: the
    first bucket the single answer reaches). Answers outside the item's scale are ignored; of
    the rest, the last answer to a question counts, so an out-of-scale answer never hides an
    earlier valid one. A ``per_task`` instrument (SEQ, asked after several tasks) scores per
    task (its last valid answers after that task) and the session's value is the mean of its
    scored tasks; an answer without a task is one more such slot.

Per-unit statistics
    by variant: n (sessions with a value), Σ value, Σ value² for each metric; "sessions" = all
    counted sessions. By store: the same per store (the store-level test uses n and Σ value as
    denominator and numerator of a ratio-of-sums metric; Σ value² is kept for later
    within-store work such as CUPED).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from experiments.statistics import SampleMeanStatistic
from feedback.catalogue import CATALOGUE, Catalogue, Instrument, Metric
from feedback.events import team_event_sql
from feedback.store import sql_literal

if TYPE_CHECKING:
    import duckdb

    from experiments.spec import ExperimentSpec

SESSIONS = "__sessions__"  # pseudo-metric: 1 per counted session

# Why the query has this shape (docs/architecture.md, "Analysis at scale"; on 10M events about
# half the CPU time and a third of the memory of the first version, bench/analyze_scale.py):
# ``ev`` is inlined (NOT MATERIALIZED), so each reader scans the table for just its columns
# instead of DuckDB copying every event of the experiment into a temporary CTE result; who
# counts and the event metrics come from one GROUP BY per session; scores use CASE inside plain
# aggregates (a FILTER is one more pass); and the statistics aggregate the wide per-session
# rows directly (GROUPING SETS) and unpivot only the few result rows.
_HEAD_TEMPLATE = f"""
WITH ev AS NOT MATERIALIZED (
    SELECT session_id, ts, variant, store_id, type, screen, element, task, question,
           "value", props
    FROM events
    WHERE experiment_id = $experiment_id
),
session_events AS (
    SELECT session_id, min(variant) AS variant, max(variant) AS _max_variant,
           min(store_id) AS store_id, min(ts) AS _first_ts,
           bool_or({team_event_sql()}) AS _team{{event_columns}}
    FROM ev
    GROUP BY session_id
),
candidates AS (
    SELECT *
    FROM session_events
    WHERE _first_ts >= $start_ts AND _first_ts < $end_ts
      AND variant = _max_variant
      AND ($all_stores OR list_contains($stores, store_id))
      AND _team IS NOT TRUE
),
assignment AS (
    SELECT unnest($assigned_stores) AS store_id, unnest($assigned_variants) AS assigned
),
labelled AS (
    SELECT c.*, a.assigned
    FROM candidates c LEFT JOIN assignment a USING (store_id)
),
sessions AS (
    SELECT *
    FROM labelled
    WHERE list_contains($variants, variant) AND (NOT $by_store OR variant = assigned)
),
mislabelled AS (
    SELECT variant, store_id, count(*) AS n
    FROM labelled
    WHERE $by_store AND variant IS DISTINCT FROM assigned
    GROUP BY variant, store_id
),
task_runs AS (
    SELECT session_id, task,
           min(ts) FILTER (WHERE type = 'task_start') AS started_at,
           min(ts) FILTER (WHERE type IN ('task_success', 'task_fail', 'task_abandon'))
               AS ended_at,
           bool_or(type = 'task_success') AS succeeded
    FROM ev
    WHERE task IS NOT NULL
      AND type IN ('task_start', 'task_success', 'task_fail', 'task_abandon')
    GROUP BY session_id, task
)"""


def answers_sql(catalogue: Catalogue = CATALOGUE) -> str:
    """The CTEs up to the answers: ``sessions`` (the counted sessions: ``session_id``,
    ``variant``, ``store_id`` and one column per ``source="events"`` metric), ``mislabelled``,
    ``task_runs``, ``answers`` (session, question, v) and ``task_answers`` (session, task slot,
    question, v).

    ``v`` is the last answer on the item's scale, so an out-of-scale answer never hides an
    earlier valid one. ``answers`` has the items of instruments scored once per session,
    ``task_answers`` those of ``per_task`` instruments (SEQ: each task scores on its own; an
    answer without a task is one more slot, task NULL).
    """
    scored = catalogue.scored_instruments()
    event_columns = "".join(
        f",\n           {m.sql} AS {m.id}"
        for m in catalogue.metrics.values()
        if m.source == "events"
    )
    whole = [inst for inst in scored if not inst.per_task]
    per_task = [inst for inst in scored if inst.per_task]
    return (
        _HEAD_TEMPLATE.replace("{event_columns}", event_columns)
        + f""",
answers AS (
    {_last_answers_sql(whole, "session_id")}
),
task_answers AS (
    {_last_answers_sql(per_task, "session_id, task")}
)"""
    )


def _last_answers_sql(instruments: list[Instrument], keys: str) -> str:
    """Per ``keys`` and question of ``instruments``: the last answer on the item's scale (v)."""
    on_scale = " ".join(
        f'WHEN {_quote(i)} THEN "value" BETWEEN {inst.scale[0]} AND {inst.scale[1]}'
        for inst in instruments
        for i in inst.item_ids
    )
    # a simple CASE on the question: on 10M events half the time of IN lists
    valid = f"CASE question {on_scale} ELSE FALSE END" if on_scale else "FALSE"
    return f"""SELECT {keys}, question, arg_max("value", ts) AS v
    FROM ev
    WHERE type = 'answer' AND {valid}
    GROUP BY {keys}, question"""


def _in_list(ids) -> str:
    return ", ".join(_quote(i) for i in ids)


def _quote(text: str) -> str:
    """A SQL string literal. Only catalogue ids get here, checked against a strict pattern."""
    return "'" + text.replace("'", "''") + "'"


def _num(x: float) -> str:
    return repr(float(x))


def instrument_score_sql(inst: Instrument) -> str:
    """The aggregate over one session's (or task's) ``answers`` rows that scores ``inst``.

    Linear rules need every item answered (NULL otherwise); bucket rules take the single
    answer. The rows hold only answers on the scale. CASE inside plain aggregates, not
    FILTER clauses: each FILTER is one more pass over the rows (on 10M events, twice the time).
    """
    if inst.buckets:
        answer = f"max(CASE WHEN question = {_quote(inst.item_ids[0])} THEN v END)"
        cases = " ".join(
            f"WHEN {answer} >= {_num(b.at_least)} THEN {_num(b.score)}"
            for b in sorted(inst.buckets, key=lambda b: -b.at_least)
        )
        return f"CASE {cases} END"
    terms = " ".join(
        f"WHEN {_quote(i.id)} THEN {_num(i.offset)} + {_num(i.weight)} * v" for i in inst.items
    )
    return (
        f"CASE WHEN count(CASE WHEN question IN ({_in_list(inst.item_ids)}) THEN 1 END) "
        f"= {len(inst.items)} THEN {_num(inst.factor)} * sum(CASE question {terms} END) END"
    )


def _columns(metrics: list[Metric], expression, source: str) -> str:
    columns = ",\n           ".join(f"{expression(m)} AS {m.id}" for m in metrics)
    return columns or f"NULL AS _no_{source}_metric"


def _score(catalogue: Catalogue, metric: Metric) -> str:
    return instrument_score_sql(catalogue.instrument(metric.id))


def per_session_sql(catalogue: Catalogue = CATALOGUE) -> str:
    """The CTEs that end in ``per_session``: one row per counted session (``session_id``,
    ``variant``, ``store_id``), one DOUBLE column per metric in catalogue order.

    A ``per_task`` instrument's session value is the mean over its scored task slots.
    """
    metrics = list(catalogue.metrics.values())
    tasks = [m for m in metrics if m.source == "tasks"]
    scored = [m for m in metrics if m.source == "instrument"]
    per_task = [m for m in scored if catalogue.instrument(m.id).per_task]
    whole = [m for m in scored if m not in per_task]
    casts = ",\n           ".join(f"CAST({m.id} AS DOUBLE) AS {m.id}" for m in metrics)
    return f"""{answers_sql(catalogue)},
task_metrics AS (
    SELECT session_id,
           {_columns(tasks, lambda m: m.sql, "task")}
    FROM task_runs
    GROUP BY session_id
),
instrument_metrics AS (
    SELECT session_id,
           {_columns(whole, lambda m: _score(catalogue, m), "instrument")}
    FROM answers
    GROUP BY session_id
),
task_scores AS (
    SELECT session_id, task,
           {_columns(per_task, lambda m: _score(catalogue, m), "per_task")}
    FROM task_answers
    GROUP BY session_id, task
),
per_task_metrics AS (
    SELECT session_id,
           {_columns(per_task, lambda m: f"avg({m.id})", "per_task")}
    FROM task_scores
    GROUP BY session_id
),
per_session AS (
    SELECT session_id, variant, store_id,
           {casts}
    FROM sessions
    LEFT JOIN task_metrics USING (session_id)
    LEFT JOIN instrument_metrics USING (session_id)
    LEFT JOIN per_task_metrics USING (session_id)
)
"""


def _moments(column: str) -> str:
    """n, Σ x and Σ x² of one per-session column (NULLs left out), as ``column__n`` etc."""
    return (
        f"count({column}) AS {column}__n, sum({column}) AS {column}__sum, "
        f"sum({column} * {column}) AS {column}__sum_squares"
    )


def sufficient_statistics_sql(catalogue: Catalogue = CATALOGUE) -> str:
    """Per-variant and per-store (n, Σ value, Σ value²) of every metric, in one query.

    The per-session rows are aggregated wide (one ``_moments`` triple per metric column) for
    both grouping sets at once, then the few result rows are unpivoted to one row per level,
    unit and metric; metrics without any value in a unit give no row.
    """
    ids = [m.id for m in catalogue.metrics.values()]
    moments = ",\n       ".join(_moments(i) for i in ids)
    unpivot = ", ".join(f"({i}__n, {i}__sum, {i}__sum_squares) AS {i}" for i in ids)
    return (
        per_session_sql(catalogue)
        + f""",
wide AS (
    SELECT CASE WHEN grouping(variant) = 0 THEN 'variant' ELSE 'store' END AS level,
           variant, store_id,
           count(*) AS {SESSIONS}__n, CAST(count(*) AS DOUBLE) AS {SESSIONS}__sum,
           CAST(count(*) AS DOUBLE) AS {SESSIONS}__sum_squares,
           {moments}
    FROM per_session
    GROUP BY GROUPING SETS ((variant), (store_id))
)
SELECT level, variant, store_id, metric, n, sum, sum_squares
FROM (
    UNPIVOT wide
    ON ({SESSIONS}__n, {SESSIONS}__sum, {SESSIONS}__sum_squares) AS {SESSIONS}, {unpivot}
    INTO NAME metric VALUE n, sum, sum_squares
)
WHERE n > 0
UNION ALL
SELECT 'mislabelled' AS level, variant, store_id, '{SESSIONS}' AS metric, n,
       NULL AS sum, NULL AS sum_squares
FROM mislabelled
ORDER BY level, variant, store_id, metric
"""
    )


@dataclass
class MetricData:
    """Sufficient statistics of one experiment, as the SQL returned them."""

    by_variant: dict[str, dict[str, SampleMeanStatistic]] = field(default_factory=dict)
    sessions_by_variant: dict[str, int] = field(default_factory=dict)
    by_store: dict[str, dict[str, SampleMeanStatistic]] = field(default_factory=dict)
    sessions_by_store: dict[str, int] = field(default_factory=dict)
    # unit=store: store -> {variant label it sent: sessions}, for sessions whose label is not
    # the variant the spec assigns to that store; they count in no metric and not in the SRM
    mislabelled_sessions: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_mislabelled(self, store_id: str, variant: str, n: int) -> None:
        """Record ``n`` sessions of ``store_id`` that carried the wrong label ``variant``."""
        self.mislabelled_sessions.setdefault(store_id, {})[variant] = int(n)


def query_parameters(spec: ExperimentSpec) -> dict:
    """Bound parameters of the metric SQL for one experiment spec."""
    return {
        "experiment_id": spec.id,
        "start_ts": datetime.combine(spec.start, time(0), tzinfo=UTC),
        "end_ts": datetime.combine(spec.end + timedelta(days=1), time(0), tzinfo=UTC),
        "variants": list(spec.variants),
        "all_stores": not spec.store_list,
        "stores": spec.store_list or [""],
        "by_store": spec.unit == "store",
        # the assignment as two parallel lists (a sentinel pair for unit=session: never joined)
        "assigned_stores": list(spec.store_variants) or [""],
        "assigned_variants": list(spec.store_variants.values()) or [""],
    }


def sql_value(value: object) -> str:
    """One query parameter as a SQL literal: str, bool, int, float, date/datetime or a list.

    Strings go through ``feedback.store.sql_literal`` (quotes doubled; DuckDB knows no other
    escape), so a spec's ids and labels cannot leave their literal.
    """
    if isinstance(value, bool | int | str):
        return sql_literal(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMPTZ {sql_literal(value.isoformat())}"
    if isinstance(value, date):
        return f"DATE {sql_literal(value.isoformat())}"
    if isinstance(value, list | tuple) and value:
        return "[" + ", ".join(sql_value(v) for v in value) + "]"
    raise TypeError(f"no SQL literal for {value!r}")


def execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> list[tuple]:
    """Run metric SQL with its ``$name`` parameters written in as literals; all rows.

    Why not bound parameters: DuckDB's Python client imports pandas for any bound value
    (0.25 s, a tenth of ``analyze --json`` on 10M events), as ``feedback.store.sql_literal``
    explains. Only the names in ``params`` are replaced (``'$.reason'`` in a JSON path is not
    a name).
    """
    pattern = (
        r"\$(" + "|".join(re.escape(k) for k in sorted(params, key=len, reverse=True)) + r")\b"
    )
    text = re.sub(pattern, lambda m: sql_value(params[m.group(1)]), sql) if params else sql
    return con.execute(text).fetchall()


def sufficient_statistics(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> MetricData:
    """Run the reduction for ``spec`` on an open connection (read-only is enough)."""
    rows = execute(con, sufficient_statistics_sql(), query_parameters(spec))
    data = MetricData()
    for level, variant, store_id, metric, n, total, squares in rows:
        if level == "mislabelled":
            data.add_mislabelled(store_id, variant, n)
            continue
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
    return execute(
        con,
        per_session_sql() + "SELECT * FROM per_session ORDER BY session_id",
        query_parameters(spec),
    )


def session_counts(
    con: duckdb.DuckDBPyConnection, spec: ExperimentSpec, *, until: datetime | None = None
) -> MetricData:
    """Only the counted sessions per variant and per store (what the SRM check needs).

    The same ``sessions`` as ``sufficient_statistics`` counts, without computing any metric;
    with ``until``, only those that started before it. Pilot health checks the sample ratio of
    a running experiment so far this way.
    """
    params = query_parameters(spec)
    if until is not None:
        params["end_ts"] = min(params["end_ts"], until)
    rows = execute(
        con,
        answers_sql()
        + """
SELECT 'counted' AS level, variant, store_id, count(*) AS n
FROM sessions
GROUP BY GROUPING SETS ((variant), (store_id))
UNION ALL
SELECT 'mislabelled' AS level, variant, store_id, n FROM mislabelled
""",
        params,
    )
    data = MetricData()
    for level, variant, store_id, n in rows:
        if level == "mislabelled":
            data.add_mislabelled(store_id, variant, n)
        elif variant is not None:
            data.sessions_by_variant[variant] = int(n)
        else:
            data.sessions_by_store[store_id] = int(n)
    return data
