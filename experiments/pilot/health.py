"""Pilot health: per store and device, is data arriving, and which store has gone silent?

``pilot_health(lab, now=...)`` reads the store through short read-only connections: two SQL
reductions over ``events`` (last event, events in the last hour and sessions today and this
week, per store and device), one over ``rejected_events``, and per running experiment the
session counts of ``experiments.metrics`` for the SRM check of ``experiments.analysis``. No
Python loop runs per event. The result is a frozen ``PilotHealth``; ``to_dict()`` is the JSON
of ``storelab pilot status --json``.

Which stores are watched
    The stores a running experiment (today's local date within its start and end) lists; a
    running experiment without a store list watches every store with events in the last 7 days,
    and so does the check when no experiment runs.

When a store is flagged
    ``silent``      during an opening of the store, the last event is ``[pilot]
                    silent_after_minutes`` or more of that opening ago. Only open time counts:
                    a store that opened 20 minutes ago is not silent yet, and a closed store
                    never is.
    ``never_seen``  a running experiment lists the store, it has never sent an event, and it
                    has been open ``silent_after_minutes`` since the experiment started (so a
                    pilot that starts at midnight does not alarm before the stores open).
    ``srm``         a running experiment's sample ratio check fails (p < 0.001) on the
                    sessions so far.

Opening hours come from the store's ``opening_hours`` column in stores.csv, else ``[pilot]
opening_hours``, in ``[pilot] timezone``. "Today" and "this week" (from Monday 00:00) are local.
Sessions count by their first event. Everything is as of ``now``: events stamped later do not
count (a device whose clock runs ahead looks that much staler). Rejected lines (all of them,
since the database began) are counted per source file and attributed to the ``store_id`` of
the raw line where it has one (else ``unknown``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from experiments.pilot.hours import LocalClock, OpeningHours, local_midnight, time_zone
from lab import lab_stores

if TYPE_CHECKING:
    import duckdb

    from experiments.results import SrmCheck
    from experiments.spec import ExperimentSpec
    from lab import Lab, Store

RECENT = timedelta(days=7)  # "stores with events in the last week"
UNKNOWN_STORE = "unknown"

# --- SQL: the only queries of pilot health (values are bound parameters) ----------------------

DEVICES_SQL = """
WITH ev AS (
    -- the state as of $now: events stamped later (a clock ahead, a past $now) do not count
    SELECT store_id, device, session_id, ts FROM events WHERE ts <= $now
),
last_seen AS (
    SELECT store_id, device, max(ts) AS last_ts,
           count(*) FILTER (WHERE ts > $hour_ago) AS last_hour
    FROM ev
    GROUP BY store_id, device
),
session_starts AS (
    -- a session starts with its first event; sessions last minutes, so reading from a day
    -- before the week finds the first event of every session that started in it
    SELECT store_id, device, min(ts) AS started
    FROM ev
    WHERE ts >= $sessions_from
    GROUP BY store_id, device, session_id
),
sessions AS (
    SELECT store_id, device,
           count(*) FILTER (WHERE started >= $day_start) AS today,
           count(*) FILTER (WHERE started >= $week_start) AS week
    FROM session_starts
    GROUP BY store_id, device
)
SELECT l.store_id, l.device, l.last_ts, l.last_hour,
       coalesce(s.today, 0) AS today, coalesce(s.week, 0) AS week
FROM last_seen l
LEFT JOIN sessions s USING (store_id, device)
WHERE l.last_ts > $recent_from OR list_contains($listed, l.store_id)
ORDER BY l.store_id, l.device
"""

REJECTED_SQL = f"""
SELECT source,
       coalesce(
           nullif(trim(CASE WHEN json_valid(raw) THEN json_extract_string(raw, '$.store_id') END),
                  ''),
           '{UNKNOWN_STORE}') AS store_id,
       count(*) AS lines
FROM rejected_events
GROUP BY source, store_id
ORDER BY store_id, source
"""


# --- the result ---------------------------------------------------------------------------------


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat()


def _minutes(delta: timedelta) -> float:
    return round(max(delta.total_seconds(), 0.0) / 60, 1)


def duration_text(minutes: float | None) -> str:
    """``minutes`` the way a person says it: ``45 min``, ``3 h 05 min``, ``2 d 4 h``."""
    if minutes is None:
        return "–"
    whole = int(minutes)
    if whole < 60:
        return f"{whole} min"
    hours, rest = divmod(whole, 60)
    if hours < 24:
        return f"{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@dataclass(frozen=True)
class DeviceHealth:
    """One device type (kiosk, phone, web) of one store."""

    device: str
    sessions_today: int
    sessions_week: int
    last_event: datetime
    last_event_age_min: float
    events_per_hour: int
    """Events in the hour before ``now``."""

    def to_dict(self) -> dict:
        return {
            "device": self.device,
            "sessions_today": self.sessions_today,
            "sessions_week": self.sessions_week,
            "last_event": _iso(self.last_event),
            "last_event_age_min": self.last_event_age_min,
            "events_per_hour": self.events_per_hour,
        }


@dataclass(frozen=True)
class StoreHealth:
    """One store: its devices, whether it is open and watched, its silence and its flag."""

    store_id: str
    name: str | None
    opening_hours: str
    open_now: bool
    watched: bool
    last_event: datetime | None
    last_event_age_min: float | None
    silent_min: float | None
    """Open minutes without an event (watched stores; None when closed and never seen)."""
    rejected: int
    flag: str | None
    """``silent``, ``never_seen`` or None."""
    devices: tuple[DeviceHealth, ...] = ()

    @property
    def sessions_today(self) -> int:
        return sum(d.sessions_today for d in self.devices)

    @property
    def sessions_week(self) -> int:
        return sum(d.sessions_week for d in self.devices)

    def to_dict(self) -> dict:
        return {
            "store_id": self.store_id,
            "name": self.name,
            "opening_hours": self.opening_hours,
            "open_now": self.open_now,
            "watched": self.watched,
            "last_event": _iso(self.last_event),
            "last_event_age_min": self.last_event_age_min,
            "silent_min": self.silent_min,
            "sessions_today": self.sessions_today,
            "sessions_week": self.sessions_week,
            "rejected": self.rejected,
            "flag": self.flag,
            "devices": [d.to_dict() for d in self.devices],
        }


@dataclass(frozen=True)
class Flag:
    """Something a person should look at: ``kind`` (silent, never_seen, srm) and ``subject``
    (a store id, or an experiment id for srm)."""

    kind: str
    subject: str
    message: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "subject": self.subject, "message": self.message}


@dataclass(frozen=True)
class ExperimentSrm:
    """The sample ratio check of one running experiment on its sessions so far."""

    experiment: str
    check: SrmCheck

    def to_dict(self) -> dict:
        return {"experiment": self.experiment, **self.check.to_dict()}


@dataclass(frozen=True)
class RejectedLines:
    """Rejected lines of one source file attributed to one store (or ``unknown``)."""

    source: str
    store_id: str
    lines: int

    def to_dict(self) -> dict:
        return {"source": self.source, "store_id": self.store_id, "lines": self.lines}


@dataclass(frozen=True)
class PilotHealth:
    """The pilot's health at ``now``; ``to_dict()`` is ``storelab pilot status --json``."""

    now: datetime
    """UTC."""
    local_now: datetime
    """``now`` in the stores' time zone."""
    timezone: str
    silent_after_minutes: int
    running: tuple[str, ...]
    """Ids of the experiments running today (local date)."""
    stores: tuple[StoreHealth, ...]
    srm: tuple[ExperimentSrm, ...]
    rejected: tuple[RejectedLines, ...]
    flags: tuple[Flag, ...]

    @property
    def ok(self) -> bool:
        """Nothing is flagged."""
        return not self.flags

    @property
    def rejected_total(self) -> int:
        return sum(r.lines for r in self.rejected)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "now": _iso(self.now),
            "local_time": _iso(self.local_now),
            "timezone": self.timezone,
            "silent_after_minutes": self.silent_after_minutes,
            "running": list(self.running),
            "flags": [f.to_dict() for f in self.flags],
            "stores": [s.to_dict() for s in self.stores],
            "srm": [s.to_dict() for s in self.srm],
            "rejected": [r.to_dict() for r in self.rejected],
        }


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setting:
    """The lab's pilot settings, checked, and the clock."""

    clock: LocalClock
    timezone: str
    default_hours: OpeningHours
    silent_after: float
    where: str

    def hours_for(self, store: Store | None) -> OpeningHours:
        """The store's own opening hours, else the lab's (a store not in stores.csv too)."""
        if store is None or not store.opening_hours:
            return self.default_hours
        return OpeningHours.parse(store.opening_hours, f"{self.where}: opening_hours")


def pilot_health(lab: Lab, *, now: datetime | None = None) -> PilotHealth:
    """How the pilot is doing at ``now`` (default: the clock); see the module docstring."""
    from feedback.store import connect

    pilot = lab.config.pilot
    zone = time_zone(pilot.timezone, f"{lab.config_path} [pilot] timezone")
    setting = _Setting(
        clock=LocalClock.at(now or datetime.now(UTC), zone),
        timezone=pilot.timezone,
        default_hours=OpeningHours.parse(
            pilot.opening_hours, f"{lab.config_path} [pilot] opening_hours"
        ),
        silent_after=float(pilot.silent_after_minutes),
        where=str(lab.stores_csv),
    )
    stores = lab_stores(lab)
    running = running_experiments(lab, setting.clock)
    listed = sorted({s for spec in running for s in spec.store_list})
    with connect(lab, read_only=True) as con:
        devices = _device_rows(con, setting.clock, listed)
        rejected = tuple(RejectedLines(*row) for row in con.execute(REJECTED_SQL).fetchall())
        srm = tuple(
            ExperimentSrm(spec.id, _srm_so_far(con, spec, setting.clock.now)) for spec in running
        )
    store_rows = _stores(setting, stores, running, devices, rejected)
    flags = [
        Flag(s.flag, s.store_id, _flag_message(s, setting, running)) for s in store_rows if s.flag
    ]
    flags += [Flag("srm", s.experiment, _srm_message(s)) for s in srm if not s.check.ok]
    return PilotHealth(
        now=setting.clock.now,
        local_now=setting.clock.local_now,
        timezone=setting.timezone,
        silent_after_minutes=pilot.silent_after_minutes,
        running=tuple(spec.id for spec in running),
        stores=store_rows,
        srm=srm,
        rejected=rejected,
        flags=tuple(flags),
    )


def running_experiments(lab: Lab, clock: LocalClock) -> list[ExperimentSpec]:
    """The lab's experiments whose start..end includes the local date of ``clock``."""
    from experiments.spec import list_experiments, load_experiment

    specs = [load_experiment(lab, exp_id) for exp_id in list_experiments(lab)]
    return [s for s in specs if s.start <= clock.today <= s.end]


def _device_rows(
    con: duckdb.DuckDBPyConnection, clock: LocalClock, listed: list[str]
) -> dict[str, list[DeviceHealth]]:
    """Per store: its devices with events in the last week (or any, for ``listed`` stores)."""
    rows = con.execute(
        DEVICES_SQL,
        {
            "now": clock.now,
            "hour_ago": clock.now - timedelta(hours=1),
            "sessions_from": clock.week_start - timedelta(days=1),
            "day_start": clock.day_start,
            "week_start": clock.week_start,
            "recent_from": clock.now - RECENT,
            "listed": listed or [""],
        },
    ).fetchall()
    out: dict[str, list[DeviceHealth]] = {}
    for store_id, device, last_ts, last_hour, today, week in rows:
        last = last_ts.astimezone(UTC)
        out.setdefault(store_id, []).append(
            DeviceHealth(
                device=device,
                sessions_today=int(today),
                sessions_week=int(week),
                last_event=last,
                last_event_age_min=_minutes(clock.now - last),
                events_per_hour=int(last_hour),
            )
        )
    return out


def _srm_so_far(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec, now: datetime) -> SrmCheck:
    """``srm_check`` on the sessions ``experiments.metrics`` counts for ``spec``, up to ``now``."""
    from experiments.analysis import srm_check
    from experiments.metrics import session_counts

    return srm_check(spec, session_counts(con, spec, until=now))


# --- judging ------------------------------------------------------------------------------------


def _stores(
    setting: _Setting,
    known: dict[str, Store],
    running: list[ExperimentSpec],
    devices: dict[str, list[DeviceHealth]],
    rejected: Iterable[RejectedLines],
) -> tuple[StoreHealth, ...]:
    """Every store worth a row: watched, seen in the last week, or with rejected lines."""
    clock = setting.clock
    rejected_by_store: dict[str, int] = {}
    for r in rejected:
        if r.store_id != UNKNOWN_STORE:
            rejected_by_store[r.store_id] = rejected_by_store.get(r.store_id, 0) + r.lines
    recent = {
        s for s, devs in devices.items() if max(d.last_event for d in devs) > clock.now - RECENT
    }
    starts: dict[str, datetime] = {}  # listed store -> start of its earliest running experiment
    for spec in running:
        for store_id in spec.store_list:
            start = local_midnight(spec.start, clock.zone)
            starts[store_id] = min(start, starts.get(store_id, start))
    watch_recent = not running or any(not spec.store_list for spec in running)
    watched = set(starts) | (recent if watch_recent else set())
    shown = watched | set(devices) | set(rejected_by_store)
    order = {sid: i for i, sid in enumerate(known)}
    rows = []
    for store_id in sorted(shown, key=lambda s: (order.get(s, len(order)), s)):
        store = known.get(store_id)
        devs = tuple(devices.get(store_id, ()))
        last = max((d.last_event for d in devs), default=None)
        hours = setting.hours_for(store)
        silent, flag = (
            _silence(setting, hours, last, starts.get(store_id))
            if store_id in watched
            else (None, None)
        )
        rows.append(
            StoreHealth(
                store_id=store_id,
                name=store.name if store else None,
                opening_hours=hours.text,
                open_now=hours.current(clock.now, clock.zone) is not None,
                watched=store_id in watched,
                last_event=last,
                last_event_age_min=None if last is None else _minutes(clock.now - last),
                silent_min=silent,
                rejected=rejected_by_store.get(store_id, 0),
                flag=flag,
                devices=devs,
            )
        )
    return tuple(rows)


def _silence(
    setting: _Setting, hours: OpeningHours, last: datetime | None, listed_since: datetime | None
) -> tuple[float | None, str | None]:
    """(open minutes without an event, flag) of a watched store."""
    clock = setting.clock
    if last is None:
        if listed_since is None:
            return None, None
        waited = round(hours.open_minutes(listed_since, clock.now, clock.zone), 1)
        return waited, "never_seen" if waited >= setting.silent_after else None
    opening = hours.current(clock.now, clock.zone)
    if opening is None:
        return None, None
    silent = _minutes(clock.now - max(last, opening[0]))
    return silent, "silent" if silent >= setting.silent_after else None


def _flag_message(store: StoreHealth, setting: _Setting, running: list[ExperimentSpec]) -> str:
    if store.flag == "never_seen":
        names = [s.id for s in running if store.store_id in s.store_list]
        return (
            f"{store.store_id} has never sent an event, though {', '.join(names)} lists it "
            f"and it has been open {duration_text(store.silent_min)} since the start"
        )
    return (
        f"{store.store_id} has sent no event for {duration_text(store.silent_min)} of open "
        f"time (open {store.opening_hours}; last event "
        f"{duration_text(store.last_event_age_min)} ago; flagged after "
        f"{setting.silent_after:g} min)"
    )


def _srm_message(srm: ExperimentSrm) -> str:
    check = srm.check
    counts = ", ".join(f"{v} {n}" for v, n in check.counts.items())
    return (
        f"{srm.experiment}: sample ratio mismatch so far (p = {check.p_value:.2g} < "
        f"{check.threshold:g}; {check.unit}s {counts})"
    )
