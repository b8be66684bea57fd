"""The sync engine: push the outbox, then pull every source (docs/architecture.md §6).

* Push: ops go out oldest first. Each is marked ``sending`` (committed) before the connector
  pushes it and ``done`` after, with the upstream's answer written in the same transaction. An
  op found in ``sending`` at the next sync was maybe pushed by a sync that died: the connector
  checks upstream before it sends it again (a reply is never posted twice).
* A conflict (someone else got there first) is said in words, the replica takes the upstream
  state, and later ops on that record that depended on it become conflicts too.
* Pull: each batch and its cursor are written in one transaction. A record with ops still in
  the outbox keeps its local fields; records whose version we already hold are not rewritten.
* A source that cannot be reached (or refuses our credentials, or answers 5xx) ends its sync
  with one sentence; nothing is lost, the ops stay in the outbox.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from backline_tui.clock import Clock, to_ts
from backline_tui.config import Config, ConfigError, SourceConfig
from backline_tui.storage import Replica
from backline_tui.storage import outbox as ob
from backline_tui.storage import records as rec
from backline_tui.sync.base import Connector, PushResult, SourceError
from backline_tui.sync.demo_connector import LOCAL_SOURCES, DemoConnector

__all__ = ["SyncResult", "sync_all", "connector_for", "SourceError"]

Progress = Callable[[str, int, "int | None"], None]

#: ops that still go out after an earlier op on the same record ended in a conflict (an internal
#: note stands on its own); every other op waits behind the conflict, since it assumed the
#: conflicted op went through
_INDEPENDENT_OPS = {"note"}
_RECORD_TYPES = ("help_request", "case", "bug", "article")


@dataclass
class SyncResult:
    pulled: int = 0
    pushed: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return f"pulled {self.pulled}, pushed {self.pushed}, conflicts {len(self.conflicts)}"


def connector_for(src: SourceConfig, config: Config) -> Connector:
    if src.kind == "demo":
        return DemoConnector(src.name)
    if src.kind == "jsonl":
        from backline_tui.sync.jsonl import JsonlConnector

        return JsonlConnector(src, config)
    if src.kind == "rt":
        from backline_tui.sync.rt import RTConnector

        return RTConnector(src, config)
    if src.kind == "jira":
        from backline_tui.sync.jira import JiraConnector

        return JiraConnector(src, config)
    raise ConfigError(f"source {src.name}: unknown kind {src.kind!r}")


def _crash_point(name: str) -> None:
    """Test hook: BACKLINE_SYNC_CRASH=<name> kills this process right here (as a power cut would)."""
    if os.environ.get("BACKLINE_SYNC_CRASH") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def sync_all(
    replica: Replica,
    config: Config,
    *,
    source: str | None = None,
    clock: Clock | None = None,
    progress: Progress | None = None,
    connectors: dict[str, Connector] | None = None,
) -> SyncResult:
    """Push then pull every configured source (or only ``source``). Never raises for an
    unreachable source: it is reported in ``errors`` and its ops stay queued. One sync per
    database at a time (outbox.sync_lock): a second one does nothing and says so in ``errors``."""
    try:
        with ob.sync_lock(replica.path):
            return _sync_all(replica, config, source=source, clock=clock, progress=progress, connectors=connectors)
    except ob.SyncBusy as exc:
        return SyncResult(errors=[str(exc)])


def _sync_all(
    replica: Replica,
    config: Config,
    *,
    source: str | None,
    clock: Clock | None,
    progress: Progress | None,
    connectors: dict[str, Connector] | None,
) -> SyncResult:
    clock = clock or Clock()
    started = time.perf_counter()
    result = SyncResult()
    configured = {s.name: s for s in config.sources}
    if source is not None:
        if source not in configured and source not in LOCAL_SOURCES:
            config.source(source)  # raises ConfigError naming the known ones
        names = [source]
    else:
        pending = ob.pending_sources(replica.conn)
        names = [n for n in LOCAL_SOURCES if n in pending and n not in configured] + list(configured)
        orphans = [n for n in pending if n not in configured and n not in LOCAL_SOURCES]
        for n in orphans:
            count = sum(1 for op in ob.ops_to_push(replica.conn, [n]) if _pushed_by(op, config) not in configured)
            if not count:
                continue
            result.errors.append(f"{count} queued change(s) for source {n!r} cannot be sent: it is not in the config")
    for name in names:
        given = (connectors or {}).get(name)
        if given is not None:
            conn_obj = given
        elif name in configured:
            try:
                conn_obj = connector_for(configured[name], config)
            except SourceError as exc:
                result.errors.append(f"{name}: {exc}")
                continue
        else:
            conn_obj = DemoConnector(name)
        try:
            _sync_source(replica, config, name, conn_obj, clock, progress, result)
        finally:
            if given is None:
                conn_obj.close()
    result.seconds = time.perf_counter() - started
    return result


def _sync_source(replica: Replica, config: Config, name: str, connector: Connector, clock: Clock,
                 progress: Progress | None, result: SyncResult) -> None:
    def now() -> str:
        return to_ts(clock.now())

    with replica.transaction() as conn:
        log_id = ob.log_start(conn, name, now())
    pushed = pulled = conflicts = 0
    error: str | None = None
    try:
        pushed, conflicts = _push(replica, config, name, connector, now, progress, result)
        pulled = _pull(replica, config, name, connector, now, progress)
    except SourceError as exc:
        error = str(exc)
        result.errors.append(f"{name}: {error}")
    finally:
        result.pushed += pushed
        result.pulled += pulled
        with replica.transaction() as conn:
            ob.log_finish(conn, log_id, now(), pulled, pushed, conflicts, error)


def _pushed_by(op: dict[str, Any], config: Config) -> str:
    """The source whose connector pushes an op: its record's, except a case↔bug link whose bug
    lives in a Jira source, which Jira holds (a remote link on the bug)."""
    if op["op"] == "link":
        bug_source = (op.get("payload") or {}).get("bug_source")
        if bug_source and bug_source != op["source"] and any(
                s.name == bug_source and s.kind == "jira" for s in config.sources):
            return bug_source
    return op["source"]


def _push(replica: Replica, config: Config, name: str, connector: Connector, now: Callable[[], str],
          progress: Progress | None, result: SyncResult) -> tuple[int, int]:
    ops = [op for op in ob.ops_to_push(replica.conn, [name]) if _pushed_by(op, config) == name]
    if any(s.name == name and s.kind == "jira" for s in config.sources):
        routed = [op for op in ob.link_ops_to_push(replica.conn) if op["source"] != name and _pushed_by(op, config) == name]
        ops = sorted(ops + routed, key=lambda op: op["id"])
    pushed = conflicts = 0
    conflicted: dict[str, str] = {}
    waiting: set[str] = set()
    for i, op in enumerate(ops):
        if progress:
            progress("push", i, len(ops))
        ref = op["record_ref"]
        current = ob.get_op(replica.conn, op["id"])  # a rename may have moved it
        if current is None or current["state"] not in ob.ACTIVE:
            continue
        op = current
        ref = op["record_ref"]
        if ref in waiting:
            continue
        if ref in conflicted and op["op"] not in _INDEPENDENT_OPS:
            sentence = f"your {op['op'].replace('_', ' ')} on {ref} was not sent: {conflicted[ref]}"
            with replica.transaction() as conn:
                ob.mark(conn, op["id"], "conflict", now(), sentence)
            result.conflicts.append(sentence)
            conflicts += 1
            continue
        resend = op["state"] == "sending"
        if not resend:
            with replica.transaction() as conn:
                ob.mark(conn, op["id"], "sending", now(), None, count_attempt=True)
        res = connector.push(op, resend=resend)
        _crash_point("after_push")
        with replica.transaction() as conn:
            _apply_push(conn, config, name, op, res, now())
        if res.status == "done":
            pushed += 1
        elif res.status == "conflict":
            conflicts += 1
            conflicted[ref] = res.message
            result.conflicts.append(res.message)
        else:
            waiting.add(ref)
            result.errors.append(f"{ref}: {res.message}")
    if progress and ops:
        progress("push", len(ops), len(ops))
    return pushed, conflicts


def _apply_push(conn, config: Config, source: str, op: dict[str, Any], res: PushResult, now: str) -> None:
    if res.status == "error":
        ob.mark(conn, op["id"], "error", now, res.message)
        return
    ob.mark(conn, op["id"], "done" if res.status == "done" else "conflict",
            now, res.message if res.status == "conflict" else None)
    for kind, old, new, remote_id in res.renames:
        version = next((r.get("remote_version") for r in res.records if r.get("ref") == new), None)
        rec.rename_record(conn, kind, old, new, remote_id=remote_id, remote_version=version, synced_at=now)
        ob.rename_ref(conn, old, new)
    for message_id, (ref, remote_id) in res.message_refs.items():
        rec.set_message_ref(conn, message_id, ref, remote_id)
    if not res.records:
        return
    keep = ob.refs_with_local_changes(conn, source)
    if res.status == "conflict":
        keep.discard(op["record_ref"])  # the replica takes the upstream state that won
    for r in res.records:
        if r.get("type") in _RECORD_TYPES:
            r["synced_at"] = now
            if r["ref"] in keep:
                # later local changes are still queued: keep their fields, but base them on
                # the version our own change just made upstream
                rec.set_remote_version(conn, r["type"], r["ref"], r.get("remote_version"), now)
                ob.rebase(conn, source, r["ref"], r.get("remote_version"))
    rec.write_records(conn, config, res.records, strict=False, keep_local=keep)


def _pull(replica: Replica, config: Config, name: str, connector: Connector, now: Callable[[], str],
          progress: Progress | None) -> int:
    cursors = ob.get_cursors(replica.conn, name)
    pulled = 0
    for batch in connector.pull(cursors):
        with replica.transaction() as conn:
            keep = ob.refs_with_local_changes(conn, name)
            records = _drop_known(conn, batch.records)
            stamp = now()
            for r in records:
                if r.get("type") in _RECORD_TYPES:
                    r["synced_at"] = stamp
            rec.write_records(conn, config, records, strict=False, keep_local=keep)
            if batch.present is not None and batch.kind in _RECORD_TYPES:
                rec.forget_missing(conn, batch.kind, name, batch.present, keep)
            ob.set_cursor(conn, name, batch.stream, batch.cursor, stamp)
        pulled += sum(1 for r in records if r.get("type") in _RECORD_TYPES)
        if progress:
            progress("pull", pulled, None)
    return pulled


def _drop_known(conn, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records whose upstream version we already hold are not written again (nor counted)."""
    by_kind: dict[str, list[str]] = {}
    for r in records:
        if r.get("type") in _RECORD_TYPES and r.get("remote_version"):
            by_kind.setdefault(r["type"], []).append(r["ref"])
    local: dict[tuple[str, str], str | None] = {}
    for kind, refs in by_kind.items():
        for ref, version in ob.local_versions(conn, rec.TABLE_OF[kind], refs).items():
            local[(kind, ref)] = version
    return [r for r in records
            if not ((r.get("type"), r.get("ref")) in local and local[(r["type"], r["ref"])] == r.get("remote_version"))]
