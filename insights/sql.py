"""SQL over the event table for insights: one place for the queries, each under its heading.

Queries take bound parameters (``$name``), never string-built values; a NULL parameter means
"no filter". Team and preview sessions are left out the way ``experiments.metrics`` does it.
"""

from __future__ import annotations

from feedback.events import team_event_sql

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
