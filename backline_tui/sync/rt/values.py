"""RT's values as REST2 sends and takes them: dates, custom fields, link types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

__all__ = ["LINK_TYPES", "custom_fields", "parse_rt_datetime", "rt_datetime"]


def rt_datetime(value: datetime | date | str) -> str:
    """Format a moment for TicketSQL/ArticleSQL: ``'YYYY-MM-DD HH:MM:SS'`` in UTC.

    Naive datetimes are taken as UTC.  Never use the ``...T...Z`` form in a query: RT parses it
    as midnight of that day.
    """
    if isinstance(value, str):
        parsed = parse_rt_datetime(value)
        if parsed is None:
            raise ValueError(f"not a date/time: {value!r}")
        value = parsed
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%S")


_RT_DT_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:Z|[+-]00:?00)?$")


def parse_rt_datetime(value: str | None) -> datetime | None:
    """Parse RT's ``2026-11-23T00:14:38Z`` (or ``2026-11-23 00:14:38``) into an aware UTC datetime.

    Returns None for empty values and RT's "not set" value ``1970-01-01T00:00:00Z``.
    """
    if not value:
        return None
    match = _RT_DT_RE.match(value.strip())
    if not match:
        raise ValueError(f"not an RT date/time: {value!r}")
    parsed = datetime.fromisoformat(f"{match[1]}T{match[2]}").replace(tzinfo=timezone.utc)
    if parsed.year == 1970 and parsed.timetuple().tm_yday == 1 and parsed.hour == 0:
        return None
    return parsed


def custom_fields(record: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{name: [values]}`` from a record's ``CustomFields`` list (null values dropped)."""
    result: dict[str, list[str]] = {}
    for cf in record.get("CustomFields") or []:
        if isinstance(cf, Mapping) and "name" in cf:
            result[cf["name"]] = [v for v in cf.get("values") or [] if v is not None]
    return result


# REST2 field name -> _hyperlinks "ref" of GET /ticket/:id
LINK_TYPES: dict[str, str] = {
    "RefersTo": "refers-to",
    "ReferredToBy": "referred-to-by",
    "DependsOn": "depends-on",
    "DependedOnBy": "depended-on-by",
    "MemberOf": "parent",
    "Members": "child",
}
_REF_TO_LINK = {ref: name for name, ref in LINK_TYPES.items()}
