"""A lab with N contract events shaped like the runtime's, made by DuckDB in seconds.

``make_scale_lab(root, events)`` writes ``stores.csv`` (the sample fleet of 12), an experiment
spec (``bench-pilot``: unit=store, control on the odd stores, treatment on the even ones) and
a ``storelab.duckdb`` in the real schema (``feedback.store``) with about ``events`` rows (cut at
a whole session, never above it). Sessions look like the simulator's and the runtime's:

- session_start (locale, entry), consent, then one or two tasks, each: task_start, screen
  views, taps, misclicks, an end (task_success / task_fail / task_abandon, or none when the
  customer walked away) and the SEQ answer after the task (sometimes answered twice, rarely
  out of scale); at the end one usability questionnaire (SUS, 10 items, for 15 % of sessions;
  UMUX-Lite, 2 items, for 45 %), NPS (30 %), sometimes a comment (about 4 answers a session
  in all, the demo simulator's 3.4 plus SUS);
  session_end with a reason (completed, abandoned, idle_timeout);
- 90 % of sessions belong to the benchmark experiment, 5 % to another experiment, 5 % to none
  (the gallery); 2 % are the team's (``props.preview`` / ``props.team``); 0.3 % of the
  experiment's sessions carry the wrong variant label for their store; 1 % start outside the
  experiment's dates;
- events are stored in time order, sessions interleaved, as ingest of spool files leaves them.

Only the bench uses it: generating in SQL keeps a 10M-event lab at about a minute, where the
simulator and ingest would take many.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXPERIMENT = "bench-pilot"
START = "2026-10-26"
END = "2026-11-22"

SPEC = f"""id: {EXPERIMENT}
hypothesis: Showing sizes in nearby stores on the product screen raises task success.
prototype: scan-and-discover
unit: store
variants:
  control: {{version: 1}}
  treatment: {{version: 1, variant: treatment}}
allocation: {{control: 0.5, treatment: 0.5}}
stores:
  control: [S01, S03, S05, S07, S09, S11]
  treatment: [S02, S04, S06, S08, S10, S12]
start: {START}
end: {END}
primary_metric: task_success_rate
secondary_metrics: [sus, seq, nps, umux_lite, time_on_task_s]
guardrails: [misclick_rate, completion_rate]
alpha: 0.05
power: 0.8
min_effect: 0.05
"""

# Per-session draws; ~22 events a session on average.
_SESSIONS = """
CREATE TEMP TABLE sess AS
WITH d AS (
    SELECT s, random() AS r_exp, random() AS r_team, random() AS r_label, random() AS r_day,
           random() AS r_time, random() AS r_dev, random() AS r_tasks, random() AS r_end,
           random() AS r_loc, random() AS r_q, (hash(s) % 12) + 1 AS store_no
    FROM range($sessions) t(s)
)
SELECT s, md5('bench-' || s)::UUID AS session_id,
       CASE WHEN r_exp < 0.90 THEN 'bench-pilot' WHEN r_exp < 0.95 THEN 'reco-other' END
           AS experiment_id,
       CASE WHEN r_exp < 0.90 OR r_exp >= 0.95 THEN 'scan-and-discover'
            ELSE 'personal-recommendation' END AS prototype_id,
       'S' || lpad(CAST(store_no AS VARCHAR), 2, '0') AS store_id,
       CASE WHEN r_exp < 0.90 THEN
                CASE WHEN (store_no % 2 = 1) <> (r_label < 0.003) THEN 'control'
                     ELSE 'treatment' END
            WHEN r_label < 0.5 THEN 'control' ELSE 'treatment' END AS variant,
       CASE WHEN r_dev < 0.55 THEN 'kiosk' ELSE 'phone' END AS device,
       TIMESTAMPTZ '2026-10-26 07:00:00+00'
           + to_days(CAST(floor(CASE WHEN r_day < 0.01 THEN -3 + r_day * 300 ELSE r_day * 28 END)
                          AS INTEGER))
           + to_seconds(CAST(r_time * 39600 AS BIGINT)) AS t0,
       CASE WHEN r_team < 0.01 THEN ', "preview": true' WHEN r_team < 0.02 THEN ', "team": true'
            ELSE '' END AS team_props,
       CASE WHEN r_loc < 0.88 THEN 'de' ELSE 'en' END AS locale,
       1 + CAST(r_tasks < 0.8 AS INTEGER) AS n_tasks,
       r_q < 0.15 AS sus, r_q >= 0.15 AND r_q < 0.60 AS umux, random() < 0.30 AS nps,
       random() < 0.10 AS comment,
       CASE WHEN r_end < 0.80 THEN 'completed' WHEN r_end < 0.92 THEN 'abandoned'
            ELSE 'idle_timeout' END AS reason
FROM d
"""

_TASKS = """
CREATE TEMP TABLE runs AS
WITH d AS (
    SELECT s.s, s.variant, k, random() AS r_out
    FROM sess s, range(2) t(k)
    WHERE k < s.n_tasks
)
SELECT s, k, (['scan', 'availability'])[k + 1] AS task,
       1 + CAST(floor(random() * 3) AS INTEGER) AS n_views,
       CAST(floor(random() * 4) AS INTEGER) AS n_taps,
       CASE WHEN random() < 0.25 THEN 1 + CAST(random() < 0.3 AS INTEGER) ELSE 0 END AS n_mis,
       CASE WHEN r_out < 0.66 + CASE WHEN variant = 'treatment' THEN 0.04 ELSE 0 END
                THEN 'task_success'
            WHEN r_out < 0.84 THEN 'task_fail'
            WHEN r_out < 0.95 THEN 'task_abandon' END AS outcome,
       random() < 0.85 AS seq, random() < 0.03 AS seq_again,
       5 + CAST(random() * 60000 AS INTEGER) / 1000.0 AS dur_s
FROM d
"""

_KEEP = """
CREATE TEMP TABLE keep AS
WITH n AS (
    SELECT s.s, 3 + 10 * s.sus::INT + 2 * s.umux::INT + s.nps::INT + s.comment::INT
           + coalesce(sum(1 + r.n_views + r.n_taps + r.n_mis + (r.outcome IS NOT NULL)::INT
                          + r.seq::INT + (r.seq AND r.seq_again)::INT), 0) AS n_events
    FROM sess s LEFT JOIN runs r USING (s)
    GROUP BY s.s, s.sus, s.umux, s.nps, s.comment
)
SELECT s FROM (SELECT s, sum(n_events) OVER (ORDER BY s) AS upto FROM n) WHERE upto <= $events
"""

# Every event kind as one SELECT of the same columns; ``ts`` is t0 (or the task's start) + seconds.
_EVENTS = """
WITH ss AS (SELECT sess.* FROM sess JOIN keep USING (s)),
rr AS (
    SELECT r.*, ss.t0 + to_seconds(5 + r.k * 120) AS tt FROM runs r JOIN ss USING (s)
),
ev AS (
    SELECT s, t0 AS ts, 'session_start' AS type, NULL AS screen, NULL AS element,
           NULL AS task, NULL AS question, NULL::DOUBLE AS x, NULL::DOUBLE AS y,
           NULL::DOUBLE AS "value", NULL AS "text",
           '{"locale": "' || locale || '", "entry": "'
               || CASE device WHEN 'kiosk' THEN 'kiosk' ELSE 'qr' END || '"' || team_props || '}'
               AS props
    FROM ss
    UNION ALL
    SELECT s, t0 + to_seconds(1), 'consent', NULL, NULL, NULL, NULL, NULL, NULL, 1.0, NULL,
           '{"granted": true' || team_props || '}'
    FROM ss
    UNION ALL
    SELECT s, tt, 'task_start', 'scan', NULL, task, NULL, NULL, NULL, NULL, NULL, '{}'
    FROM rr
    UNION ALL
    SELECT s, tt + to_seconds(1 + 3 * i), 'screen_view',
           (['scan', 'product', 'availability', 'reserve'])[i + 1], NULL, task, NULL, NULL,
           NULL, NULL, NULL, '{}'
    FROM rr, range(3) t(i) WHERE i < n_views
    UNION ALL
    SELECT s, tt + to_seconds(2 + 4 * i), 'tap', 'product',
           (['btn-sizes', 'reserve', 'confirm', 'back'])[i + 1], task, NULL,
           round(random(), 4), round(random(), 4), NULL, NULL, '{}'
    FROM rr, range(3) t(i) WHERE i < n_taps
    UNION ALL
    SELECT s, tt + to_seconds(3 + 5 * i), 'misclick', 'product', NULL, task, NULL,
           round(random(), 4), round(random(), 4), NULL, NULL, '{}'
    FROM rr, range(2) t(i) WHERE i < n_mis
    UNION ALL
    SELECT s, tt + to_milliseconds(CAST(dur_s * 1000 AS BIGINT)), outcome, 'done', NULL, task,
           NULL, NULL, NULL, dur_s, NULL, '{}'
    FROM rr WHERE outcome IS NOT NULL
    UNION ALL
    SELECT s, tt + to_seconds(70), 'answer', NULL, NULL, task, 'seq', NULL, NULL,
           CASE WHEN random() < 0.005 THEN 9 ELSE 1 + floor(random() * 7) END, NULL, '{}'
    FROM rr WHERE seq
    UNION ALL
    SELECT s, tt + to_seconds(75), 'answer', NULL, NULL, task, 'seq', NULL, NULL,
           1 + floor(random() * 7), NULL, '{}'
    FROM rr WHERE seq AND seq_again
    UNION ALL
    SELECT s, t0 + to_seconds(300 + i), 'answer', NULL, NULL, NULL, 'sus.q' || (i + 1), NULL,
           NULL, 1 + floor(random() * 5), NULL, '{}'
    FROM ss, range(10) t(i) WHERE sus
    UNION ALL
    SELECT s, t0 + to_seconds(320 + i), 'answer', NULL, NULL, NULL, 'umux_lite.q' || (i + 1),
           NULL, NULL, 1 + floor(random() * 7), NULL, '{}'
    FROM ss, range(2) t(i) WHERE umux
    UNION ALL
    SELECT s, t0 + to_seconds(330), 'answer', NULL, NULL, NULL, 'nps', NULL, NULL,
           floor(random() * 11), NULL, '{}'
    FROM ss WHERE nps
    UNION ALL
    SELECT s, t0 + to_seconds(340), 'comment', NULL, NULL, NULL, 'comment', NULL, NULL, NULL,
           'Die Größen im Nachbarladen waren hilfreich.', '{}'
    FROM ss WHERE comment
    UNION ALL
    SELECT s, t0 + to_seconds(400), 'session_end', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, '{"reason": "' || reason || '"}'
    FROM ss
)
SELECT uuid() AS event_id, ev.ts, ss.session_id, ss.experiment_id, ss.prototype_id,
       1 AS prototype_version, ss.variant, ss.store_id, ss.device, ev.type, ev.screen,
       ev.element, ev.task, ev.question, ev.x, ev.y, ev."value", ev."text", ev.props::JSON,
       '/lab/spool/' || ss.device || '-' || ss.store_id || '-'
           || strftime(ev.ts, '%Y%m%d') || '.jsonl' AS source,
       now() AS ingested_at
FROM ev JOIN ss USING (s)
ORDER BY ev.ts
"""


def make_scale_lab(root: Path, events: int) -> int:
    """Create the lab at ``root`` with about ``events`` events; returns the number stored."""
    from feedback.store import connect
    from lab import init_lab
    from sample_data.fleet import default_stores

    lab = init_lab(root, stores=default_stores())
    (lab.experiments_dir / f"{EXPERIMENT}.yaml").write_text(SPEC, encoding="utf-8")
    sessions = events // 12 + 100  # more than needed (~20 a session); KEEP cuts at ``events``
    with connect(lab, read_only=False) as con:
        con.execute("SELECT setseed(0.42)")
        con.execute(_SESSIONS.replace("$sessions", str(int(sessions))))
        con.execute(_TASKS)
        con.execute(_KEEP.replace("$events", str(int(events))))
        con.execute("INSERT INTO events " + _EVENTS)
        stored = con.execute("SELECT count(*) FROM events").fetchone()[0]
        con.execute("CHECKPOINT")
    return int(stored)


if __name__ == "__main__":
    print(make_scale_lab(Path(sys.argv[1]), int(sys.argv[2])))
