"""Pure functions that turn RT's JSON into our values and back (no I/O): dates, users, custom
field values, refs, status names."""

from __future__ import annotations

from typing import Any

from backline_tui.clock import to_ts
from backline_tui.sync.rt.client import parse_rt_datetime

NOBODY = "Nobody"

HELP_STATUS_DONE = ("resolved", "rejected", "deleted")
CASE_STATUS = {"new": "open", "open": "open", "stalled": "on_hold", "resolved": "solved",
               "rejected": "closed", "deleted": "closed"}


def _q(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _ts(value: str | None) -> str | None:
    try:
        dt = parse_rt_datetime(value) if value else None
    except ValueError:
        return None
    return to_ts(dt) if dt else None


def _who(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    if value in (None, "", NOBODY):
        return None
    return str(value)


def _one(cfs: dict[str, list[str]], name: str, allowed: tuple[str, ...] | None = None, default: str | None = None):
    values = [v for v in cfs.get(name, []) if v not in (None, "")]
    if not values:
        return default
    value = str(values[0])
    if allowed is not None and value not in allowed:
        return default
    return value


def _ticket_id(ref: str) -> int:
    if ref.startswith("RT#") and ref[3:].isdigit():
        return int(ref[3:])
    raise ValueError(f"{ref} is not an RT ticket")


def _article_id(ref: str) -> int:
    if ref.startswith("KB#") and ref[3:].isdigit():
        return int(ref[3:])
    raise ValueError(f"{ref} is not an RT article")


def _ts_any(value: str | None) -> str | None:
    """Dates kept in freeform custom fields: ours are ISO-8601; anything else is ignored."""
    if not value:
        return None
    from backline_tui.clock import norm_ts

    try:
        return norm_ts(value)
    except ValueError:
        return _ts(value)
