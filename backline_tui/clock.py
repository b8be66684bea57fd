"""The one injectable clock: every rule takes `now`, and the app reads it from here."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Clock:
    """Wall clock; `BACKLINE_NOW` (ISO-8601) pins it, for tests, snapshots and benchmarks."""

    def __init__(self, fixed: datetime | None = None) -> None:
        if fixed is None and os.environ.get("BACKLINE_NOW"):
            fixed = parse_ts(os.environ["BACKLINE_NOW"])
        self._fixed = fixed

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else utcnow()

    def advance(self, seconds: float) -> None:
        """Move a pinned clock on (tests of what ticks on screen); the wall clock moves itself."""
        if self._fixed is not None:
            self._fixed += timedelta(seconds=seconds)

    @property
    def fixed(self) -> bool:
        return self._fixed is not None


TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def to_ts(dt: datetime) -> str:
    """Storage form: UTC, second resolution, sortable as text."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime(TS_FORMAT)


def parse_ts(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")


def norm_ts(value: str | datetime | None) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and _CANONICAL.match(value):
        # already the storage form (nearly every timestamp an import or a sync sees): only
        # check that it is a real date and time, without the parse-convert-format round trip
        datetime.fromisoformat(value)
        return value
    return to_ts(parse_ts(value))


def duration(seconds: float | None) -> str:
    """A length of time, compact and human: 45m, 2h13m, 3d4h; its sign is the caller's to show.
    None (nothing to measure) is a dash."""
    if seconds is None:
        return "–"
    s = abs(int(round(seconds)))
    if s < 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"
