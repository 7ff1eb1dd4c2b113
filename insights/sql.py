"""The SQL of the insights room: every query over ``events`` that ``insights`` runs.

One place, in sections; each section says which module calls it. Values are bound as
parameters (``$name``; NULL = no filter), never pasted into SQL text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from experiments.metrics import instrument_score_sql
from feedback.catalogue import CATALOGUE, Catalogue
from feedback.events import HANDOVER_REASON, session_journeys_sql, team_event_sql

if TYPE_CHECKING:
    import duckdb

# === Usability: task runs, screens, paths, answers (insights.usability) =========================
#
# A *run* is one customer's go at one task: from its first ``task_start`` to its first end
# event, as ``experiments.metrics`` times it. The runtime writes ``task`` only on ``task_*``
# events and answers, not on screen views, taps and misclicks, so those are given to the run of
# their session whose time window holds them (a hash join on the session, then the window: from
# the run's start to its end, or to the next run's start when it never ended).
#
# Journeys across devices (issue 15): a session that continued a handover is read as part of
# its journey (``session_id`` in the ``usab_*`` tables is the journey id: the first session's
# id; ``usab_journeys`` maps the few sessions that wrote one), so a task started on the phone
# and finished on the kiosk is one run, its path crossing devices. The sending device's
# ``task_abandon`` with reason ``handover`` does not end the run, and each device's part of the
# run begins at its own ``task_start`` (``usab_own_starts``). ``$persona`` keeps the journeys
# whose first ``session_start`` ran under that persona (``usab_persona``; 'anonymous': none).
#
# Three scans of ``events``, each reading only its own event types and a few narrow columns
# (nothing is materialised wider than it is used), into temporary tables:
#   ``usab_ends``    one row per session and task: start, end, end type, reason (task events);
#   ``usab_clicks``  screen views, taps and misclicks with the run they belong to;
#   ``usab_answers`` the answer events;
# then ``usab_team`` (sessions the team ran: never counted) and ``usab_runs``: one row per
# counted run with its screens in order (``path``) and the seconds on each (``dwell``: until
# the next screen or the run's end). Everything after that is a small aggregate. Why this
# shape (bench/usability_scale.py, docs/architecture.md "Usability report"): one wide
# materialised CTE of every event cost more than the three narrow scans; list lambdas that
# capture an outer column (``views[i + 1]``) copy the list per element (0.9 s of 2.1 s on 1.7M
# events), so ``dwell`` zips the sorted list with itself shifted by one instead.


def _run_filter(x: str = "") -> str:
    """The report's filters on events (alias prefix ``x``): version, variant, store, experiment,
    period, persona; ``$name`` NULL = no filter."""
    return f"""{x}prototype_id = $prototype AND {x}prototype_version = $version
      AND ($variant IS NULL OR {x}variant = $variant)
      AND ($store IS NULL OR {x}store_id = $store)
      AND ($experiment IS NULL OR {x}experiment_id = $experiment)
      AND ($since IS NULL OR {x}ts >= $since) AND ($until IS NULL OR {x}ts < $until)
      AND ($persona IS NULL OR coalesce(j.journey, {x}session_id) IN (
          SELECT unit FROM usab_persona))"""


_UNIT = "coalesce(j.journey, e.session_id)"
"""The unit a run belongs to: the session's journey, else the session itself."""

_RUN_SQL = f"""
CREATE OR REPLACE TEMP TABLE usab_journeys AS
{session_journeys_sql("prototype_id = $prototype")};

CREATE OR REPLACE TEMP TABLE usab_persona AS
SELECT coalesce(j.journey, s.session_id) AS unit
FROM events s LEFT JOIN usab_journeys j USING (session_id)
WHERE $persona IS NOT NULL AND s.prototype_id = $prototype AND s.type = 'session_start'
GROUP BY ALL
HAVING arg_min(coalesce(json_extract_string(s.props, '$.persona'), 'anonymous'), s.ts)
       = $persona;

CREATE OR REPLACE TEMP TABLE usab_own_starts AS
SELECT e.session_id AS sid, e.task, min(e.ts) AS own_start
FROM events e
WHERE e.session_id IN (SELECT session_id FROM usab_journeys)
  AND e.prototype_id = $prototype AND e.type = 'task_start'
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE usab_ends AS
SELECT {_UNIT} AS session_id, e.task, min(e.variant) AS variant,
       min(e.ts) FILTER (WHERE e.type = 'task_start') AS started_at,
       min(e.ts) FILTER (WHERE e.type <> 'task_start') AS ended_at,
       arg_min(e.type, e.ts) FILTER (WHERE e.type <> 'task_start') AS end_type,
       -- only an abandon's reason matters (idle: a timeout); only those props are parsed
       arg_min(CASE WHEN e.type = 'task_abandon'
                    THEN coalesce(json_extract_string(e.props, '$.reason'), '') ELSE '' END,
               e.ts) FILTER (WHERE e.type <> 'task_start') AS reason,
       bool_or({team_event_sql("e.props")}) AS team
FROM events e LEFT JOIN usab_journeys j USING (session_id)
WHERE {_run_filter("e.")}
  AND e.type IN ('task_start', 'task_success', 'task_fail', 'task_abandon')
  AND e.task IS NOT NULL
  AND NOT (e.type = 'task_abandon' AND j.journey IS NOT NULL
           AND coalesce(json_extract_string(e.props, '$.reason'), '') = '{HANDOVER_REASON}')
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE usab_clicks AS
WITH runs AS (
    SELECT session_id, task, started_at, ended_at,
           lead(started_at) OVER (PARTITION BY session_id ORDER BY started_at) AS next_start
    FROM usab_ends WHERE started_at IS NOT NULL
)
SELECT r.session_id, r.task, e.ts, e.type, e.screen, {team_event_sql("e.props")} AS team
FROM events e LEFT JOIN usab_journeys j USING (session_id)
JOIN runs r ON r.session_id = {_UNIT}
LEFT JOIN usab_own_starts o ON o.sid = e.session_id AND o.task = r.task
WHERE {_run_filter("e.")}
  AND e.type IN ('screen_view', 'tap', 'misclick')
  AND e.ts >= coalesce(o.own_start, r.started_at)
  AND (r.ended_at IS NULL OR e.ts <= r.ended_at)
  AND (r.next_start IS NULL OR e.ts < r.next_start);

CREATE OR REPLACE TEMP TABLE usab_answers AS
SELECT {_UNIT} AS session_id, {{slot}} AS task, e.question, arg_max(e."value", e.ts) AS v,
       bool_or({team_event_sql("e.props")}) AS team
FROM events e LEFT JOIN usab_journeys j USING (session_id)
WHERE {_run_filter("e.")} AND e.type = 'answer'
  AND e.question IS NOT NULL AND e."value" IS NOT NULL AND {{valid}}
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE usab_team AS
SELECT session_id FROM usab_ends WHERE team
UNION SELECT session_id FROM usab_clicks WHERE team
UNION SELECT session_id FROM usab_answers WHERE team;

CREATE OR REPLACE TEMP TABLE usab_runs AS
WITH views AS (
    SELECT session_id, task, list_sort(list({{'t': epoch_us(ts), 'screen': screen}})) AS v
    FROM usab_clicks
    WHERE type = 'screen_view' AND session_id NOT IN (SELECT session_id FROM usab_team)
    GROUP BY session_id, task
),
runs AS (
    SELECT e.session_id, e.variant, e.task, e.started_at, e.ended_at, e.end_type, e.reason,
           coalesce(v.v, []) AS v
    FROM usab_ends e LEFT JOIN views v USING (session_id, task)
    WHERE e.started_at IS NOT NULL AND e.session_id NOT IN (SELECT session_id FROM usab_team)
)
SELECT session_id, variant, task, started_at, ended_at, end_type, reason,
       list_transform(v, x -> x.screen) AS path,
       list_transform(list_zip(v, list_append(v[2:], {{'t': epoch_us(ended_at), 'screen': NULL}})),
                      p -> (p[2].t - p[1].t) / 1e6) AS dwell
FROM runs
"""

OUTCOME_SQL = """CASE WHEN end_type = 'task_success' THEN 'success'
     WHEN end_type = 'task_fail' OR reason = 'idle' THEN 'timeout'
     WHEN end_type = 'task_abandon' THEN 'give_up'
     ELSE 'unfinished' END"""
"""A run's outcome: the runtime ends a task with ``task_fail`` at its ``time_limit_s`` and with
``task_abandon`` (``props.reason = "idle"``) at the idle timeout (both: timeout); a plain
``task_abandon`` is the customer's "I give up"; a run without an end event is unfinished (the
session stopped: a phone put away, a browser closed)."""

PATH_GROUPS_SQL = f"""
SELECT task, variant, {OUTCOME_SQL} AS outcome, path, count(*) AS n
FROM usab_runs
GROUP BY ALL
"""

TASK_TIMES_SQL = """
WITH targets AS (SELECT unnest($target_tasks) AS task, unnest($target_s) AS target_s),
t AS (
    SELECT task, (epoch_us(ended_at) - epoch_us(started_at)) / 1e6 AS s,
           end_type = 'task_success' AS ok
    FROM usab_runs
    WHERE ended_at IS NOT NULL AND ended_at >= started_at
),
q AS (
    SELECT task, count(*) AS n, avg(s) AS mean, min(s) AS lo, max(s) AS hi,
           quantile_cont(s, [0.1, 0.25, 0.5, 0.75, 0.9]) AS qs,
           greatest(quantile_cont(s, 0.95), 1e-9) AS top,
           count(*) FILTER (WHERE ok) AS successes,
           count(*) FILTER (WHERE ok AND s <= target_s) AS in_time
    FROM t LEFT JOIN targets USING (task) GROUP BY task
),
bins AS (
    SELECT t.task, least(floor(t.s / (q.top / $bins)), $bins - 1)::INTEGER AS bin, count(*) AS n
    FROM t JOIN q USING (task) GROUP BY ALL
)
SELECT q.task, q.n, q.mean, q.lo, q.hi, q.qs, q.top, q.successes, q.in_time,
       (SELECT list({'bin': bin, 'n': n} ORDER BY bin) FROM bins WHERE bins.task = q.task)
FROM q
"""
"""Per task: time on task (seconds from ``task_start`` to the run's end, every ended run, as
``experiments.metrics`` defines it; in integer microseconds, because subtracting two TIMESTAMPTZ
goes through ICU's calendar: 2 of this query's 3 s on 1M sessions): n, mean, min, max,
deciles/quartiles and a histogram of ``$bins`` equal bins up to the 95th percentile (the last
bin takes the rest); successful runs and those within the task's target seconds
(``$target_tasks`` / ``$target_s``)."""

TASK_CLICKS_SQL = """
WITH clicks AS (
    SELECT task, count(*) FILTER (WHERE type = 'misclick') AS misclicks,
           count(*) FILTER (WHERE type = 'tap') AS taps
    FROM usab_clicks
    WHERE type <> 'screen_view' AND session_id NOT IN (SELECT session_id FROM usab_team)
    GROUP BY task
)
SELECT task, r.runs, coalesce(c.misclicks, 0), coalesce(c.taps, 0)
FROM (SELECT task, count(*) AS runs FROM usab_runs GROUP BY task) r LEFT JOIN clicks c USING (task)
"""

SCREENS_SQL = """
WITH views AS (
    SELECT session_id, task, unnest(path) AS screen, unnest(dwell) AS s FROM usab_runs
),
per_run AS (
    SELECT task, screen, count(*) AS views, sum(s) AS s FROM views GROUP BY session_id, task, screen
),
seen AS (
    SELECT task, screen, sum(views) AS views, count(*) AS sessions, median(s) AS median_s
    FROM per_run GROUP BY task, screen
),
clicks AS (
    SELECT task, screen, count(*) FILTER (WHERE type = 'misclick') AS misclicks,
           count(*) FILTER (WHERE type = 'tap') AS taps
    FROM usab_clicks
    WHERE type <> 'screen_view' AND session_id NOT IN (SELECT session_id FROM usab_team)
    GROUP BY task, screen
)
SELECT task, screen, coalesce(views, 0), coalesce(sessions, 0), median_s,
       coalesce(misclicks, 0), coalesce(taps, 0)
FROM seen FULL JOIN clicks USING (task, screen)
WHERE screen IS NOT NULL
"""
"""Per task and screen: views, runs that saw it, the median over those runs of the seconds
spent on it (all its views in the run), misclicks and taps on it."""


def _run_sql(catalogue: Catalogue) -> str:
    """``_RUN_SQL`` with ``usab_answers`` for ``catalogue``: one row per session, task slot
    and question with the last answer on the item's scale (the slot is the task for items of a
    ``per_task`` instrument, else NULL), so an out-of-scale answer never hides a valid one."""
    scored = catalogue.scored_instruments()
    per_task = [i for inst in scored if inst.per_task for i in inst.item_ids]
    slot = f"CASE WHEN question IN ({_in_list(per_task)}) THEN task END" if per_task else "NULL"
    checks = " ".join(
        f"WHEN question IN ({_in_list(inst.item_ids)}) "
        f'THEN "value" BETWEEN {inst.scale[0]} AND {inst.scale[1]}'
        for inst in scored
    )
    valid = f"(CASE {checks} ELSE TRUE END)" if checks else "TRUE"
    return _RUN_SQL.replace("{slot}", slot).replace("{valid}", valid)


_LAST = """last AS (
    SELECT session_id, task, question, v FROM usab_answers
    WHERE session_id NOT IN (SELECT session_id FROM usab_team)
)"""


ANSWER_COUNTS_SQL = f"WITH {_LAST}\nSELECT task, question, v, count(*) FROM last GROUP BY ALL"
"""(task slot, question, answer, sessions): the distribution of every item's answers."""


def instrument_scores_sql(catalogue: Catalogue = CATALOGUE) -> str:
    """(task slot, instrument, n, mean, sd) of every scored instrument's score per session
    (per task slot for a ``per_task`` instrument), by the catalogue's scoring rule."""
    scored = catalogue.scored_instruments()
    if not scored:
        return "SELECT NULL, NULL, 0, NULL, NULL WHERE FALSE"
    columns = ",\n           ".join(
        f'{instrument_score_sql(inst)} AS "{inst.id}"' for inst in scored
    )
    stats = "\nUNION ALL\n".join(
        f'SELECT task, \'{inst.id}\', count("{inst.id}"), avg("{inst.id}"), '
        f'stddev_samp("{inst.id}") FROM scores GROUP BY task HAVING count("{inst.id}") > 0'
        for inst in scored
    )
    return (
        f"WITH {_LAST}"
        + f""",
scores AS (
    SELECT session_id, task,
           {columns}
    FROM last
    GROUP BY session_id, task
)
{stats}"""
    )


def _in_list(ids) -> str:
    return ", ".join("'" + i.replace("'", "''") + "'" for i in ids)


def usability_rows(
    con: duckdb.DuckDBPyConnection, params: dict, bins: int, targets: dict[str, float]
) -> dict[str, list]:
    """Run the usability queries on an open connection: builds the ``usab_*`` tables once
    (the three scans of ``events``), then the small aggregates over them; raw rows by part,
    and ``sessions``: the counted sessions with a run or an answer."""
    con.execute("SET enable_progress_bar = false")  # a reader draws nothing on the terminal
    for statement in _run_sql(CATALOGUE).split(";\n"):
        if statement.strip():
            con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
    return {
        "sessions": con.execute(SESSIONS_SQL).fetchone()[0],
        "paths": con.execute(PATH_GROUPS_SQL).fetchall(),
        "times": con.execute(
            TASK_TIMES_SQL,
            {
                "bins": bins,
                "target_tasks": list(targets) or [""],
                "target_s": [float(v) for v in targets.values()] or [0.0],
            },
        ).fetchall(),
        "clicks": con.execute(TASK_CLICKS_SQL).fetchall(),
        "screens": con.execute(SCREENS_SQL).fetchall(),
        "answers": con.execute(ANSWER_COUNTS_SQL).fetchall(),
        "scores": con.execute(instrument_scores_sql()).fetchall(),
    }


SESSIONS_SQL = """
SELECT count(*) FROM (
    SELECT session_id FROM usab_runs
    UNION SELECT session_id FROM usab_answers
    WHERE session_id NOT IN (SELECT session_id FROM usab_team))
"""


def versions_with_data_sql() -> str:
    """Customer sessions per version of one prototype (to say which versions have data)."""
    return f"""
SELECT prototype_version, count(DISTINCT session_id) FROM events
WHERE prototype_id = $prototype AND {team_event_sql()} IS NOT TRUE
GROUP BY prototype_version ORDER BY prototype_version
"""


# === tap maps (insights.tapmaps) ===============================================================
#
# Taps and misclicks with a position, as the runtime writes them (``prototypes.runtime.taps``:
# x, y are shares of the browser viewport; a tap without a browser has none and is left out).
# Sessions the team ran (preview, "try it": ``feedback.events.TEAM_FLAGS``) never count, as in
# ``experiments.metrics``. The density is binned here (``bins`` × ``bins`` cells over the unit
# square, cell = floor(share · bins), 1.0 in the last cell), so Python sees cells, not events;
# the points drawn are a deterministic sample of at most ``$limit`` per screen and kind.

_TAP_EVENTS = f"""
WITH team AS (
    SELECT DISTINCT session_id FROM events
    WHERE prototype_id = $prototype AND {team_event_sql()} IS TRUE
),
pts AS (
    SELECT event_id, device, screen, type, x, y
    FROM events
    WHERE prototype_id = $prototype AND prototype_version = $version
      AND type IN ('tap', 'misclick') AND x IS NOT NULL AND y IS NOT NULL
      AND screen IS NOT NULL
      AND ($variant IS NULL OR variant = $variant)
      AND ($store IS NULL OR store_id = $store)
      AND ($device IS NULL OR device = $device)
      AND ($screen IS NULL OR screen = $screen)
      AND session_id NOT IN (SELECT session_id FROM team)
)
"""

TAP_CELLS_SQL = (
    _TAP_EVENTS
    + """
SELECT device, screen, type,
       least(CAST(floor(x * $bins) AS INTEGER), $bins - 1) AS ix,
       least(CAST(floor(y * $bins) AS INTEGER), $bins - 1) AS iy,
       count(*) AS n
FROM pts
GROUP BY ALL
ORDER BY device, screen, type, iy, ix
"""
)

TAP_SAMPLE_SQL = (
    _TAP_EVENTS
    + """
SELECT device, screen, type, x, y
FROM pts
QUALIFY row_number() OVER (PARTITION BY device, screen, type ORDER BY hash(event_id)) <= $limit
ORDER BY device, screen, type, hash(event_id)
"""
)

# What the pickers offer: versions, devices, screens, variants and stores with positioned taps.
TAP_OPTIONS_SQL = f"""
SELECT prototype_version AS version, device, screen, variant, store_id, count(*) AS n
FROM events
WHERE prototype_id = $prototype AND type IN ('tap', 'misclick')
  AND x IS NOT NULL AND y IS NOT NULL AND screen IS NOT NULL
  AND session_id NOT IN (
      SELECT DISTINCT session_id FROM events
      WHERE prototype_id = $prototype AND {team_event_sql()} IS TRUE)
GROUP BY ALL
ORDER BY ALL
"""


def tap_cells(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[tuple]:
    """(device, screen, type, ix, iy, n) per non-empty density cell (``TAP_CELLS_SQL``)."""
    return con.execute(TAP_CELLS_SQL, _tap_params(params, "bins")).fetchall()


def tap_sample(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[tuple]:
    """(device, screen, type, x, y): at most ``limit`` points per screen and kind."""
    return con.execute(TAP_SAMPLE_SQL, _tap_params(params, "limit")).fetchall()


def tap_options(con: duckdb.DuckDBPyConnection, prototype: str) -> list[tuple]:
    """(version, device, screen, variant, store_id, n): where counted positioned taps exist."""
    return con.execute(TAP_OPTIONS_SQL, {"prototype": prototype}).fetchall()


def _tap_params(params: dict[str, Any], extra: str) -> dict[str, Any]:
    names = ("prototype", "version", "variant", "store", "device", "screen", extra)
    return {name: params.get(name) for name in names}


# --- comments ---------------------------------------------------------------------------------

# Customer comments with their context. A comment written after the tasks has no screen of its
# own (the runtime asks at the end); it is then placed on the last screen its session viewed
# before it (ASOF join), which is what "screen" means in the comments viewer.
COMMENTS_SQL = f"""
WITH counted AS (
    SELECT session_id
    FROM events
    WHERE prototype_id = $prototype
      AND ($version IS NULL OR prototype_version = $version)
    GROUP BY session_id
    HAVING bool_or({team_event_sql()}) IS NOT TRUE
),
comments AS (
    SELECT e.event_id, e.ts, e.session_id, e.prototype_id, e.prototype_version, e.variant,
           e.store_id, e.device, e.screen, e.task, e.question, e."text"
    FROM events e JOIN counted USING (session_id)
    WHERE e.type = 'comment' AND e.prototype_id = $prototype
      AND ($version IS NULL OR e.prototype_version = $version)
      AND ($variant IS NULL OR e.variant = $variant)
      AND ($store IS NULL OR e.store_id = $store)
      AND e."text" IS NOT NULL AND trim(e."text") <> ''
),
views AS (
    SELECT v.session_id, v.ts, v.screen
    FROM events v JOIN counted USING (session_id)
    WHERE v.type = 'screen_view' AND v.prototype_id = $prototype AND v.screen IS NOT NULL
)
SELECT c.event_id::VARCHAR AS event_id, c.ts, c.session_id::VARCHAR AS session_id,
       c.prototype_id, c.prototype_version, c.variant, c.store_id, c.device,
       coalesce(c.screen, v.screen) AS screen, c.task, c.question, c."text"
FROM comments c ASOF LEFT JOIN views v ON c.session_id = v.session_id AND c.ts >= v.ts
WHERE ($screen IS NULL OR coalesce(c.screen, v.screen) = $screen)
  AND ($search IS NULL OR contains(lower(c."text"), lower($search)))
ORDER BY c.ts, c.event_id
"""


# === a prototype's own questions and goals (insights.own) ======================================
#
# The answers to the questions a prototype asks in its own words (``prototypes.asks``) and the
# goals its sessions reached, per variant, for the usability report. One temporary table of the
# version's counted sessions (customers only, as everywhere) and their own answers and goal
# events; the aggregates below read it. A choice counts a session once per option it named (a
# multiple choice names several); a rating, a five-second text and a first click count the
# session's last answer. Goals: ``props.goals`` as the runtime writes it (substring test
# first, as ``feedback.custom_measures.goal_sql``); every counted session is in the base.

_OWN_SQL = f"""
CREATE OR REPLACE TEMP TABLE own_events AS
WITH ev AS MATERIALIZED (
    SELECT session_id, variant, ts, type, question, element, "value", "text", x, y, props,
           {team_event_sql()} AS team
    FROM events
    WHERE prototype_id = $prototype AND prototype_version = $version
      AND ($variant IS NULL OR variant = $variant)
      AND ($store IS NULL OR store_id = $store)
      AND ($experiment IS NULL OR experiment_id = $experiment)
      AND ($since IS NULL OR ts >= $since) AND ($until IS NULL OR ts < $until)
      AND ($persona IS NULL OR session_id IN (  -- the session's own persona (anonymous: none)
          SELECT session_id FROM events
          WHERE prototype_id = $prototype AND type = 'session_start'
            AND coalesce(json_extract_string(props, '$.persona'), 'anonymous') = $persona))
),
counted AS (
    SELECT session_id, min(variant) AS variant FROM ev
    GROUP BY session_id HAVING bool_or(team) IS NOT TRUE
)
SELECT c.session_id, c.variant, e.ts, e.type, e.question, e.element, e."value", e."text",
       e.x, e.y,
       CASE WHEN e.type IN ('screen_view', 'tap') AND contains(CAST(e.props AS VARCHAR), 'goals')
            THEN json_extract_string(e.props, '$.goals[*]') END AS goals
FROM counted c LEFT JOIN ev e
  ON e.session_id = c.session_id
 AND ((e.type IN ('answer', 'comment') AND list_contains($questions, e.question))
      OR (e.type IN ('screen_view', 'tap') AND contains(CAST(e.props AS VARCHAR), 'goals')))
"""

OWN_QUERIES = {
    "sessions": "SELECT variant, count(DISTINCT session_id) FROM own_events GROUP BY variant",
    "answered": """SELECT variant, question, count(DISTINCT session_id) FROM own_events
        WHERE type IN ('answer', 'comment') GROUP BY ALL""",
    "options": """SELECT variant, question, element, count(DISTINCT session_id) FROM own_events
        WHERE type = 'answer' AND element IS NOT NULL GROUP BY ALL""",
    "values": """SELECT variant, question, v, count(*) FROM (
            SELECT variant, session_id, question, arg_max("value", ts) AS v FROM own_events
            WHERE type = 'answer' AND "value" IS NOT NULL GROUP BY ALL)
        GROUP BY ALL ORDER BY ALL""",
    "texts": """SELECT variant, question, t, count(*) FROM (
            SELECT variant, session_id, question, arg_max("text", ts) AS t FROM own_events
            WHERE type IN ('answer', 'comment') AND "text" IS NOT NULL GROUP BY ALL)
        GROUP BY ALL ORDER BY 4 DESC, 3""",
    "firsts": """SELECT variant, question, x, y, element FROM (
            SELECT variant, session_id, question, arg_max(x, ts) AS x, arg_max(y, ts) AS y,
                   arg_max(element, ts) AS element FROM own_events
            WHERE type = 'answer' AND x IS NOT NULL GROUP BY ALL)
        ORDER BY hash(session_id) LIMIT 2000""",
    "goals": """SELECT variant, g, count(DISTINCT session_id) FROM (
            SELECT variant, session_id, unnest(goals) AS g FROM own_events
            WHERE goals IS NOT NULL) GROUP BY ALL""",
}


def own_rows(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any], questions: list[str]
) -> dict[str, list]:
    """The raw rows of a prototype version's own questions and goals, by part (``OWN_QUERIES``)."""
    con.execute("SET enable_progress_bar = false")
    con.execute(_OWN_SQL, {**params, "questions": questions or [""]})
    return {name: con.execute(sql).fetchall() for name, sql in OWN_QUERIES.items()}
