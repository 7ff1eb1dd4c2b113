"""The SQL text ingest runs: reading a file's lines, and checking each against the event contract.

Every rule of the event contract that ingest applies is here once, as SQL over all lines of a
file (no Python loop per event). ``feedback.ingest`` runs it; ``tests/test_events.py`` holds it
to the same corpus of good and bad lines as ``feedback.events.Event``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedback.events import DEVICES, EVENT_TYPES, FIELDS, MAX_TEXT_CHARS, REQUIRED
from feedback.privacy import TEXT_FIELDS, matches_sql, redact_json_sql, redact_sql
from feedback.store import sql_literal

if TYPE_CHECKING:
    from pathlib import Path

_TYPES_SQL = "[" + ", ".join(f"'{t}'" for t in EVENT_TYPES) + "]"
_DEVICES_SQL = "[" + ", ".join(f"'{d}'" for d in DEVICES) + "]"
_FIELDS_SQL = "[" + ", ".join(f"'{f}'" for f in FIELDS) + "]"
# Free text the contract wants as a JSON string (a number or object there is rejected), and the
# numbers it wants as a JSON number (a string there is rejected). The other fields are checked by
# their cast (UUID, timestamp) or their list (type, device), which no other JSON type passes.
STRING_FIELDS: tuple[str, ...] = (
    "experiment_id",
    "prototype_id",
    "variant",
    "store_id",
    "screen",
    "element",
    "task",
    "question",
    "text",
)
NUMBER_FIELDS: tuple[str, ...] = ("prototype_version", "x", "y", "value")
# Numbers are parsed as raw JSON, so "0.5" (quotes included) fails the number cast where 0.5
# passes; that is also cheaper than having DuckDB print every number as text.
_STRUCT = (
    "{"
    + ", ".join(
        f'"{f}": "{"JSON" if f == "props" or f in NUMBER_FIELDS else "VARCHAR"}"' for f in FIELDS
    )
    + "}"
)
# UTC offsets run from -12:00 to +14:00: hours over 14 or minutes over 59 are not an offset.
_OFFSET_RE = r"(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)$"
# A date alone ("2026-11-02") casts to a timestamp and its "-02" looks like an offset.
_HAS_TIME = "substr(j.ts, 11, 1) IN ('T', 't', ' ')"
# The INTEGER cast rounds "1.5" to 2; a version must be a whole number as written.
_WHOLE_VERSION = "prototype_version = TRY_CAST(j.prototype_version::VARCHAR AS DOUBLE)"
BLANK = "blank line"  # reason of an empty line: neither kept nor rejected
_SHOWN = 100  # characters of a bad value quoted in a reason


def staging_sql(lines_source: str, redact: bool, *, fast: bool = True) -> str:
    """SQL that turns ``line`` rows (in file order) into typed events plus a rejection reason.

    Every rule of the event contract is here once; a NULL reason means the line is valid,
    ``BLANK`` marks an empty line (neither kept nor rejected). No window function: the
    resulting table's ``rowid`` is the line's position, and the parse stays parallel.

    Two tiers, for speed: ``valid`` is a conjunction of cheap vectorised predicates that holds
    for a valid line; the human-readable ``CASE`` with the reason runs only for the rows where
    it does not hold (rare), because a ``CASE`` evaluates a branch only for the rows that reach
    it. ``valid`` must never accept a line the reason ``CASE`` rejects (tests/test_events.py
    checks this on the contract corpus); where it is unsure it says no and the ``CASE`` decides.
    ``fast=False`` runs the ``CASE`` on every row, for that test.
    """
    # Personal data is masked in every text-bearing field (feedback/privacy.py), only in the
    # rows where one match over all of them (``personal``) says there is something to mask.
    text = {f: f"j.{f}" for f in TEXT_FIELDS}
    props = "j.props"
    personal = "false"
    if redact:
        personal = matches_sql(*text.values(), "j.props::VARCHAR")
        text = {f: f"CASE WHEN personal THEN {redact_sql(c)} ELSE {c} END" for f, c in text.items()}
        props = f"CASE WHEN personal THEN {redact_json_sql('j.props')} ELSE j.props END"
    reason = redact_sql(reason_sql()) if redact else reason_sql()  # it may quote a value
    return f"""
    WITH parsed AS (
        SELECT line, try(json_transform(line, '{_STRUCT}')) AS j FROM ({lines_source})
    ),
    typed AS (
        -- Computed once for every row: the casts (needed for storing anyway) and the keys.
        SELECT line, j,
            CASE WHEN j IS NOT NULL THEN json_keys(line) END AS keys,
            TRY_CAST(j.event_id AS UUID) AS event_id,
            TRY_CAST(j.ts AS TIMESTAMPTZ) AS ts,
            TRY_CAST(j.session_id AS UUID) AS session_id,
            TRY_CAST(j.prototype_version::VARCHAR AS INTEGER) AS prototype_version,
            TRY_CAST(j.x::VARCHAR AS DOUBLE) AS x,
            TRY_CAST(j.y::VARCHAR AS DOUBLE) AS y,
            TRY_CAST(j."value"::VARCHAR AS DOUBLE) AS "value",
            json_type(j.props) AS props_type,
            {_text_problem()} AS text_problem,
            {personal} AS personal
        FROM parsed
    )
    SELECT
        CASE WHEN {valid_sql() if fast else "false"} THEN NULL ELSE {reason} END AS reason,
        event_id, ts, session_id, j.experiment_id AS experiment_id, j.prototype_id AS prototype_id,
        prototype_version, j.variant AS variant, j.store_id AS store_id, j.device AS device,
        j.type AS type, {text["screen"]} AS screen, {text["element"]} AS element,
        {text["task"]} AS task, {text["question"]} AS question, x, y, "value",
        {text["text"]} AS "text",
        coalesce(CASE WHEN props_type = 'OBJECT' THEN {props} END, '{{}}'::JSON) AS props
    FROM typed
    """


def _text_problem() -> str:
    """The first text field holding another JSON type, in words; NULL when there is none.

    Parsed as text, the number 5 and the string "5" look the same. But anything else JSON has
    (a number, true, false, an object, a list, and the NaN and Infinity DuckDB reads) comes out
    as its own JSON text, so a value that is not valid JSON ("S01", "control", "0417", "5
    Sterne") was a string: one failed parse of a few bytes. Only for a line with a value that
    parses (rare, e.g. a store id "42") ``json_type`` looks the fields up in the line itself.
    """
    surely_text = " AND ".join(
        f'(j."{f}" IS NULL OR NOT json_valid(j."{f}"))' for f in STRING_FIELDS
    )
    paths = "[" + ", ".join(f"'$.{f}'" for f in STRING_FIELDS) + "]"
    names = "[" + ", ".join(f"'{f}'" for f in STRING_FIELDS) + "]"
    types = f"json_type(line, {paths})"
    # Position of the first field that is there and neither text nor null (0: none).
    odd = f"list_transform({types}, t -> coalesce(t NOT IN ('VARCHAR', 'NULL'), false))"
    first = f"list_position({odd}, true)"
    kind = (
        f"CASE {types}[{first}] WHEN 'BOOLEAN' THEN 'true/false' WHEN 'OBJECT' THEN 'an object' "
        "WHEN 'ARRAY' THEN 'a list' ELSE 'a number' END"
    )
    return f"""CASE WHEN j IS NULL OR ({surely_text}) THEN NULL
            WHEN {first} > 0 THEN {names}[{first}] || ' must be text (a JSON string), not '
                || {kind} || ': ' || left(json_extract(line, {paths})[{first}]::VARCHAR, {_SHOWN})
        END"""


def valid_sql() -> str:
    """The fast check over ``typed``: true only for lines that break no rule of ``reason_sql``.

    NULL counts as "not sure" (the reason CASE decides). Required fields that must parse as a
    UUID, timestamp, number or list member cannot be blank when they do.
    """
    free_text_required = [
        f"trim(j.{f}) <> ''"
        for f in REQUIRED
        if f not in ("event_id", "ts", "session_id", "prototype_version", "device", "type")
    ]
    return " AND ".join(
        [
            f"(keys = {_FIELDS_SQL} OR list_has_all({_FIELDS_SQL}, keys))",
            "event_id IS NOT NULL",
            "session_id IS NOT NULL",
            # The offset pattern is anchored at the end and at most 6 characters long.
            f"ts IS NOT NULL AND {_HAS_TIME} AND regexp_matches(right(j.ts, 6), '{_OFFSET_RE}')",
            # Not ``IN (…)``: a long IN list becomes a join, and the plan stops keeping order.
            f"list_contains({_TYPES_SQL}, j.type)",
            f"list_contains({_DEVICES_SQL}, j.device)",
            f"prototype_version >= 1 AND {_WHOLE_VERSION}",
            *free_text_required,
            "text_problem IS NULL",
            # NaN and infinity fail the range too: DuckDB sorts NaN above every number.
            "(j.x IS NULL OR (x >= 0 AND x <= 1))",
            "(j.y IS NULL OR (y >= 0 AND y <= 1))",
            '(j."value" IS NULL OR isfinite("value"))',
            "(j.props IS NULL OR props_type IN ('OBJECT', 'NULL'))",
            f"(j.text IS NULL OR length(j.text) <= {MAX_TEXT_CHARS})",
        ]
    )


def _number_reasons() -> str:
    """``WHEN`` branches: a number field that is not a JSON number, or not a finite one."""
    return "\n            ".join(
        f"""WHEN j."{f}" IS NOT NULL
                AND coalesce(NOT isfinite(TRY_CAST(j."{f}"::VARCHAR AS DOUBLE)), true)
                THEN '{f} must be a '
                || CASE WHEN TRY_CAST(j."{f}"::VARCHAR AS DOUBLE) IS NULL
                    THEN 'number (no quotes): ' ELSE 'finite number: ' END
                || left(j."{f}", {_SHOWN})"""
        for f in NUMBER_FIELDS
    )


def reason_sql() -> str:
    """The first rule a row of ``typed`` breaks, in words; NULL when it breaks none."""
    blank = {f: f"nullif(trim(j.{f}), '') IS NULL" for f in REQUIRED}
    missing = ", ".join(f"CASE WHEN {blank[f]} THEN '{f}' END" for f in REQUIRED)
    unknown = f"list_filter(keys, k -> NOT list_contains({_FIELDS_SQL}, k))"
    return f"""CASE
            WHEN coalesce(trim(line), '') = '' THEN '{BLANK}'
            WHEN j IS NULL THEN CASE WHEN json_valid(line)
                THEN 'not a JSON object' ELSE 'not valid JSON (truncated or broken line)' END
            WHEN len({unknown}) > 0 THEN 'unknown field ''' || {unknown}[1] || ''''
            WHEN {" OR ".join(blank.values())} THEN CASE WHEN json_type(line) <> 'OBJECT'
                THEN 'not a JSON object'
                ELSE 'missing required field(s): ' || concat_ws(', ', {missing}) END
            WHEN text_problem IS NOT NULL THEN text_problem
            {_number_reasons()}
            WHEN event_id IS NULL THEN 'event_id is not a UUID: ' || left(j.event_id, {_SHOWN})
            WHEN session_id IS NULL
                THEN 'session_id is not a UUID: ' || left(j.session_id, {_SHOWN})
            WHEN ts IS NULL OR NOT {_HAS_TIME} OR NOT regexp_matches(j.ts, '{_OFFSET_RE}')
                THEN 'ts is not ISO-8601 with a UTC offset (Z or ±hh:mm, hh up to 14): '
                    || left(j.ts, {_SHOWN})
            WHEN NOT list_contains({_TYPES_SQL}, j.type)
                THEN 'unknown type ''' || left(j.type, {_SHOWN}) || ''''
            WHEN NOT list_contains({_DEVICES_SQL}, j.device)
                THEN 'device must be kiosk, phone or web, not '''
                    || left(j.device, {_SHOWN}) || ''''
            WHEN prototype_version IS NULL OR prototype_version < 1 OR NOT {_WHOLE_VERSION}
                THEN 'prototype_version must be a whole number >= 1: ' || j.prototype_version
            WHEN j.x IS NOT NULL AND (x IS NULL OR x < 0 OR x > 1)
                THEN 'x must be a number from 0 to 1: ' || j.x
            WHEN j.y IS NOT NULL AND (y IS NULL OR y < 0 OR y > 1)
                THEN 'y must be a number from 0 to 1: ' || j.y
            WHEN j.props IS NOT NULL AND props_type NOT IN ('OBJECT', 'NULL')
                THEN 'props must be a JSON object'
            WHEN length(j.text) > {MAX_TEXT_CHARS}
                THEN 'text longer than {MAX_TEXT_CHARS} characters'
        END"""


# Lines up to this size are read in parallel, in buffers of twice the size. DuckDB's CSV reader
# reads a file in buffers larger than its max_line_size, so a huge limit (50 MB: 4 buffers for
# 200 MB) leaves one core idle. No event comes near it: a longer line (corrupt data) makes the
# reader fail, and ingest then reads a copy of the file with that line blanked and rejected.
LINE_BYTES = 8 * 1024 * 1024


def lines_csv(path: Path | str) -> str:
    """Each line of a text file as one VARCHAR row, in file order (blank lines included)."""
    return (
        f"SELECT line FROM read_csv({sql_literal(str(path))}, columns={{'line': 'VARCHAR'}}, "
        "delim=chr(0), quote='', escape='', header=false, auto_detect=false, strict_mode=false, "
        f"max_line_size={LINE_BYTES}, buffer_size={2 * LINE_BYTES})"
    )
