"""The one place with the SQL that turns ``events`` into metric values and sufficient statistics.

Python never sees events: one query reduces them, inside DuckDB, to per-session metric values
and then to (n, sum, sum of squares) per variant and per store. Values are always bound as
parameters, never pasted into SQL text.

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
    is kept for later within-store work such as CUPED). The query also returns Σd, Σd², Σm·d
    for every metric (d = 1 for a mean or proportion); only ratio metrics read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from experiments.statistics import RatioStatistic, SampleMeanStatistic, Statistic
from feedback.catalogue import CATALOGUE, Catalogue, Instrument, Metric
from feedback.events import team_event_sql

if TYPE_CHECKING:
    import duckdb

    from experiments.spec import ExperimentSpec

SESSIONS = "__sessions__"  # pseudo-metric: 1 per counted session

_HEAD_TEMPLATE = f"""
WITH ev AS (
    SELECT session_id, ts, variant, store_id, type, screen, element, task, question,
           "value", props
    FROM events
    WHERE experiment_id = $experiment_id
),
candidates AS (
    SELECT session_id, min(variant) AS variant, min(store_id) AS store_id
    FROM ev
    GROUP BY session_id
    HAVING min(ts) >= $start_ts AND min(ts) < $end_ts
       AND count(DISTINCT variant) = 1
       AND ($all_stores OR list_contains($stores, min(store_id)))
       AND bool_or({team_event_sql()}) IS NOT TRUE
),
assignment AS (
    SELECT unnest($assigned_stores) AS store_id, unnest($assigned_variants) AS assigned
),
labelled AS (
    SELECT c.session_id, c.variant, c.store_id, a.assigned
    FROM candidates c LEFT JOIN assignment a USING (store_id)
),
sessions AS (
    SELECT session_id, variant, store_id
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
),
answers AS (
    SELECT session_id, {{answer_task}} AS task, question, arg_max("value", ts) AS v
    FROM ev
    WHERE type = 'answer' AND question IS NOT NULL AND "value" IS NOT NULL AND {{answer_valid}}
    GROUP BY ALL
)"""


def answers_sql(catalogue: Catalogue = CATALOGUE) -> str:
    """The CTEs up to ``answers``: one row per session, task slot and question, holding the
    last answer on the item's scale (out-of-scale answers never hide an earlier valid one).

    The task slot is the answer's task for items of ``per_task`` instruments (each task scores
    on its own) and NULL for every other item (the session's last valid answer counts).
    """
    scored = catalogue.scored_instruments()
    per_task = [i for inst in scored if inst.per_task for i in inst.item_ids]
    task = f"CASE WHEN question IN ({_in_list(per_task)}) THEN task END" if per_task else "NULL"
    checks = " ".join(
        f"WHEN question IN ({_in_list(inst.item_ids)}) "
        f'THEN "value" BETWEEN {inst.scale[0]} AND {inst.scale[1]}'
        for inst in scored
    )
    valid = f"(CASE {checks} ELSE TRUE END)" if checks else "TRUE"
    return _HEAD_TEMPLATE.replace("{answer_task}", task).replace("{answer_valid}", valid)


def _in_list(ids) -> str:
    return ", ".join(_quote(i) for i in ids)


def _quote(text: str) -> str:
    """A SQL string literal. Only catalogue ids get here, checked against a strict pattern."""
    return "'" + text.replace("'", "''") + "'"


def _num(x: float) -> str:
    return repr(float(x))


def instrument_score_sql(inst: Instrument) -> str:
    """The aggregate over one session's ``answers`` rows that scores ``inst`` (NULL if unscored).

    Linear rules need every item answered on the scale; bucket rules take the single answer.
    """
    low, high = inst.scale or (0, 0)
    in_scale = f"v BETWEEN {low} AND {high}"
    items = ", ".join(_quote(i) for i in inst.item_ids)
    if inst.buckets:
        answer = f"max(v) FILTER (WHERE question = {_quote(inst.item_ids[0])} AND {in_scale})"
        cases = " ".join(
            f"WHEN {answer} >= {_num(b.at_least)} THEN {_num(b.score)}"
            for b in sorted(inst.buckets, key=lambda b: -b.at_least)
        )
        return f"CASE {cases} END"
    terms = " ".join(
        f"WHEN {_quote(i.id)} THEN {_num(i.offset)} + {_num(i.weight)} * v" for i in inst.items
    )
    return (
        f"CASE WHEN count(*) FILTER (WHERE question IN ({items}) AND {in_scale}) "
        f"= {len(inst.items)} THEN {_num(inst.factor)} * sum(CASE question {terms} END) "
        f"FILTER (WHERE question IN ({items}) AND {in_scale}) END"
    )


def _behaviour_columns(metrics: list[Metric], source: str) -> str:
    """The per-session aggregates of behavioural metrics: ``sql AS id``, or for a ratio
    metric its numerator and denominator as ``id__num`` and ``id__den``."""
    items = []
    for m in metrics:
        if m.is_ratio:
            items += [f"{m.numerator_sql} AS {m.id}__num", f"{m.denominator_sql} AS {m.id}__den"]
        else:
            items.append(f"{m.sql} AS {m.id}")
    return ",\n           ".join(items) or f"NULL AS _no_{source}_metric"


def _per_session_columns(metrics: list[Metric]) -> str:
    """One DOUBLE column per metric (a ratio metric's is the session's own m/d, for reading),
    then each ratio metric's numerator and denominator."""
    values = [
        f"CAST(m.{m.id}__num AS DOUBLE) / nullif(CAST(m.{m.id}__den AS DOUBLE), 0) AS {m.id}"
        if m.is_ratio
        else f"CAST(m.{m.id} AS DOUBLE) AS {m.id}"
        for m in metrics
    ]
    parts = [
        f"CAST(m.{m.id}__{part} AS DOUBLE) AS {m.id}__{part}"
        for m in metrics
        if m.is_ratio
        for part in ("num", "den")
    ]
    return ",\n           ".join(values + parts)


def _long_sql(metrics: list[Metric]) -> str:
    """(session, variant, store, metric, value, den) rows: den = 1 for a mean or proportion, the
    session's denominator for a ratio metric (value is then its numerator)."""
    plain = [m.id for m in metrics if not m.is_ratio]
    parts = []
    if plain:
        parts.append(
            'SELECT session_id, variant, store_id, metric, "value", 1.0 AS den\n'
            "    FROM (UNPIVOT per_session "
            f'ON {", ".join(plain)} INTO NAME metric VALUE "value")'
        )
    parts += [
        f"SELECT session_id, variant, store_id, '{m.id}' AS metric, {m.id}__num AS \"value\", "
        f"{m.id}__den AS den\n    FROM per_session "
        f"WHERE {m.id}__den > 0 AND {m.id}__num IS NOT NULL"
        for m in metrics
        if m.is_ratio
    ]
    parts.append(
        f"SELECT session_id, variant, store_id, '{SESSIONS}' AS metric, 1.0 AS \"value\", "
        "1.0 AS den FROM per_session"
    )
    return "\n    UNION ALL\n    ".join(parts)


def _columns(metrics: list[Metric], expression, source: str) -> str:
    columns = ",\n           ".join(f"{expression(m)} AS {m.id}" for m in metrics)
    return columns or f"NULL AS _no_{source}_metric"


def _score(catalogue: Catalogue, metric: Metric) -> str:
    return instrument_score_sql(catalogue.instrument(metric.id))


def per_session_sql(catalogue: Catalogue = CATALOGUE) -> str:
    """The CTEs that end in ``per_session`` (one row per counted session, one column per
    metric) and ``long`` (variant, store, metric, value), built from the catalogue."""
    metrics = list(catalogue.metrics.values())
    by_source = {src: [m for m in metrics if m.source == src] for src in ("events", "tasks")}
    scored = [m for m in metrics if m.source == "instrument"]
    per_task = [m for m in scored if catalogue.instrument(m.id).per_task]
    whole = [m for m in scored if m not in per_task]
    return f"""{answers_sql(catalogue)},
event_metrics AS (
    SELECT session_id,
           {_behaviour_columns(by_source["events"], "event")}
    FROM ev
    GROUP BY session_id
),
task_metrics AS (
    SELECT session_id,
           {_behaviour_columns(by_source["tasks"], "task")}
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
    FROM answers
    GROUP BY session_id, task
),
per_task_metrics AS (
    SELECT session_id,
           {_columns(per_task, lambda m: f"avg({m.id})", "per_task")}
    FROM task_scores
    GROUP BY session_id
),
m AS (
    SELECT * FROM event_metrics
    LEFT JOIN task_metrics USING (session_id)
    LEFT JOIN instrument_metrics USING (session_id)
    LEFT JOIN per_task_metrics USING (session_id)
),
per_session AS (
    SELECT s.session_id, s.variant, s.store_id,
           {_per_session_columns(metrics)}
    FROM sessions s
    JOIN m USING (session_id)
),
long AS (
    {_long_sql(metrics)}
)
"""


def sufficient_statistics_sql(catalogue: Catalogue = CATALOGUE) -> str:
    """Per-variant and per-store (n, Σ value, Σ value²) of every metric, in one query."""
    return (
        per_session_sql(catalogue)
        + """
SELECT CASE WHEN grouping(variant) = 0 THEN 'variant' ELSE 'store' END AS level,
       variant, store_id, metric,
       count(*) AS n, sum("value") AS sum, sum("value" * "value") AS sum_squares,
       sum(den) AS sum_den, sum(den * den) AS sum_den_squares, sum("value" * den) AS sum_products
FROM long
GROUP BY GROUPING SETS ((variant, metric), (store_id, metric))
UNION ALL
SELECT 'mislabelled' AS level, variant, store_id, '__sessions__' AS metric, n,
       NULL AS sum, NULL AS sum_squares, NULL, NULL, NULL
FROM mislabelled
ORDER BY level, variant, store_id, metric
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


def sufficient_statistics(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> MetricData:
    """Run the reduction for ``spec`` on an open connection (read-only is enough)."""
    rows = con.execute(sufficient_statistics_sql(), query_parameters(spec)).fetchall()
    data = MetricData()
    for level, variant, store_id, metric, n, total, squares, *den_sums in rows:
        if level == "mislabelled":
            data.add_mislabelled(store_id, variant, n)
            continue
        if metric == SESSIONS:
            target = data.sessions_by_variant if level == "variant" else data.sessions_by_store
            target[variant if level == "variant" else store_id] = int(n)
            continue
        stat = _statistic(metric, int(n), float(total), float(squares), den_sums)
        if level == "variant":
            data.by_variant.setdefault(variant, {})[metric] = stat
        else:
            data.by_store.setdefault(store_id, {})[metric] = stat
    return data


def _statistic(metric: str, n: int, total: float, squares: float, den_sums) -> Statistic:
    """The sufficient statistic of one metric in one variant or store, from its SQL row."""
    measure = CATALOGUE.metrics.get(metric)
    if measure is None or not measure.is_ratio:
        return SampleMeanStatistic(n=n, sum=total, sum_squares=squares)
    den, den_squares, products = (float(x) for x in den_sums)
    return RatioStatistic(
        n=n,
        m_statistic=SampleMeanStatistic(n, total, squares),
        d_statistic=SampleMeanStatistic(n, den, den_squares),
        m_d_sum_of_products=products,
    )


def per_session_values(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> list[tuple]:
    """Per-session metric values (session_id, variant, store_id, one column per metric; a
    ratio metric's is the session's own ratio), for tests and debugging."""
    columns = ", ".join(["session_id", "variant", "store_id", *CATALOGUE.metrics])
    return con.execute(
        per_session_sql() + f"SELECT {columns} FROM per_session ORDER BY session_id",
        query_parameters(spec),
    ).fetchall()


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
    rows = con.execute(
        answers_sql()
        + """
SELECT 'counted' AS level, variant, store_id, count(*) AS n
FROM sessions
GROUP BY GROUPING SETS ((variant), (store_id))
UNION ALL
SELECT 'mislabelled' AS level, variant, store_id, n FROM mislabelled
""",
        params,
    ).fetchall()
    data = MetricData()
    for level, variant, store_id, n in rows:
        if level == "mislabelled":
            data.add_mislabelled(store_id, variant, n)
        elif variant is not None:
            data.sessions_by_variant[variant] = int(n)
        else:
            data.sessions_by_store[store_id] = int(n)
    return data


# --- slices: by day, device and locale (results over time, breakdowns) -------------------------

SLICE_DIMENSIONS = ("day", "device", "locale")


def slice_statistics_sql(metric_ids: list[str], catalogue: Catalogue = CATALOGUE) -> str:
    """(n, Σ, Σ²) of ``metric_ids`` per variant and store, cut three ways in one GROUP BY: by the
    local day of the session's first event, by its device and by its locale.

    The same counted sessions and per-session values as ``sufficient_statistics``. A session's
    device is the one of its first event; its locale is ``props.locale`` of its first
    ``session_start`` (the runtime and the simulator write it there; NULL when it has none).
    """
    ids = [m for m in metric_ids if m in catalogue.metrics]
    return (
        per_session_sql(catalogue)
        + f""",
facts AS (
    SELECT session_id,
           CAST(timezone($time_zone, min(ts)) AS DATE) AS day,
           arg_min(device, ts) AS device,
           arg_min(json_extract_string(props, '$.locale'), ts)
               FILTER (WHERE type = 'session_start') AS locale
    FROM events
    WHERE experiment_id = $experiment_id
    GROUP BY session_id
),
sliced_long AS (
    SELECT variant, store_id, day, device, locale, metric, "value", den
    FROM long JOIN facts USING (session_id)
    WHERE metric IN ({_in_list([*ids, SESSIONS])})
)
SELECT CASE WHEN grouping(day) = 0 THEN 'day' WHEN grouping(device) = 0 THEN 'device'
            ELSE 'locale' END AS dimension,
       variant, store_id, day, device, locale, metric,
       count(*) AS n, sum("value") AS sum, sum("value" * "value") AS sum_squares,
       sum(den) AS sum_den, sum(den * den) AS sum_den_squares, sum("value" * den) AS sum_products
FROM sliced_long
GROUP BY GROUPING SETS ((variant, store_id, day, metric), (variant, store_id, device, metric),
                        (variant, store_id, locale, metric))
"""
    )


SliceKey = tuple[str, str, object]  # (variant, store, day | device | locale)


@dataclass
class SliceData:
    """Sufficient statistics per (variant, store, segment value) for each slice dimension.

    ``cells[dimension][(variant, store, value)][metric]``; the pseudo-metric ``SESSIONS`` holds
    the counted sessions. ``value`` is a ``date`` for ``day`` and a string or None otherwise.
    """

    time_zone: str
    cells: dict[str, dict[SliceKey, dict[str, SampleMeanStatistic]]] = field(
        default_factory=lambda: {d: {} for d in SLICE_DIMENSIONS}
    )

    def metric_data(self, dimension: str, keep) -> MetricData:
        """The ``MetricData`` of the cells of ``dimension`` whose key ``keep(key)`` accepts:
        per variant and per store, summed over the kept cells (what ``analysis`` reads)."""
        data = MetricData()
        for key, stats in self.cells[dimension].items():
            if keep(key):
                add_cell(data, key[0], key[1], stats)
        return data


def add_cell(data: MetricData, variant: str, store: str, stats: dict) -> None:
    """Add one cell's statistics of ``variant`` in ``store`` to ``data`` (in place)."""
    for metric, stat in stats.items():
        if metric == SESSIONS:
            data.sessions_by_variant[variant] = data.sessions_by_variant.get(variant, 0) + stat.n
            data.sessions_by_store[store] = data.sessions_by_store.get(store, 0) + stat.n
            continue
        for target, name in ((data.by_variant, variant), (data.by_store, store)):
            row = target.setdefault(name, {})
            row[metric] = row[metric] + stat if metric in row else stat


def slice_statistics(
    con: duckdb.DuckDBPyConnection, spec: ExperimentSpec, time_zone: str = "UTC"
) -> SliceData:
    """Run the slice query for ``spec``: days are local days in ``time_zone`` (an IANA name)."""
    metric_ids = [m for m, _role in spec.metric_roles()]
    params = {**query_parameters(spec), "time_zone": time_zone}
    rows = con.execute(slice_statistics_sql(metric_ids), params).fetchall()
    data = SliceData(time_zone)
    for dimension, variant, store, day, device, locale, metric, n, total, squares, *den in rows:
        value = {"day": day, "device": device, "locale": locale}[dimension]
        stat = _statistic(metric, int(n), float(total), float(squares), den)
        data.cells[dimension].setdefault((variant, store, value), {})[metric] = stat
    return data
