"""How a Jira issue becomes one of our bugs: Jira's side of the shared mapping (sync/mapping.py).

A source's ``[sources.mapping.bug]`` says which issues are bugs (``query`` = JQL, or ``queue`` =
a project key) and where fields come from. ``from`` names a Jira field by id (``priority``,
``duedate``, ``customfield_10050``) or by the name Jira shows (``Severity``, ``Story Points``);
names are resolved through ``/field``. Our fields and where they come from when not mapped:

=================  ==============================  =========================================
ours               default ``from``                 read as
=================  ==============================  =========================================
title              summary                          text
body               description                      wiki text (DC) / ADF → text (Cloud)
product            project                          the project's name
component          components                       the first component's name
fix_version        fixVersions                      the first version's name
eng_owner          assignee                         user name (DC) / display name (Cloud)
target_at          duedate                          date → midnight UTC; written back as date
status             status                           ``map`` by status name, else statusCategory
                                                    (new → open, indeterminate → in_progress,
                                                    done → fixed)
severity           (not mapped: default S3)         ``map`` or ``ranges`` as configured
priority_override  (not mapped: follows impact)     ``map`` of Jira priority names, both ways
=================  ==============================  =========================================

``options`` of the bug mapping: ``project`` and ``issue_type`` for bugs created from a case
(default: ``queue`` and "Bug"), ``links`` (read remote links for case links, default true),
``overlap_minutes`` (how far back each incremental search reaches, default 5) and
``reconcile_minutes`` (how often the keys matching the JQL are listed so that issues that left
it leave the replica, default 60; 0 = every sync).
"""

from __future__ import annotations

import difflib
from datetime import date, datetime, timezone
from typing import Any

from backline_tui.sync.mapping import FieldMap, KindMap

__all__ = ["BUG_DEFAULTS", "HELP_DEFAULTS", "STATUS_BY_CATEGORY", "FieldIndex", "jira_ts", "plain", "user_name"]

BUG_DEFAULTS: dict[str, str] = {
    "title": "summary", "body": "description", "product": "project", "component": "components",
    "fix_version": "fixVersions", "eng_owner": "assignee", "target_at": "duedate", "status": "status",
}
#: help requests from a Jira project (``[sources.mapping.help_request]``): claim → assignee,
#: respond → a comment, note → a comment restricted by ``options.note_visibility``
#: (``{ type = "role", value = "Developers" }`` or a group), resolve → the transition named by
#: ``transitions.resolved``; priority only when mapped (default P3)
HELP_DEFAULTS: dict[str, str] = {
    "subject": "summary", "body": "description", "asker": "reporter", "owner": "assignee", "product": "project",
    "component": "components",
}
SYSTEM_FIELDS = frozenset({
    "summary", "description", "priority", "project", "status", "assignee", "reporter", "duedate", "components",
    "fixVersions", "labels", "created", "updated", "resolution", "resolutiondate", "issuetype", "key", "id",
})
STATUS_BY_CATEGORY = {"new": "open", "indeterminate": "in_progress", "done": "fixed"}
#: human words for fields in conflict sentences
FIELD_WORDS = {"duedate": "due date", "priority": "priority", "assignee": "assignee"}


def jira_ts(value: Any) -> str | None:
    """Jira's ``2026-01-08T14:10:00.000+0000`` (or a ``2026-02-15`` date) as our UTC timestamp."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 10:  # a date: midnight UTC
            return date.fromisoformat(text).isoformat() + "T00:00:00Z"
        if len(text) == 28 and text.endswith("+0000") and text[10] == "T" and text[19] == ".":
            return datetime.fromisoformat(text[:19]).isoformat() + "Z"  # Jira's usual UTC form
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_name(value: Any) -> str | None:
    """A Jira user as we show it: the login name on Data Center, the display name on Cloud."""
    if not isinstance(value, dict):
        return str(value) if value else None
    return value.get("name") or value.get("displayName") or value.get("accountId")


def plain(value: Any) -> Any:
    """A Jira field value as the text a value map compares: names of objects (priority, status,
    component, version, project), ``value`` of select options, users by name; lists item by item."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        if "accountId" in value or "emailAddress" in value or "displayName" in value and "name" not in value:
            return user_name(value)
        for key in ("value", "name", "key"):
            if value.get(key) not in (None, ""):
                return value[key]
        return None
    return value


class FieldIndex:
    """Jira's fields (``/field``) by id and by name, to resolve a mapping's ``from``."""

    def __init__(self, fields: list[dict[str, Any]]) -> None:
        self.by_id = {f["id"]: f for f in fields if f.get("id")}
        self.by_name: dict[str, dict[str, Any]] = {}
        for f in fields:
            if f.get("name"):
                self.by_name.setdefault(str(f["name"]).casefold(), f)

    def resolve(self, name: str) -> str | None:
        if name in self.by_id:
            return name
        if name.casefold() in self.by_name:
            return self.by_name[name.casefold()]["id"]
        # Jira's own system fields, by id, even where /field leaves them out (jira820 lists no
        # description, priority or project there; a real Jira does)
        if name in SYSTEM_FIELDS:
            return name
        return None

    def name_of(self, field_id: str) -> str:
        f = self.by_id.get(field_id)
        return str(f.get("name") or field_id) if f else field_id

    def close_names(self, name: str) -> list[str]:
        names = [str(f.get("name")) for f in self.by_id.values() if f.get("name")]
        return difflib.get_close_matches(name, names, n=3, cutoff=0.6)


def field_maps(kind_map: KindMap, kind: str = "bug") -> dict[str, FieldMap]:
    """Each of our fields of ``kind`` that has a source: the mapping's, else the default ``from``."""
    defaults = HELP_DEFAULTS if kind == "help_request" else BUG_DEFAULTS
    out = {ours: FieldMap.model_validate({"from": upstream}) for ours, upstream in defaults.items()}
    out.update(kind_map.fields)
    return out
