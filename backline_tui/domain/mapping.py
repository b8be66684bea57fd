"""The mapping model every connector shares (pure pydantic, no I/O): for each record kind a
source provides, which upstream records are of that kind and where each of our fields comes from,
with value maps read both ways. sync/mapping.py explains the format and decides what an action may
write; the config validates a source's mapping with parse_mapping when it loads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from backline_tui.domain.vocabulary import RecordKind


class MappingError(Exception):
    """A mapping that cannot be read, said in one line naming the key (the config turns it into
    a ConfigError)."""


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
    """The validated mapping of a source's config; a MappingError in one line otherwise."""
    out: dict[str, KindMap] = {}
    for kind, body in raw.items():
        try:
            out[kind] = KindMap.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            place = f"sources.{source_name}.mapping.{kind}" + (f".{where}" if where else "")
            raise MappingError(f"config {place}: {msg}") from None
    return out  # type: ignore[return-value]
