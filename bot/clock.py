"""The one clock. Everything that tells time asks a Clock, so tests and the shell can move it."""
from __future__ import annotations

from time import monotonic
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to: tests and the shell's `:today` / `:advance`."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(timezone.utc)

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set_local_date(self, day: date, tz: ZoneInfo, at: time = time(9, 0)) -> None:
        """Jump to ``day`` at a morning hour local time (declarations happen in the morning)."""
        self.set(datetime.combine(day, at, tzinfo=tz))


def local_today(clock: Clock, tz: ZoneInfo) -> date:
    return clock.now().astimezone(tz).date()


# The days a simulated clock (the shell's :today / :advance) may show. Keys made for a simulated
# timeline are valid from the start of this range, so every card issued inside it verifies.
FIRST_SIMULATED_DAY = date(2000, 1, 1)
LAST_SIMULATED_DAY = date(2099, 12, 31)
# A day early: 2000-01-01 in the easternmost time zone (UTC+14) begins on 1999-12-31 in UTC.
SIMULATED_TIME_START = datetime.combine(FIRST_SIMULATED_DAY - timedelta(days=1), time(0), tzinfo=timezone.utc)


def monotonic_seconds() -> float:
    """Elapsed real seconds, for pacing (Telegram's rate limits), never for dates.

    Not the Clock on purpose: tests and the shell move the Clock by days, but Telegram counts real
    seconds; and monotonic time does not jump when the wall clock is set, so a pause cannot end early.
    """
    return monotonic()
