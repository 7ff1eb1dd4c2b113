"""The one place with the SQL that turns ``events`` into metric values and sufficient statistics.

Python never sees events: one query reduces them, inside DuckDB, to per-session metric values
and then to (n, sum, sum of squares) per variant and per store (and, for the read-out's
results over time and breakdowns, per variant, store and local day, device or locale). The
spec's values enter the SQL only through ``execute`` (``$name`` placeholders written as quoted
literals by one function; see there why not bound parameters).

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
    A journey across devices is one unit (``session_id`` below is the unit's id): a session that
    continued a journey (unless ``journey_arm: gone``) adds its events from that point to the
    journey's first session, whose arm was drawn (docs/architecture.md, "A journey keeps its
    experiment arm across devices").

Per-session metrics (NULL = the session has no value and is left out of that metric)
    Every metric of ``feedback.catalogue.CATALOGUE``, in catalogue order, and the spec's own
    goal:/question: metrics (``experiments.measures``). Behavioural metrics are aggregates
    over the session's events or its task runs (each metric's ``sql``):
    task_success_rate  per started task 1 if a ``task_success`` followed, else 0; the mean.
    time_on_task_s     per started task: seconds from its first ``task_start`` to its end,
                       the first ``task_success``/``task_fail``/``task_abandon`` (give up,
                       idle timeout, exit); the mean over the session's ended tasks.
    misclick_rate      a ratio metric: the session's misclicks (numerator) and taps +
                       misclicks (denominator); no value without any tap or misclick.
    completion_rate    1 if the session ended with ``props.reason = 'completed'``, else 0.
    Instrument metrics are scored from the session's answers by the instrument's rule (linear:
    every item answered on its scale, ``factor · Σ(offset + weight · answer)``; buckets: the
    first bucket the single answer reaches). Answers outside the item's scale are ignored; of
    the rest, the last answer to a question counts, so an out-of-scale answer never hides an
    earlier valid one. A ``per_task`` instrument (SEQ, asked after several tasks) scores per
    task (its last valid answers after that task) and the session's value is the mean of its
    scored tasks; an answer without a task is one more such slot.

Ratio metrics (``Metric.is_ratio``: ``numerator_sql`` / ``denominator_sql``)
    Each session has a numerator m and a denominator d (``<id>__num``, ``<id>__den`` in
    ``per_session``; its ``<id>`` column is the session's own m/d, for reading only). A session
    with d = 0 has no value. The statistics are gbstats' ``RatioStatistic`` with sessions as
    units: n, Σm, Σm², Σd, Σd², Σm·d, so the variant's value is Σm/Σd (a ratio of totals, not
    a mean of ratios) with its delta-method variance. A new ratio metric needs only its two
    aggregates in the catalogue.

Per-unit statistics
    by variant: n (sessions with a value), Σ value, Σ value² for each metric; "sessions" = all
    counted sessions. By store: the same per store (the store-level test uses n and Σ value as
    denominator and numerator of a ratio-of-sums metric, Σd and Σm for a ratio metric; Σ value²
    is kept for later within-store work such as CUPED). For ratio metrics the query also
    returns Σd, Σd², Σm·d.

Slices (``statistics_with_slices``; results over time and breakdowns)
    The same statistics per variant × store × one of: the local day of the session's first
    event (an IANA time zone, the lab's ``[pilot] timezone``), its device (of its first event),
    and from its ``session_start``'s props (a later handover tap's, when it took one) its
    locale, persona and each context variable (``START_FACTS``; NULL when it has none). They
    are more grouping sets of the same query: the counted sessions are the analysis' own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from experiments.journey_units import ev_sql, has_journeys
from experiments.measures import catalogue_for, column
from experiments.statistics import RatioStatistic, SampleMeanStatistic, Statistic
from feedback.catalogue import CATALOGUE, Catalogue, Instrument, Metric
from feedback.events import CONTEXT_VARIABLES, HANDOVER_REASON, team_event_sql
from feedback.store import sql_literal

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from experiments.spec import ExperimentSpec

SESSIONS = "__sessions__"  # pseudo-metric: 1 per counted session
# session_start props behind the slices after day and device, parsed once as a list of paths
START_FACTS = {"locale": "$.locale", "persona": "$.persona",
               **{v: f"$.context.{v}" for v in CONTEXT_VARIABLES}}  # fmt: skip
SLICE_DIMENSIONS = ("day", "device", *START_FACTS)

# Why the query has this shape (docs/architecture.md, "Analysis at scale"; bench/analyze_scale.py):
# ``ev`` is inlined (NOT MATERIALIZED), so each reader scans the table for just its columns
# instead of DuckDB copying every event of the experiment into a temporary CTE result; who
# counts, the event metrics and the slice attributes come from one GROUP BY per session; scores
# use CASE inside plain aggregates (a FILTER is one more pass); and the statistics aggregate
# the wide per-session rows directly (GROUPING SETS), one result row per unit.
# ``ev`` gives each event under its unit's id: a journey across devices is one unit
# (``experiments.journey_units``; the plain ``ev`` when the experiment has no journeys).
_HEAD_TEMPLATE = f"""
WITH {{ev}},
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
           coalesce(min(CASE WHEN type IN ('task_success', 'task_fail') OR type = 'task_abandon'
                        AND json_extract_string(props, '$.reason') IS DISTINCT FROM
                            '{HANDOVER_REASON}' THEN ts END),
                    min(ts) FILTER (WHERE type = 'task_abandon')) AS ended_at,
           bool_or(type = 'task_success') AS succeeded
    FROM ev
    WHERE task IS NOT NULL
      AND type IN ('task_start', 'task_success', 'task_fail', 'task_abandon')
    GROUP BY session_id, task
)"""

# The slice attributes, aggregated with the rest in ``session_events``: the device of the
# first event, ``START_FACTS`` of the session_start, or of a later handover it received (a
# keypad tap with ``handover``; the CASE parses only those props; arg_max skips the NULLs).
_SLICE_COLUMNS = f""",
           arg_min(device, ts) AS _device,
           arg_max(CASE WHEN type = 'session_start' OR type = 'tap' AND contains(CAST(props AS
                   VARCHAR), '"handover"') THEN json_extract_string(props,
                   {list(START_FACTS.values())}) END, ts) AS _start_facts"""


def answers_sql(
    catalogue: Catalogue = CATALOGUE, *, slices: bool = False, journeys: bool = True
) -> str:
    """The CTEs up to the answers: ``sessions`` (the counted sessions: ``session_id``,
    ``variant``, ``store_id`` and the aggregates of every ``source="events"`` metric; with
    ``slices`` also ``_first_ts``, ``_device``, ``_start_facts``), ``mislabelled``, ``task_runs``,
    ``answers`` (session, question, v) and ``task_answers`` (session, task slot, question, v).

    ``v`` is the last answer on the item's scale, so an out-of-scale answer never hides an
    earlier valid one. ``answers`` has the items of instruments scored once per session,
    ``task_answers`` those of ``per_task`` instruments (SEQ: each task scores on its own; an
    answer without a task is one more slot, task NULL).
    """
    scored = catalogue.scored_instruments()
    events = [m for m in catalogue.metrics.values() if m.source == "events"]
    event_columns = "".join(",\n           " + c for c in _behaviour_columns(events))
    if slices:
        event_columns += _SLICE_COLUMNS
    whole = [inst for inst in scored if not inst.per_task]
    per_task = [inst for inst in scored if inst.per_task]
    return (
        _HEAD_TEMPLATE.replace("{event_columns}", event_columns).replace("{ev}", ev_sql(journeys))
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


def _behaviour_columns(metrics: list[Metric]) -> list[str]:
    """The per-session aggregates of behavioural metrics: ``sql AS id``, or for a ratio
    metric its numerator and denominator as ``id__num`` and ``id__den``."""
    items = []
    for m in metrics:
        if m.is_ratio:
            items += [
                f"{m.numerator_sql} AS {column(m.id, '__num')}",
                f"{m.denominator_sql} AS {column(m.id, '__den')}",
            ]
        else:
            items.append(f"{m.sql} AS {column(m.id)}")
    return items


def _columns(items: list[str], source: str) -> str:
    return ",\n           ".join(items) or f"NULL AS _no_{source}_metric"


def _score(catalogue: Catalogue, metric: Metric) -> str:
    return instrument_score_sql(catalogue.instrument(metric.id))


def _per_session_columns(metrics: list[Metric]) -> str:
    """One DOUBLE column per metric (a ratio metric's is the session's own m/d, for reading),
    then each ratio metric's numerator and denominator, both NULL unless the session counts
    in it (d > 0 and m not NULL): the statistics aggregate exactly those."""
    values, parts = [], []
    for m in metrics:
        col = column(m.id)
        if not m.is_ratio:
            values.append(f"CAST({col} AS DOUBLE) AS {col}")
            continue
        num_col, den_col = column(m.id, "__num"), column(m.id, "__den")
        num, den = f"CAST({num_col} AS DOUBLE)", f"CAST({den_col} AS DOUBLE)"
        counts = f"{den} > 0 AND {num} IS NOT NULL"
        values.append(f"CASE WHEN {counts} THEN {num} / {den} END AS {col}")
        parts += [
            f"CASE WHEN {counts} THEN {num} END AS {num_col}",
            f"CASE WHEN {counts} THEN {den} END AS {den_col}",
        ]
    return ",\n           ".join(values + parts)


def per_session_sql(
    catalogue: Catalogue = CATALOGUE, *, slices: bool = False, journeys: bool = True
) -> str:
    """The CTEs that end in ``per_session``: one row per counted session (``session_id``,
    ``variant``, ``store_id``), one DOUBLE column per metric in catalogue order, then each
    ratio metric's ``id__num`` and ``id__den``; with ``slices`` also the session's local
    ``day`` (in ``$time_zone``), ``device`` and ``locale``.

    A ``per_task`` instrument's session value is the mean over its scored task slots.
    """
    metrics = list(catalogue.metrics.values())
    tasks = [m for m in metrics if m.source == "tasks"]
    scored = [m for m in metrics if m.source == "instrument"]
    per_task = [m for m in scored if catalogue.instrument(m.id).per_task]
    whole = [m for m in scored if m not in per_task]
    facts = (
        ",\n           CAST(timezone($time_zone, _first_ts) AS DATE) AS day, "
        "_device AS device, "
        + ", ".join(f"_start_facts[{i}] AS {name}" for i, name in enumerate(START_FACTS, 1))
        if slices
        else ""
    )
    return f"""{answers_sql(catalogue, slices=slices, journeys=journeys)},
task_metrics AS (
    SELECT session_id,
           {_columns(_behaviour_columns(tasks), "task")}
    FROM task_runs
    GROUP BY session_id
),
instrument_metrics AS (
    SELECT session_id,
           {_columns([f"{_score(catalogue, m)} AS {m.id}" for m in whole], "instrument")}
    FROM answers
    GROUP BY session_id
),
task_scores AS (
    SELECT session_id, task,
           {_columns([f"{_score(catalogue, m)} AS {m.id}" for m in per_task], "per_task")}
    FROM task_answers
    GROUP BY session_id, task
),
per_task_metrics AS (
    SELECT session_id,
           {_columns([f"avg({m.id}) AS {m.id}" for m in per_task], "per_task")}
    FROM task_scores
    GROUP BY session_id
),
per_session AS (
    SELECT session_id, variant, store_id,
           {_per_session_columns(metrics)}{facts}
    FROM sessions
    LEFT JOIN task_metrics USING (session_id)
    LEFT JOIN instrument_metrics USING (session_id)
    LEFT JOIN per_task_metrics USING (session_id)
)
"""


def _moments(m: Metric) -> list[str]:
    """n, Σ x, Σ x² of one metric's per-session column (NULLs left out); for a ratio metric
    n, Σm, Σm², Σd, Σd², Σm·d.

    ``fsum`` (compensated) rather than ``sum``: a plain sum's last bits depend on the order
    DuckDB meets the rows, which changes with the grouping sets, so the read-out's analysis
    (with slices) and ``analyze`` (without) could differ by rounding; and it is more exact.
    """
    if not m.is_ratio:
        col = column(m.id)
        return [f"count({col})", f"fsum({col})", f"fsum({col} * {col})"]
    num, den = column(m.id, "__num"), column(m.id, "__den")
    sums = [num, f"{num} * {num}", den, f"{den} * {den}", f"{num} * {den}"]
    return [f"count({num})", *(f"fsum({s})" for s in sums)]


def sufficient_statistics_sql(
    catalogue: Catalogue = CATALOGUE, *, slices=False, dims=(), journeys: bool = True
) -> str:
    """Per-variant and per-store statistics of every metric, one wide row per unit: level
    ('variant', 'store'; with ``slices`` also each of ``SLICE_DIMENSIONS`` per variant and
    store), variant, store_id, the ``SLICE_DIMENSIONS``, counted sessions, ``_moments`` of each
    metric in catalogue order; then one 'mislabelled' row per store and wrong label (its count
    in the sessions column). ``read_statistics`` reads them.

    The per-session rows are aggregated once for all grouping sets; the slices' sets group
    sessions (not events), so they add little to the query. ``dims``: the slices grouped (the
    others' columns stay NULL; () = all; ``experiments.profile_slices`` leaves out what nobody
    recorded).
    """
    metrics = list(catalogue.metrics.values())
    moments = [c for m in metrics for c in _moments(m)]
    sets, level = "(variant), (store_id)", ""
    keys = ", ".join(f"NULL AS {d}" for d in SLICE_DIMENSIONS)
    used = [d for d in SLICE_DIMENSIONS if d in (dims or SLICE_DIMENSIONS)] if slices else [""]
    if slices:
        sets += "".join(f", (variant, store_id, {d})" for d in used)
        level = "".join(f"WHEN grouping({d}) = 0 THEN '{d}' " for d in used[:-1])
        keys = ", ".join(d if d in used else f"NULL AS {d}" for d in SLICE_DIMENSIONS)
    padding = ", NULL" * len(moments)
    last = used[-1]
    return (
        per_session_sql(catalogue, slices=slices, journeys=journeys)
        + f"""SELECT CASE WHEN grouping(store_id) = 1 THEN 'variant'
            WHEN grouping(variant) = 1 THEN 'store' {level}ELSE '{last}' END AS level,
       variant, store_id, {keys}, count(*) AS sessions,
       {", ".join(moments)}
FROM per_session
GROUP BY GROUPING SETS ({sets})
UNION ALL
SELECT 'mislabelled', variant, store_id, {", ".join(["NULL"] * len(SLICE_DIMENSIONS))}, n{padding}
FROM mislabelled
"""
    )


@dataclass
class MetricData:
    """Sufficient statistics of one experiment, as the SQL returned them."""

    # a ratio metric's statistics are RatioStatistic (sessions as units), the others'
    # SampleMeanStatistic
    by_variant: dict[str, dict[str, Statistic]] = field(default_factory=dict)
    sessions_by_variant: dict[str, int] = field(default_factory=dict)
    by_store: dict[str, dict[str, Statistic]] = field(default_factory=dict)
    sessions_by_store: dict[str, int] = field(default_factory=dict)
    # unit=store: store -> {variant label it sent: sessions}, for sessions whose label is not
    # the variant the spec assigns to that store; they count in no metric and not in the SRM
    mislabelled_sessions: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_mislabelled(self, store_id: str, variant: str, n: int) -> None:
        """Record ``n`` sessions of ``store_id`` that carried the wrong label ``variant``."""
        self.mislabelled_sessions.setdefault(store_id, {})[variant] = int(n)


def query_parameters(spec: ExperimentSpec) -> dict:
    """The ``$name`` values of the metric SQL for one experiment spec."""
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
    explains.
    """
    return con.execute(render(sql, params)).fetchall()


def render(sql: str, params: dict, literal: Callable[[object], str] | None = None) -> str:
    """``sql`` with each ``$name`` of ``params`` replaced by ``literal(value)`` (default
    ``sql_value``; ``experiments.spark`` passes Spark's). Only the names in ``params`` are
    replaced (``'$.reason'`` in a JSON path is not a name)."""
    if not params:
        return sql
    literal = literal or sql_value
    pattern = (
        r"\$(" + "|".join(re.escape(k) for k in sorted(params, key=len, reverse=True)) + r")\b"
    )
    return re.sub(pattern, lambda m: literal(params[m.group(1)]), sql)


def sufficient_statistics(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> MetricData:
    """Run the reduction for ``spec`` on an open connection (read-only is enough)."""
    catalogue = catalogue_for(spec)
    sql = sufficient_statistics_sql(catalogue, journeys=has_journeys(con, spec.id))
    return read_statistics(execute(con, sql, query_parameters(spec)), catalogue=catalogue)[0]


def read_statistics(
    rows: list[tuple],
    slices=None,
    keep: set[str] | None = None,
    catalogue: Catalogue = CATALOGUE,
) -> tuple[MetricData, object]:
    """The rows of ``sufficient_statistics_sql(catalogue)`` as ``MetricData`` and, into
    ``slices`` (a ``slice_statistics.SliceData``, whose module builds on this one), the rows of
    each of ``SLICE_DIMENSIONS`` with the metrics in ``keep``."""
    metrics = list(catalogue.metrics.values())
    data = MetricData()
    dims = len(SLICE_DIMENSIONS)
    for level, variant, store_id, *rest in rows:
        facts, sessions, moments = rest[:dims], rest[dims], rest[dims + 1 :]
        if level == "mislabelled":
            data.add_mislabelled(store_id, variant, sessions)
            continue
        stats = {SESSIONS: SampleMeanStatistic(int(sessions), float(sessions), float(sessions))}
        at = 0
        for m in metrics:
            width = 6 if m.is_ratio else 3
            values = moments[at : at + width]
            at += width
            if values[0]:  # sessions with a value; none: no statistic
                stats[m.id] = _statistic(m, int(values[0]), *map(float, values[1:3]), values[3:])
        if level in SLICE_DIMENSIONS:
            value = facts[SLICE_DIMENSIONS.index(level)]
            cell = {k: s for k, s in stats.items() if keep is None or k in keep}
            slices.cells[level][(variant, store_id, value)] = cell
            continue
        counts = data.sessions_by_variant if level == "variant" else data.sessions_by_store
        counts[variant if level == "variant" else store_id] = int(sessions)
        del stats[SESSIONS]
        target = data.by_variant if level == "variant" else data.by_store
        target[variant if level == "variant" else store_id] = stats
    return data, slices


def _statistic(measure: Metric, n: int, total: float, squares: float, den_sums) -> Statistic:
    """The sufficient statistic of one metric in one unit, from its SQL moments."""
    if not measure.is_ratio:
        return SampleMeanStatistic(n=n, sum=total, sum_squares=squares)
    den, den_squares, products = (float(x) for x in den_sums)
    return RatioStatistic(
        n=n,
        m_statistic=SampleMeanStatistic(n, total, squares),
        d_statistic=SampleMeanStatistic(n, den, den_squares),
        m_d_sum_of_products=products,
    )


def per_session_values(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> list[tuple]:
    """Per-session values (session_id, variant, store_id, a column per metric), for tests."""
    catalogue = catalogue_for(spec)
    columns = ", ".join(["session_id", "variant", "store_id", *map(column, catalogue.metrics)])
    return execute(
        con,
        per_session_sql(catalogue) + f"SELECT {columns} FROM per_session ORDER BY session_id",
        query_parameters(spec),
    )


def session_counts(
    con: duckdb.DuckDBPyConnection, spec: ExperimentSpec, *, until: datetime | None = None
) -> MetricData:
    """Only the counted sessions per variant and per store (what the SRM check needs).

    The same ``sessions`` as ``sufficient_statistics`` counts, without any metric; with
    ``until``, only those that started before it (pilot health's SRM so far)."""
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
