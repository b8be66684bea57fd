"""The sync engine: push the outbox, then pull every source (docs/architecture.md §6).

* Push: ops go out oldest first. Each is marked ``sending`` (committed) before the connector
  pushes it and ``done`` after, with the upstream's answer written in the same transaction. An
  op found in ``sending`` at the next sync was maybe pushed by a sync that died: the connector
  checks upstream before it sends it again (a reply is never posted twice).
* A conflict (someone else got there first) is said in words, the replica takes the upstream
  state, and later ops on that record that depended on it become conflicts too.
* Pull: each batch and its cursor are written in one transaction. A record with ops still in
  the outbox keeps its local fields; records whose version we already hold are not rewritten.
  A link whose other end a later batch brings waits in the replica (storage/pending_links.py),
  so a sync cut in between (a dropped connection) resumes from its cursors and loses nothing.
* A source that cannot be reached (or refuses our credentials, or answers 5xx) ends its sync
  with one sentence; nothing is lost, the ops stay in the outbox.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from backline_tui.clock import Clock, parse_ts, to_ts
from backline_tui.config import Config, ConfigError, SourceConfig
from backline_tui.storage import Replica
from backline_tui.storage import outbox as outbox_store
from backline_tui.storage import pending_links as pending_store
from backline_tui.storage import records as record_store
from backline_tui.storage import history as history_store
from backline_tui.sync.base import Batch, Connector, PushResult, SourceError
from backline_tui.sync.demo_connector import LOCAL_SOURCES, DemoConnector
from backline_tui.sync.mapping import link_holders

__all__ = ["SyncResult", "sync_all", "sync_record", "connector_for", "SourceError"]

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
    #: the lines of `errors` that say a source was not reached at all (offline, not refused)
    unreachable: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: (source, link) naming a record of another source, written again once every source synced
    #: (the other end may arrive later in the same sync)
    cross_links: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """What was done, and, when something failed, that the sync is incomplete."""
        done = f"pulled {self.pulled}, pushed {self.pushed}, conflicts {len(self.conflicts)}"
        if self.errors:
            done += f"; incomplete: {len(self.errors)} failure{'s' * (len(self.errors) != 1)}"
        return done


def connector_for(src: SourceConfig, config: Config) -> Connector:
    if src.kind == "demo":
        return DemoConnector(src.name)
    if src.kind == "jsonl":
        from backline_tui.sync.jsonl import JsonlConnector

        return JsonlConnector(src, config)
    if src.kind == "rt":
        from backline_tui.sync.rt.connector import RTConnector

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
        with outbox_store.sync_lock(replica.path):
            return _sync_all(replica, config, source=source, clock=clock, progress=progress, connectors=connectors)
    except outbox_store.SyncBusy as exc:
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
        pending = outbox_store.pending_sources(replica.conn)
        names = [n for n in LOCAL_SOURCES if n in pending and n not in configured] + list(configured)
        orphans = [n for n in pending if n not in configured and n not in LOCAL_SOURCES]
        for n in orphans:
            count = sum(1 for op in outbox_store.ops_to_push(replica.conn, [n])
                        if any(p not in configured for p in _still_to_reach(op, config)))
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
    if result.cross_links or pending_store.waiting(replica.conn):
        with replica.transaction() as conn:
            for name, link in {(n, tuple(sorted(link.items()))): (n, link) for n, link in result.cross_links}.values():
                record_store.localize_refs(conn, name, [link], set(configured))
                record_store.write_records(conn, config, [link], strict=False)
            for name in names:  # links that waited for a record which has come now
                pending_store.resolve(conn, config, name, set(configured))
    result.seconds = time.perf_counter() - started
    return result


def _sync_source(replica: Replica, config: Config, name: str, connector: Connector, clock: Clock,
                 progress: Progress | None, result: SyncResult) -> None:
    def now() -> str:
        return to_ts(clock.now())

    with replica.transaction() as conn:
        log_id = outbox_store.log_start(conn, name, now())
    # counted as they happen, so a sync that fails half-way says what it did before
    counts: dict[str, Any] = {"pushed": 0, "conflicts": 0, "pulled": 0, "cross": []}
    errors_before = len(result.errors)
    try:
        _push(replica, config, name, connector, now, progress, result, counts)
        _pull(replica, config, name, connector, now, progress, counts)
    except SourceError as exc:
        result.errors.append(f"{name}: {exc}")
        if exc.unreachable:
            result.unreachable.append(result.errors[-1])
    finally:
        result.pushed += counts["pushed"]
        result.pulled += counts["pulled"]
        result.cross_links += counts["cross"]
        failed = result.errors[errors_before:]
        error = None
        if failed:  # the log says the run failed, and why (the first failure, and how many)
            error = failed[-1] if len(failed) == 1 else f"{len(failed)} failures; last: {failed[-1]}"
        with replica.transaction() as conn:
            outbox_store.log_finish(conn, log_id, now(), counts["pulled"], counts["pushed"], counts["conflicts"], error)


def _pushers(op: dict[str, Any], config: Config) -> list[str]:
    """The sources whose connectors push an op: its record's; a case↔bug link goes to each
    upstream that holds it, the way it holds it (sync/mapping.py link_holders: the case's RT as a
    link, to the bug's URL when the bug lives elsewhere; a Jira bug as a remote link)."""
    if op["op"] == "link":
        holders = link_holders(config, "link", op["source"], (op.get("payload") or {}).get("bug_source"))
        if holders:
            return holders
    return [op["source"]]


def _still_to_reach(op: dict[str, Any], config: Config) -> list[str]:
    """The pushers of an op it has not reached yet (an op is done once it reached them all)."""
    reached = (op.get("payload") or {}).get("reached") or []
    return [p for p in _pushers(op, config) if p not in reached]


def _push(replica: Replica, config: Config, name: str, connector: Connector, now: Callable[[], str],
          progress: Progress | None, result: SyncResult, counts: dict[str, Any]) -> None:
    # this source's ops, and the link ops of other sources it holds too (a case↔bug link on a bug
    # of this source), each until it has reached this source once
    ops = [op for op in outbox_store.ops_to_push(replica.conn, [name]) if name in _still_to_reach(op, config)]
    routed = [op for op in outbox_store.link_ops_to_push(replica.conn) if op["source"] != name and name in _still_to_reach(op, config)]
    ops = sorted(ops + routed, key=lambda op: op["id"])
    due = now()
    # a record with an op backing off (or waiting for the user) keeps its later ops too, in order
    waiting: set[str] = {op["record_ref"] for op in ops if not outbox_store.is_due(op, due)}
    ops = [op for op in ops if outbox_store.is_due(op, due)]
    conflicted: dict[str, str] = {}
    for i, op in enumerate(ops):
        if progress:
            progress("push", i, len(ops))
        ref = op["record_ref"]
        current = outbox_store.get_op(replica.conn, op["id"])  # a rename may have moved it
        if current is None or current["state"] not in outbox_store.ACTIVE:
            continue
        op = current
        ref = op["record_ref"]
        if name not in _still_to_reach(op, config):
            continue
        if ref in waiting:
            continue
        if ref in conflicted and op["op"] not in _INDEPENDENT_OPS:
            sentence = f"your {op['op'].replace('_', ' ')} on {ref} was not sent: {conflicted[ref]}"
            with replica.transaction() as conn:
                outbox_store.mark(conn, op["id"], "conflict", now(), sentence)
            result.conflicts.append(sentence)
            counts["conflicts"] += 1
            continue
        resend = op["state"] == "sending"
        if not resend:
            with replica.transaction() as conn:
                outbox_store.mark(conn, op["id"], "sending", now(), None, count_attempt=True)
        res = connector.push(_upstream_refs(op, name), resend=resend)
        _crash_point("after_push")
        with replica.transaction() as conn:
            _apply_push(conn, config, name, op, res, now())
        if res.status == "done":
            counts["pushed"] += 1
        elif res.status == "conflict":
            counts["conflicts"] += 1
            conflicted[ref] = res.message
            result.conflicts.append(res.message)
        else:
            waiting.add(ref)
            result.errors.append(f"{ref}: {res.message}")
    if progress and ops:
        progress("push", len(ops), len(ops))


def _upstream_refs(op: dict[str, Any], source: str) -> dict[str, Any]:
    """The op as its connectors know it: a ref qualified in the replica (support:RT#12, where two
    sources share RT#12) goes out as its own source's (the record's, and a link's bug's)."""
    def own(ref: str | None, of: str | None) -> str | None:
        prefix = f"{of}:"
        return ref[len(prefix):] if ref and of and ref.startswith(prefix) else ref

    payload = op.get("payload") or {}
    out = {**op, "record_ref": own(op["record_ref"], op["source"])}
    if payload.get("bug_ref"):
        out["payload"] = {**payload, "bug_ref": own(payload["bug_ref"], payload.get("bug_source") or op["source"])}
    return out


def _apply_push(conn, config: Config, source: str, op: dict[str, Any], res: PushResult, now: str) -> None:
    if res.status == "error":
        s = config.sync
        outbox_store.record_failure(conn, op, res.message, parse_ts(now), base=s.retry_base, cap=s.retry_max, limit=s.retry_limit)
        return
    sources = {s.name for s in config.sources}
    record_store.localize_refs(conn, source, res.records, sources)
    res.renames = [(kind, old, record_store.local_ref(conn, record_store.TABLE_OF[kind], source, new, claim=True), rid)
                   for kind, old, new, rid in res.renames]
    res.message_refs = {mid: (record_store.local_ref(conn, "messages", source, ref, claim=True), rid)
                        for mid, (ref, rid) in res.message_refs.items()}
    if res.status == "done" and [p for p in _still_to_reach(op, config) if p != source]:
        outbox_store.mark_reached(conn, op["id"], source, now)  # another upstream still waits for it
    else:
        outbox_store.mark(conn, op["id"], "done" if res.status == "done" else "conflict",
                now, res.message if res.status == "conflict" else None)
    for kind, old, new, remote_id in res.renames:
        version = next((r.get("remote_version") for r in res.records if r.get("ref") == new), None)
        record_store.rename_record(conn, kind, old, new, remote_id=remote_id, remote_version=version, synced_at=now)
        outbox_store.rename_ref(conn, old, new)
    for message_id, (ref, remote_id) in res.message_refs.items():
        record_store.set_message_ref(conn, message_id, ref, remote_id)
    if not res.records:
        return
    keep = outbox_store.refs_with_local_changes(conn, source)
    if res.status == "conflict":
        keep.discard(op["record_ref"])  # the replica takes the upstream state that won
    for r in res.records:
        if r.get("type") in _RECORD_TYPES:
            r["synced_at"] = now
            if r["ref"] in keep:
                # later local changes are still queued: keep their fields, but base them on
                # the version our own change just made upstream
                record_store.set_remote_version(conn, r["type"], r["ref"], r.get("remote_version"), now)
                outbox_store.rebase(conn, source, r["ref"], r.get("remote_version"))
    record_store.write_records(conn, config, res.records, strict=False, keep_local=keep)
    _mark_history(conn, source, Batch("", [], None), res.records)  # a pushed record comes back whole


def _pull(replica: Replica, config: Config, name: str, connector: Connector, now: Callable[[], str],
          progress: Progress | None, counts: dict[str, Any]) -> None:
    cursors = outbox_store.get_cursors(replica.conn, name)
    for batch in connector.pull(cursors):
        _write_batch(replica, config, name, batch, now, counts)
        if progress:
            progress("pull", counts["pulled"], None)
            if batch.milestone:
                progress(batch.milestone, counts["pulled"], None)


def _write_batch(replica: Replica, config: Config, name: str, batch: Batch, now: Callable[[], str],
                 counts: dict[str, Any]) -> None:
    """One batch and its cursor (when it has a stream), in one transaction."""
    with replica.transaction() as conn:
        keep = outbox_store.refs_with_local_changes(conn, name)
        fresh = batch.records
        sources = {s.name for s in config.sources}
        counts["cross"] += [(name, link) for link in record_store.foreign_links(fresh, sources, name)]
        as_read = {id(r): dict(r) for r in fresh if r.get("type") == "link"}
        record_store.localize_refs(conn, name, fresh, sources)
        # records read again bring their links again: the ones waiting with them are dropped
        pending_store.forget_held_by(conn, name, [r["ref"] for r in fresh if r.get("type") in _RECORD_TYPES])
        gone = [(kind, record_store.local_ref(conn, record_store.TABLE_OF[kind], name, ref, claim=False))
                for kind, ref in batch.gone]
        if batch.present is not None and batch.kind in _RECORD_TYPES:  # said as what is still there
            gone += record_store.missing_refs(conn, batch.kind, name, batch.present)
        if gone:
            record_store.remove_records(conn, config, gone, name, keep)
        records = _drop_known(conn, fresh)
        stamp = now()
        for r in records:
            if r.get("type") in _RECORD_TYPES:
                r["synced_at"] = stamp
        record_store.write_records(conn, config, records, strict=False, keep_local=keep)
        _mark_history(conn, name, batch, fresh)
        # a link to a record a later batch brings (a case's article, an article's case) waits
        # in the replica, written at the end of the sync that brought that record: this one,
        # or the next when this one is cut before (this batch's cursor is stored all the same)
        pending_store.hold(conn, name, [(as_read[id(r)], r) for r in record_store.unresolved_links(conn, records)])
        if batch.links_complete:
            cases = [r["ref"] for r in fresh if r.get("type") == "case" and r["ref"] not in keep]
            links = [(r["from_ref"], r["to_ref"]) for r in fresh if r.get("type") == "link" and r["kind"] == "case_bug"]
            record_store.replace_case_links(conn, config, name, cases, links)
        if batch.stream:
            outbox_store.set_cursor(conn, name, batch.stream, batch.cursor, stamp)
    # a record pulled twice in one sync (open work first, then with its history) counts once
    seen = counts.setdefault("seen", set())
    new = {(r["type"], r["ref"]) for r in records if r.get("type") in _RECORD_TYPES} - seen
    seen |= new
    counts["pulled"] += len(new)


def _mark_history(conn, name: str, batch: Batch, records: list[dict[str, Any]]) -> None:
    """Records written without their thread history are marked until a batch holding it lands;
    a backfill's size is noted when it begins and forgotten when it ends."""
    by_kind: dict[str, list[str]] = {}
    for r in records:
        if r.get("type") in ("help_request", "case", "bug"):
            by_kind.setdefault(r["type"], []).append(r["ref"])
    for kind, refs in by_kind.items():
        if batch.history:
            history_store.landed(conn, kind, refs)
        else:
            history_store.mark_pending(conn, name, kind, refs)
    if batch.kind and not batch.history:
        history_store.begin_backfill(conn, name, batch.kind, batch.backfill_total)
    if batch.kind and batch.history_complete:
        history_store.end_backfill(conn, name, batch.kind)


def sync_record(replica: Replica, config: Config, source: str, kind: str, ref: str,
                clock: Clock | None = None) -> str | None:
    """Pull one record with its whole history now (a record opened before its history landed),
    through its source's connector. None when done, else one sentence."""
    src = next((s for s in config.sources if s.name == source), None)
    if src is None:
        return f"source {source!r} is not in the config"
    try:
        connector = connector_for(src, config)
    except SourceError as exc:
        return f"{source}: {exc}"
    one = getattr(connector, "pull_record", None)
    try:
        if one is None:
            return f"{source} cannot fetch one record's history"
        own = ref[len(source) + 1:] if ref.startswith(f"{source}:") else ref
        batch = one(kind, own)
        _write_batch(replica, config, source, batch, lambda: to_ts((clock or Clock()).now()), {"pulled": 0, "cross": []})
    except SourceError as exc:
        return f"{source}: {exc}"
    finally:
        connector.close()
    return None


def _drop_known(conn, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records whose upstream version we already hold are not written again (nor counted)."""
    by_kind: dict[str, list[str]] = {}
    for r in records:
        if r.get("type") in _RECORD_TYPES and r.get("remote_version"):
            by_kind.setdefault(r["type"], []).append(r["ref"])
    local: dict[tuple[str, str], str | None] = {}
    for kind, refs in by_kind.items():
        for ref, version in outbox_store.local_versions(conn, record_store.TABLE_OF[kind], refs).items():
            local[(kind, ref)] = version
    return [r for r in records
            if not ((r.get("type"), r.get("ref")) in local and local[(r["type"], r["ref"])] == r.get("remote_version"))]
