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

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backline_tui.domain.vocabulary import RecordKind


class FieldMap(BaseModel):
    """One of our fields, read from one upstream field through a value map or numeric ranges."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from", min_length=1)
    #: another upstream field read when the first one is empty (e.g. an RT link, then a CF)
    fallback: str | None = None
    #: upstream value → our value (compared case-insensitively on read)
    map: dict[str, str] = {}
    #: numeric upstream values: [lower bound, our value], the highest bound ≤ the value wins
    ranges: list[tuple[float, str]] = []
    #: our value when the upstream field is empty or its value has no entry
    default: str | None = None
    #: whether actions may write this field back (claim → Owner, target → Due, …)
    write: bool = True
    #: our value → upstream value for writes; by default the first map entry giving that value,
    #: or for ranges the lower bound of its range
    write_map: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_way(self) -> FieldMap:
        if self.map and self.ranges:
            raise ValueError("give either map or ranges, not both")
        return self

    def read(self, raw: Any) -> tuple[str | None, bool]:
        """(our value, known): known is False when the upstream value had no entry in the map
        (the default was used), so `sources check` can list it."""
        if raw is None or raw == "" or raw == []:
            return self.default, True
        if isinstance(raw, list):
            raw = raw[0]
        if self.ranges:
            try:
                number = float(raw)
            except (TypeError, ValueError):
                return self.default, False
            best: tuple[float, str] | None = None
            for bound, ours in self.ranges:
                if number >= bound and (best is None or bound > best[0]):
                    best = (bound, ours)
            return (best[1], True) if best else (self.default, False)
        if self.map:
            text = str(raw)
            if text in self.map:
                return self.map[text], True
            folded = text.casefold()
            for upstream, ours in self.map.items():
                if upstream.casefold() == folded:
                    return ours, True
            return self.default, False
        return str(raw), True

    def upstream_value(self, ours: str) -> str | None:
        """The upstream value that reads back as ``ours``; None when there is none."""
        if ours in self.write_map:
            return self.write_map[ours]
        if self.ranges:
            bounds = [bound for bound, value in self.ranges if value == ours]
            return _number(max(bounds)) if bounds else None
        if self.map:
            for upstream, value in self.map.items():
                if value == ours:
                    return upstream
            return None
        return ours


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class KindMap(BaseModel):
    """Which upstream records are one of our kinds, and where their fields come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: RT: a queue name; Jira: a project key (shorthand for a query)
    queue: str | None = None
    #: RT: TicketSQL; Jira: JQL
    query: str | None = None
    fields: dict[str, FieldMap] = {}
    #: resolve/close actions: our status → upstream transition or status name
    transitions: dict[str, str] = {}
    #: connector-specific settings (documented by each connector's mapping module)
    options: dict[str, Any] = {}

    @model_validator(mode="after")
    def _where(self) -> KindMap:
        if not self.queue and not self.query:
            raise ValueError("say which records: queue or query")
        return self

    def field(self, name: str) -> FieldMap | None:
        return self.fields.get(name)


Mapping = dict[RecordKind, KindMap]


class NotMapped(Exception):
    """An action needs a field the source's mapping does not write: refused locally, in one line
    ("priority override is not mapped for source rt")."""


def parse_mapping(source_name: str, raw: dict[str, Any]) -> Mapping:
    """The validated mapping of a source's config; a ConfigError in one line otherwise."""
    from pydantic import ValidationError

    from backline_tui.config import ConfigError

    out: dict[str, KindMap] = {}
    for kind, body in raw.items():
        try:
            out[kind] = KindMap.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            place = f"sources.{source_name}.mapping.{kind}" + (f".{where}" if where else "")
            raise ConfigError(f"config {place}: {msg}") from None
    return out  # type: ignore[return-value]


#: what each outbox op writes: (kind whose mapping holds the field, our field or None for the
#: kind as a whole, the words the user reads: "<words> is not mapped for source rt")
OP_WRITES: dict[str, tuple[str, str | None, str]] = {
    "claim": ("help_request", "owner", "claim"),
    "unclaim": ("help_request", "owner", "claim"),
    "resolve": ("help_request", "status", "resolve"),
    "bug_priority": ("bug", "priority_override", "priority override"),
    "bug_target": ("bug", "target_at", "target"),
    "link": ("case", "bugs", "case-bug link"),
    "document": ("article", None, "KB article"),
    "validate": ("article", "state", "KCS state"),
    "archive": ("article", "state", "KCS state"),
    "review": ("article", "review_due_at", "review date"),
    "flag": ("article", "flags", "article flags"),
    "unflag": ("article", "flags", "article flags"),
    "edit_article": ("article", "body", "article body"),
}


def effective_mapping(src: Any) -> Mapping | None:
    """A source's mapping: its config's; for RT without one, the project's own layout; None for
    sources that take our records as they are (demo, jsonl)."""
    return _effective(src.model_dump_json())


@functools.lru_cache(maxsize=32)
def _effective(dumped: str) -> Mapping | None:
    from backline_tui.config import SourceConfig

    src = SourceConfig.model_validate_json(dumped)
    if src.kind == "rt":
        from backline_tui.sync.rt.mapping import mapping_of

        return mapping_of(src)
    if src.mapping is not None:
        return parse_mapping(src.name, src.mapping)
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
