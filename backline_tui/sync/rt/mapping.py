"""RT's side of the mapping: pure functions that turn RT's JSON into our values and back (no
I/O), and the declarative mapping of a source (default-mapping.toml is the project's own layout).

A field's ``from`` names an RT core field (Priority, Owner, Due, Requestor, Status, Created,
LastUpdated, ...), a link type (RefersTo, DependsOn, ...) or a custom field ``CF.<name>``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backline_tui.clock import to_ts
from backline_tui.domain.vocabulary import (
    BUG_STATUSES, CASE_STATUSES, KCS_STATES, PRIORITIES, SEVERITIES, TIERS,
)
from backline_tui.sync.mapping import OP_WRITES, KindMap, Mapping, parse_mapping  # noqa: F401 — OP_WRITES re-exported
from backline_tui.sync.rt.values import custom_fields, parse_rt_datetime

NOBODY = "Nobody"

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


# ------------------------------------------------------------------ the declarative mapping

#: RT core ticket/article fields a mapping may read (``from = "Priority"``)
CORE_FIELDS = ("Priority", "Owner", "Due", "Requestor", "Status", "Created", "LastUpdated", "Creator",
               "Resolved", "Starts", "Started", "Told", "Subject", "InitialPriority", "FinalPriority")
DATE_FIELDS = ("Due", "Created", "LastUpdated", "Resolved", "Starts", "Started", "Told")
#: link types a mapping may read (``from = "RefersTo"``): REST2 name -> _hyperlinks ref
LINK_FIELDS = {"RefersTo": "refers-to", "ReferredToBy": "referred-to-by", "DependsOn": "depends-on",
               "DependedOnBy": "depended-on-by", "MemberOf": "parent", "Members": "child"}

#: our fields per kind: (value when not mapped or empty, allowed values or None, what `sources
#: check` says of it when it is not mapped)
OUR_FIELDS: dict[str, dict[str, tuple[Any, tuple[str, ...] | None, str]]] = {
    "help_request": {
        "priority": ("P3", PRIORITIES, "P3"), "asker": (None, None, "the requestor"),
        "case_ref": (None, None, "no case"), "product": ("", None, "empty"), "component": ("", None, "empty"),
        "owner": (None, None, "nobody; claim is refused"),
        "status": ("new", ("new", "resolved"), "open until resolved in Backline; resolve is refused")},
    "case": {
        "customer": (None, None, "the requestor"), "tier": ("standard", TIERS, "standard"),
        "severity": ("S3", SEVERITIES, "S3"), "product": ("", None, "empty"), "component": ("", None, "empty"),
        "version": ("", None, "empty"), "owner": (None, None, "nobody"), "status": ("open", CASE_STATUSES, "open"),
        "reopen_count": (None, None, "reopens counted in the history"),
        "bugs": (None, None, "no case-bug links; linking is refused")},
    "bug": {
        "severity": ("S3", SEVERITIES, "S3"), "product": ("", None, "empty"), "component": ("", None, "empty"),
        "eng_owner": (None, None, "nobody"), "status": ("open", BUG_STATUSES, "open"),
        "target_at": (None, None, "the default target by priority; target is refused"),
        "priority_override": (None, PRIORITIES, "none (impact decides); priority override is refused"),
        "fix_version": (None, None, "none")},
    "article": {
        "body": ("", None, "empty"), "state": ("wip", KCS_STATES, "wip; KCS state changes are refused"),
        "owner": (None, None, "the creator"), "last_reviewed_at": (None, None, "never"),
        "review_due_at": (None, None, "none; review is refused"), "flags": (None, None, "none; flags are refused"),
        "product": ("", None, "empty"), "component": ("", None, "empty"),
        "case_ref": (None, None, "no case link (a draft's case link stays local)")},
}

DEFAULT_MAPPING_FILE = Path(__file__).with_name("default-mapping.toml")


def default_mapping(src: Any) -> Mapping:
    """Backline's own RT layout (default-mapping.toml) with the source's queue and class names."""
    import tomllib

    raw = tomllib.loads(DEFAULT_MAPPING_FILE.read_text(encoding="utf-8"))
    names = {"help_request": src.help_queue, "case": src.case_queue, "bug": src.bug_queue, "article": src.kb_class}
    for kind, name in names.items():
        raw[kind]["queue"] = name
    return parse_mapping(src.name, raw)


def mapping_of(src: Any) -> Mapping:
    """The source's mapping: its config's, or the default layout."""
    if src.mapping is None:
        return default_mapping(src)
    return parse_mapping(src.name, src.mapping)


def ticket_sql(km: KindMap) -> str:
    """The TicketSQL that selects a kind's tickets."""
    if km.query:
        return km.query
    return f"Queue = '{_q(km.queue or '')}'"


def check_from(name: str) -> str | None:
    """Why ``from = name`` cannot be an RT field, or None."""
    if name.startswith("CF.") and len(name) > 3:
        return None
    if name in CORE_FIELDS or name in LINK_FIELDS:
        return None
    return f"{name!r} is not an RT field (use one of {', '.join(CORE_FIELDS)}, a link type or CF.<name>)"


def raw_values(record: dict[str, Any], name: str) -> list[str]:
    """The values of one RT field of a ticket or article, as text (users by name, links as RT#n,
    KB#n or the URL)."""
    if name.startswith("CF."):
        return [str(v) for v in custom_fields(record).get(name[3:], []) if v not in (None, "")]
    if name in LINK_FIELDS:
        out = []
        for link in record.get("_hyperlinks") or []:
            if link.get("ref") != LINK_FIELDS[name]:
                continue
            if link.get("type") == "ticket" and link.get("id") is not None:
                out.append(f"RT#{link['id']}")
            elif link.get("type") == "article" and link.get("id") is not None:
                out.append(f"KB#{link['id']}")
            elif link.get("_url"):
                out.append(str(link["_url"]))
        return out
    value = record.get(name)
    if name in ("Owner", "Creator", "LastUpdatedBy"):
        who = _who(value)
        return [who] if who else []
    if name in ("Requestor", "Cc", "AdminCc"):
        return [w for w in (_who(v) for v in value or []) if w]
    if name in DATE_FIELDS:
        ts = _ts(value) if isinstance(value, str) else None
        return [ts] if ts else []
    if value in (None, ""):
        return []
    return [str(value.get("id") if isinstance(value, dict) else value)]


def read_field(km: KindMap, kind: str, field: str, record: dict[str, Any]) -> tuple[Any, str | None]:
    """(our value, the upstream value that had no map entry or is not one of ours, else None).
    Not mapped, empty or unknown: the field's default (the mapping's, else the documented one)."""
    default, allowed, _ = OUR_FIELDS[kind][field]
    fm = km.field(field)
    if fm is None:
        return default, None
    if fm.default is not None:
        default = fm.default
    raw = raw_values(record, fm.source)
    if not raw and fm.fallback:
        raw = raw_values(record, fm.fallback)
    if not raw:
        return default, None
    value, known = fm.read(raw[0])
    if not known or (allowed is not None and value not in allowed):
        return default, raw[0]
    return value, None


def html_to_text(html: str) -> str:
    """Readable text of an HTML-only message (paragraphs, lists, entities), by inscriptis; scripts
    and styles are dropped. The text is still untrusted: the UI shows it through text.py."""
    if not html.strip():
        return ""
    from inscriptis import get_text

    return "\n".join(line.rstrip() for line in get_text(html).strip("\n").splitlines())


def ticket_ref(value: str | None) -> str | None:
    """RT#n from ``RT#n``, ``n`` or an RT ticket URL/URI; None otherwise."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("RT#") and value[3:].isdigit():
        return value
    if value.isdigit():
        return f"RT#{value}"
    return None
