"""Time as the stores see it: the local day and week, and opening hours in minutes of open time.

Pure (no I/O): every function takes ``now`` or the interval it works on. Times go in and come out
as aware UTC datetimes; local wall-clock times are built in the stores' time zone and converted
to UTC before any subtraction (Python subtracts two datetimes of the same ``ZoneInfo`` by wall
clock, which is wrong across a daylight-saving change).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from errors import InvalidInputError
from lab import opening_hours_problem

DAY_MINUTES = 24 * 60


def time_zone(name: str, where: str) -> ZoneInfo:
    """The IANA time zone ``name``; ``InvalidInputError`` naming ``where`` if there is none."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise InvalidInputError(
            f"{where}: {name!r} is not a time zone; use an IANA name such as Europe/Berlin."
        ) from exc


@dataclass(frozen=True)
class LocalClock:
    """``now`` and the boundaries of the stores' local day and week (Monday 00:00), in UTC."""

    now: datetime
    zone: tzinfo

    @classmethod
    def at(cls, now: datetime, zone: tzinfo) -> LocalClock:
        """The clock at ``now`` (an aware datetime) for stores in ``zone``."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime (e.g. datetime.now(UTC))")
        return cls(now.astimezone(UTC), zone)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone)

    @property
    def today(self) -> date:
        return self.local_now.date()

    @property
    def day_start(self) -> datetime:
        return local_midnight(self.today, self.zone)

    @property
    def week_start(self) -> datetime:
        return local_midnight(self.today - timedelta(days=self.today.weekday()), self.zone)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """00:00 of the local ``day``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _local(day: date, minute: int, zone: tzinfo) -> datetime:
    """``minute`` minutes after the local midnight that starts ``day`` (wall clock), in UTC."""
    day = day + timedelta(days=minute // DAY_MINUTES)
    hour, rest = divmod(minute % DAY_MINUTES, 60)
    return datetime.combine(day, time(hour, rest), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class OpeningHours:
    """Daily opening hours, e.g. ``09:00-20:00``; ``22:00-06:00`` is open past midnight."""

    text: str
    opens: int  # minutes after local midnight
    closes: int  # minutes after the local midnight of the opening day (may exceed a day)

    @classmethod
    def parse(cls, text: str, where: str) -> OpeningHours:
        """Read ``HH:MM-HH:MM``; ``InvalidInputError`` naming ``where`` when it is not one."""
        problem = opening_hours_problem(text)
        if problem:
            raise InvalidInputError(f"{where}: {problem}.")
        opens, closes = (int(t[:2]) * 60 + int(t[3:]) for t in text.split("-"))
        return cls(text, opens, closes if closes > opens else closes + DAY_MINUTES)

    def opening_on(self, day: date, zone: tzinfo) -> tuple[datetime, datetime]:
        """The opening that starts on the local ``day``: (opens, closes) in UTC."""
        return _local(day, self.opens, zone), _local(day, self.closes, zone)

    def _openings(self, start: datetime, end: datetime, zone: tzinfo) -> Iterator[tuple]:
        day = start.astimezone(zone).date() - timedelta(days=1)  # an overnight opening
        last = end.astimezone(zone).date()
        while day <= last:
            yield self.opening_on(day, zone)
            day += timedelta(days=1)

    def current(self, now: datetime, zone: tzinfo) -> tuple[datetime, datetime] | None:
        """The opening ``now`` falls in, or None when the store is closed."""
        for opens, closes in self._openings(now, now, zone):
            if opens <= now < closes:
                return opens, closes
        return None

    def open_minutes(self, start: datetime, end: datetime, zone: tzinfo) -> float:
        """Minutes of open time between ``start`` and ``end`` (one step per day, not per minute)."""
        if end <= start:
            return 0.0
        total = timedelta(0)
        for opens, closes in self._openings(start, end, zone):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        return total.total_seconds() / 60
