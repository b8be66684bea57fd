"""The connector interface: what the sync engine needs from an upstream system.

A connector pulls records changed since a cursor, as batches of interchange records (dicts as
the pydantic models in domain/models.py dump them) each with the cursor to store once the batch
is written, and pushes one outbox op at a time, saying what became of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Literal, Protocol


class SourceError(Exception):
    """The whole source cannot be synced now (unreachable, bad credentials, server error).

    Said in one line, never with a secret in it. Nothing is lost: ops stay in the outbox.
    `unreachable`: the upstream was not reached at all (the workbench works offline), as opposed
    to one that answered with a refusal or a failure. `busy`: it was reached, and still said "not
    now" (429, 503) after the retries: the workbench works from the replica, but is not offline."""

    def __init__(self, message: str, *, unreachable: bool = False, busy: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable
        self.busy = busy


@dataclass
class Batch:
    stream: str
    records: list[dict[str, Any]]
    cursor: str | None
    #: (kind, ref) of records that left this stream upstream (moved to another queue, no longer
    #: matching the query, merged into another): removed from the replica, unless changes of
    #: ours to them are still queued
    gone: list[tuple[str, str]] = field(default_factory=list)
    #: the other way to say it, for a connector that lists a whole stream (Jira): with ``kind``,
    #: every ref of that kind the stream holds upstream now; this source's records of the kind
    #: not among them left, and are removed the same way (the engine turns them into ``gone``)
    kind: str | None = None
    present: list[str] | None = None
    #: the case-bug links of the cases in ``records`` are all there: a link between two records
    #: of this source that is not among them was removed upstream, and goes here too
    links_complete: bool = False
    #: False: the records carry their current fields but not their thread history yet (a first
    #: sync, open work first); the replica marks them until a batch with their history lands
    history: bool = True
    #: with ``kind``: how many records of the kind the upstream holds, when a history backfill of
    #: the kind begins (what "history: 42% synced" counts against)
    backfill_total: int | None = None
    #: with ``kind``: every record of the kind has its history now (the backfill is over)
    history_complete: bool = False
    #: said to the engine's progress callback once the batch is written, e.g. "open work" (the
    #: open records of every kind are in the replica: the UI refreshes its panes)
    milestone: str | None = None


@dataclass
class PushResult:
    status: Literal["done", "conflict", "error"]
    #: for conflict/error: one sentence for the user ("bob claimed RT#123 first")
    message: str = ""
    #: the upstream state after the op (or, for a conflict, the state that won)
    records: list[dict[str, Any]] = field(default_factory=list)
    #: a local record now known upstream under another ref: (kind, old_ref, new_ref, remote_id)
    renames: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    #: local message id -> (upstream ref, remote id), so a pull matches the message we posted
    message_refs: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    #: True when the op was found already applied upstream (a resend after a crash)
    already_applied: bool = False


def valid_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records our models accept, as they dump them; an upstream record we cannot represent
    is left out, not fatal."""
    from pydantic import ValidationError

    from backline_tui.domain.models import RECORD_ADAPTER

    out = []
    for r in records:
        try:
            out.append(RECORD_ADAPTER.validate_python(r).model_dump(mode="json"))
        except ValidationError:
            continue
    return out


class Connector(Protocol):
    name: str

    def pull(self, cursors: dict[str, str | None]) -> Iterator[Batch]:
        """Records changed since the cursors (one per stream), oldest first."""

    def push(self, op: dict[str, Any], *, resend: bool = False) -> PushResult:
        """Apply one outbox op upstream. ``resend``: the op was found in ``sending`` (a sync died
        after pushing it, maybe): check upstream first and never apply it twice."""

    def close(self) -> None:
        ...


@dataclass
class CheckLine:
    #: "ok": found as mapped; "info": a default or a note; "warn": usable but worth a look
    #: (values with no map entry); "problem": the mapping is not usable as it stands
    level: Literal["ok", "info", "warn", "problem"]
    text: str


@dataclass
class CheckReport:
    """What `backline sources check` says of one source. Built by a connector's ``check()``,
    which only reads upstream and never writes."""

    source: str
    lines: list[CheckLine] = field(default_factory=list)

    def add(self, level: Literal["ok", "info", "warn", "problem"], text: str) -> None:
        self.lines.append(CheckLine(level, text))

    @property
    def ok(self) -> bool:
        return not any(line.level == "problem" for line in self.lines)

    @property
    def problems(self) -> list[str]:
        return [line.text for line in self.lines if line.level == "problem"]
