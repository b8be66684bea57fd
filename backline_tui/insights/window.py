"""The window the Insights figures cover: calendar weeks up to now (26 by default), or from a
date given with --since, cut into 7-day weeks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from backline_tui.clock import parse_ts, to_ts

__all__ = ["WEEKS", "Window", "default_since", "parse_since"]

WEEKS = 26


def default_since(now: datetime, weeks: int = WEEKS) -> datetime:
    """Monday 00:00 UTC of the week `weeks - 1` weeks before now's: `weeks` calendar weeks, the
    last one (this week) still running."""
    utc = now.astimezone(timezone.utc)
    monday = (utc - timedelta(days=utc.weekday())).date()
    return datetime.combine(monday - timedelta(weeks=weeks - 1), time(0), tzinfo=timezone.utc)


def parse_since(value: str | date | datetime | None, now: datetime) -> datetime:
    if value is None or value == "":
        return default_since(now)
    if isinstance(value, datetime):
        return parse_ts(value)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=timezone.utc)
    try:
        if len(value.strip()) == 10:
            return datetime.combine(date.fromisoformat(value.strip()), time(0), tzinfo=timezone.utc)
        return parse_ts(value)
    except ValueError:
        raise ValueError(f"--since {value!r} is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class Window:
    """[since, until], cut into 7-day weeks from `since` (the last one may be partial)."""

    since: datetime
    until: datetime

    @property
    def since_ts(self) -> str:
        return to_ts(self.since)

    @property
    def until_ts(self) -> str:
        return to_ts(self.until)

    @property
    def weeks(self) -> list[date]:
        """Start date of each week in the window."""
        out, start = [], self.since
        while start <= self.until:
            out.append(start.date())
            start += timedelta(weeks=1)
        return out

    @property
    def n_weeks(self) -> float:
        """Length in weeks (fractional: the last week may be partial)."""
        return max((self.until - self.since).total_seconds() / (7 * 86400), 1 / 7)

    def week_of(self, day: str) -> int:
        """Index of the week holding a 'YYYY-MM-DD' day."""
        return (date.fromisoformat(day) - self.since.date()).days // 7

    def describe(self) -> str:
        return f"{self.since:%Y-%m-%d} to {self.until:%Y-%m-%d %H:%M} UTC ({len(self.weeks)} weeks)"
