"""The event contract: one JSON object per line, written by prototypes and the simulator.

``Event`` validates a single event where one is made (the prototype runtime). Bulk validation
of files happens in SQL at ingest (``feedback.ingest_sql``) with the same rules, so no Python loop
runs per event there; ``tests/test_events.py`` holds both to the same corpus of good and bad
lines.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EVENT_TYPES: tuple[str, ...] = (
    "session_start",
    "consent",
    "screen_view",
    "tap",
    "misclick",
    "task_start",
    "task_success",
    "task_fail",
    "task_abandon",
    "answer",
    "comment",
    "session_end",
)
DEVICES: tuple[str, ...] = ("kiosk", "phone", "web")
END_REASONS: tuple[str, ...] = ("completed", "idle_timeout", "abandoned")
TEAM_FLAGS: tuple[str, ...] = ("preview", "team")
"""``props`` flags that mark a session as the team's, not a customer's: ``preview`` (the team
preview) and ``team`` (opened from the gallery or with the team token). The runtime writes them
as ``true`` on every event of such a session; a session with any event flagged never counts."""

# Column order of the contract; also the order of the ``events`` table.
FIELDS: tuple[str, ...] = (
    "event_id",
    "ts",
    "session_id",
    "experiment_id",
    "prototype_id",
    "prototype_version",
    "variant",
    "store_id",
    "device",
    "type",
    "screen",
    "element",
    "task",
    "question",
    "x",
    "y",
    "value",
    "text",
    "props",
)
REQUIRED: tuple[str, ...] = (
    "event_id",
    "ts",
    "session_id",
    "prototype_id",
    "prototype_version",
    "variant",
    "store_id",
    "device",
    "type",
)
MAX_TEXT_CHARS = 2000


def team_event_sql(props: str = "props") -> str:
    """SQL that is true for an event whose ``props`` has a ``TEAM_FLAGS`` flag set to true.

    NULL or false otherwise, so aggregate it with ``bool_or(…) IS TRUE``. A substring test on
    the JSON text selects the events that name a flag, and only those are parsed: DuckDB runs a
    ``CASE``'s ``THEN`` just for the rows its ``WHEN`` selects (an ``AND`` runs both sides on
    every row, 12 % more time for the metric query on 3.7 M events; this is within the noise).
    """
    text = f"CAST({props} AS VARCHAR)"
    named = " OR ".join(f"""contains({text}, '"{flag}"')""" for flag in TEAM_FLAGS)
    true = " OR ".join(f"json_extract_string({props}, '$.{flag}') = 'true'" for flag in TEAM_FLAGS)
    return f"(CASE WHEN {named} THEN {true} END)"


def uuid7(ms: int | None = None) -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): sorts by creation time (``ms`` since the
    epoch, default now), good as a key."""
    ms = time.time_ns() // 1_000_000 if ms is None else ms
    rand = int.from_bytes(secrets.token_bytes(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | rand & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


class Event(BaseModel):
    """One customer interaction, exactly as the contract in DESIGN.md describes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid7)
    ts: datetime = Field(default_factory=lambda: datetime.now(UTC))
    session_id: uuid.UUID
    experiment_id: str | None = None
    prototype_id: str = Field(min_length=1)
    prototype_version: int = Field(ge=1)
    variant: str = Field(min_length=1)
    store_id: str = Field(min_length=1)
    device: Literal[DEVICES]
    type: Literal[EVENT_TYPES]
    screen: str | None = None
    element: str | None = None
    task: str | None = None
    question: str | None = None
    x: float | None = Field(None, ge=0, le=1)
    y: float | None = Field(None, ge=0, le=1)
    value: float | None = Field(None, allow_inf_nan=False)
    text: str | None = Field(None, max_length=MAX_TEXT_CHARS)
    props: dict[str, Any] | None = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _one_clock(cls, data: Any) -> Any:
        """A new event's id and ``ts`` come from one clock read, so the id's time is the
        event's (two reads could straddle a millisecond, more under load)."""
        if not isinstance(data, dict) or "event_id" in data:
            return data
        ts = data.get("ts")
        if ts is None:
            ts = datetime.now(UTC)
            data = {**data, "ts": ts}
        if isinstance(ts, datetime) and ts.tzinfo is not None:
            data = {**data, "event_id": uuid7(int(ts.timestamp() * 1000))}
        return data

    @field_validator("ts")
    @classmethod
    def _needs_offset(cls, ts: datetime) -> datetime:
        if ts.tzinfo is None:
            raise ValueError("ts needs a UTC offset, e.g. 2026-11-02T10:15:00+01:00")
        if abs(ts.utcoffset()) >= timedelta(hours=15):
            raise ValueError("ts has an impossible UTC offset (hours up to 14)")
        return ts

    @field_validator("prototype_version", "x", "y", "value", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        # The JSON type is part of the contract: "0.5" or true is not a number (ingest agrees).
        if isinstance(value, (str, bool)):
            raise ValueError("must be a number, not text or true/false")
        return value

    def to_json(self) -> str:
        """The event as one JSON line (no trailing newline)."""
        return self.model_dump_json()


def writer_id() -> str:
    """Identifies this writer process in spool file names: host-pid."""
    host = os.uname().nodename.split(".")[0] or "host"
    return f"{host}-{os.getpid()}"


# --- personas, context and journeys across devices (issue 15) ---------------------------------
# What a session ran under and which journey it belongs to travel in ``props`` (no new column):
# ``session_start`` carries ``persona`` (the persona id, absent for an anonymous customer) and
# ``context`` ({variable: value} for every context variable the prototype declares). A journey
# that moves to another device has one id, the sending session's id: the sending device writes
# it on its handover tap (``handover: "out"``) and on the task it hands over (``task_abandon``
# with ``reason: "handover"``); the receiving device on its ``session_start`` (a ``?journey=``
# link) or on the tap that entered the code (``handover: "in"``, with the persona, context and
# locale it continues under: the analyses read these from that tap, else from session_start;
# no other tap has a ``handover`` key). A session's journey is the last ``journey`` it wrote,
# else its own id (``session_journeys_sql``).
# The receiving session continues in the journey's experiment arm (sticky bucketing): the event
# that took the journey (its ``session_start`` or keypad tap) says ``journey_arm: "kept"`` when
# it runs in the sender's experiment, variant and version from then on, ``"gone"`` when the
# sender's arm is no longer in the experiment (it keeps its own fresh assignment). The
# experiment analysis counts a "kept" session's events from that event on as part of the
# journey's one unit (``experiments.metrics``).

PERSONA_PROP = "persona"
CONTEXT_PROP = "context"
CONTEXT_VARIABLES: tuple[str, ...] = ("weather", "time_of_day", "channel", "loyalty", "mood")
"""The context variables a prototype may declare (each with its own values and a default)."""
JOURNEY_PROP = "journey"
HANDOVER_PROP = "handover"
HANDOVER_REASON = "handover"
"""``props.reason`` of the ``task_abandon`` that hands a running task to another device."""
JOURNEY_ARM_PROP = "journey_arm"
ARM_KEPT = "kept"
"""``journey_arm``: the receiving session runs in the sending session's experiment arm."""
ARM_GONE = "gone"
"""``journey_arm``: the sender's arm is gone from the experiment; assigned afresh here."""


def session_journeys_sql(where: str = "TRUE") -> str:
    """SQL of (session_id, journey UUID) for the sessions of ``events`` (rows ``where`` holds)
    that wrote a ``journey``: the last one they wrote. Others have none (their journey is their
    own id). Only events whose props name a journey are parsed."""
    return f"""
    SELECT session_id,
           TRY_CAST(arg_max(json_extract_string(props, '$.{JOURNEY_PROP}'), ts) AS UUID)
               AS journey
    FROM events
    WHERE ({where}) AND contains(CAST(props AS VARCHAR), '"{JOURNEY_PROP}"')
      AND json_extract_string(props, '$.{JOURNEY_PROP}') IS NOT NULL
    GROUP BY session_id"""
