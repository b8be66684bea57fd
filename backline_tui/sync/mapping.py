"""How a source's records become ours: the mapping model every connector shares.

A source's config says, for each record kind it provides (help_request, case, bug, article),
which upstream records are of that kind (a queue, a TicketSQL or JQL query) and where each of our
fields comes from, with a value map. The same map, read backwards, says how an action writes the
field upstream; a field with no write mapping makes that action refuse locally.

    [[sources]]
    name = "support"
    kind = "rt"
    [sources.mapping.case]
    query = "Queue = 'General' AND Type = 'ticket'"
    [sources.mapping.case.fields.severity]
    from = "CF.Impact"
    map = { Critical = "S1", High = "S2", Medium = "S3", Low = "S4" }
    default = "S3"
    [sources.mapping.help_request.fields.priority]
    from = "Priority"
    ranges = [[70, "P1"], [40, "P2"], [10, "P3"], [0, "P4"]]

Connector-specific names in ``from`` (RT core fields, ``CF.<name>``; Jira field ids or names) are
the connector's business; this module only turns values one way and the other.
"""

from __future__ import annotations

import functools
from typing import Any

from backline_tui.domain.mapping import (  # noqa: F401 — the shared model, re-exported
    FieldMap, KindMap, Mapping, MappingError, NotMapped,
)
from backline_tui.domain.mapping import parse_mapping as _parse


def parse_mapping(source_name: str, raw: dict[str, Any]) -> Mapping:
    """The validated mapping of a source's config; a ConfigError in one line otherwise."""
    from backline_tui.config import ConfigError

    try:
        return _parse(source_name, raw)
    except MappingError as exc:
        raise ConfigError(str(exc)) from None



#: what each outbox op writes: (kind whose mapping holds the field, our field or None for the
#: kind as a whole, the words the user reads: "<words> is not mapped for source rt")
OP_WRITES: dict[str, tuple[str, str | None, str]] = {
    "claim": ("help_request", "owner", "claim"),
    "unclaim": ("help_request", "owner", "claim"),
    "take_over": ("help_request", "owner", "claim"),
    "resolve": ("help_request", "status", "resolve"),
    "bug_priority": ("bug", "priority_override", "priority override"),
    "bug_target": ("bug", "target_at", "target"),
    "link": ("case", "bugs", "case-bug link"),
    "unlink": ("case", "bugs", "case-bug link"),
    "link_article": ("article", None, "article link"),
    "unlink_article": ("article", None, "article link"),
    "document": ("article", None, "KB article"),
    "validate": ("article", "state", "KCS state"),
    "archive": ("article", "state", "KCS state"),
    "review": ("article", "review_due_at", "review date"),
    "flag": ("article", "flags", "article flags"),
    "unflag": ("article", "flags", "article flags"),
    "edit_article": ("article", "body", "article body"),
}


def effective_mapping(src: Any) -> Mapping | None:
    """The mapping an RT source writes through: its config's, else the project's own layout.
    None for the others: demo and jsonl take our records as they are, and Jira fills what its
    mapping leaves out with its own defaults (sync/jira/mapping.py) and refuses an unmapped write
    when the op is pushed."""
    return _effective(src.model_dump_json())


@functools.lru_cache(maxsize=32)
def _effective(dumped: str) -> Mapping | None:
    from backline_tui.config import SourceConfig

    src = SourceConfig.model_validate_json(dumped)
    if src.kind == "rt":
        from backline_tui.sync.rt.mapping import mapping_of

        return mapping_of(src)
    return None


def write_refusal(config: Any, source: str, op: str, payload: dict[str, Any] | None = None) -> str | None:
    """Why an action that queues ``op`` for a record of ``source`` cannot reach that source
    through its mapping (one line), or None when it can. Called by the workbench before it
    queues the op, so the action is refused at once rather than failing at sync time."""
    if op not in OP_WRITES:
        return None
    src = next((s for s in config.sources if s.name == source), None)
    if src is None:
        return None
    mapping = effective_mapping(src)
    if mapping is None:
        return None
    kind, field, words = OP_WRITES[op]
    km = mapping.get(kind)  # type: ignore[call-overload]
    if km is None:
        return f"{words} is not mapped for source {source} (it maps no {kind.replace('_', ' ')}s)"
    if field is None:
        return None
    fm = km.field(field)
    if fm is None or not fm.write:
        return f"{words} is not mapped for source {source}"
    value = (payload or {}).get("priority") if op == "bug_priority" else None
    if value and fm.upstream_value(value) is None:
        return f"{words} {value} has no value in the map of source {source}"
    return None


def link_holders(config: Any, op: str, case_source: str, bug_source: str | None) -> list[str]:
    """The sources that take a case↔bug ``op`` (link, unlink) between a case of ``case_source``
    and a bug of ``bug_source``, each its own way: the case's source (a link, or for a bug of
    another source a link to its URL) when its mapping writes case-bug links, and for a link, a
    Jira source holding the bug (a remote link on the issue). Empty: no upstream can hold it."""
    if not (op == "link" and bug_source and bug_source != case_source
            and any(s.name == bug_source and s.kind == "jira" for s in config.sources)):
        return [] if write_refusal(config, case_source, op) else [case_source]
    # the bug's Jira holds it; the case's source too when it is configured and writes links
    configured = any(s.name == case_source for s in config.sources)
    return ([case_source] if configured and not write_refusal(config, case_source, op) else []) + [bug_source]
