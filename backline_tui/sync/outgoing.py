"""Pushing the outbox, one source at a time (the sync engine's first half: engine.py calls `push`).

* Ops go out oldest first. Each is marked ``sending`` (committed) before the connector pushes it
  and ``done`` after, with the upstream's answer written in the same transaction. An op found in
  ``sending`` at the next sync was maybe pushed by a sync that died: the connector checks
  upstream before it sends it again (a reply is never posted twice).
* A conflict (someone else got there first) is said in words, the replica takes the upstream
  state, and later ops on that record that depended on it become conflicts too.
* An op that fails backs off (outbox.record_failure) and waits, with the later ops of its record.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, Any, Callable

from backline_tui.clock import parse_ts
from backline_tui.config import Config
from backline_tui.domain.vocabulary import RECORD_KINDS
from backline_tui.storage import Replica
from backline_tui.storage import outbox as outbox_store
from backline_tui.storage import records as record_store
from backline_tui.sync.base import Batch, Connector, PushResult
from backline_tui.sync.incoming import mark_history
from backline_tui.sync.mapping import link_holders

if TYPE_CHECKING:
    from backline_tui.sync.engine import Progress, SyncResult

__all__ = ["push", "still_to_reach"]

#: ops that still go out after an earlier op on the same record ended in a conflict (an internal
#: note stands on its own); every other op waits behind the conflict, since it assumed the
#: conflicted op went through
_INDEPENDENT_OPS = {"note"}


def _crash_point(name: str) -> None:
    """Test hook: BACKLINE_SYNC_CRASH=<name> kills this process right here (as a power cut would)."""
    if os.environ.get("BACKLINE_SYNC_CRASH") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _pushers(op: dict[str, Any], config: Config) -> list[str]:
    """The sources whose connectors push an op: its record's; a case↔bug link goes to each
    upstream that holds it, the way it holds it (sync/mapping.py link_holders: the case's RT as a
    link, to the bug's URL when the bug lives elsewhere; a Jira bug as a remote link)."""
    if op["op"] == "link":
        holders = link_holders(config, "link", op["source"], (op.get("payload") or {}).get("bug_source"))
        if holders:
            return holders
    return [op["source"]]


def still_to_reach(op: dict[str, Any], config: Config) -> list[str]:
    """The pushers of an op it has not reached yet (an op is done once it reached them all)."""
    reached = (op.get("payload") or {}).get("reached") or []
    return [p for p in _pushers(op, config) if p not in reached]


def push(replica: Replica, config: Config, name: str, connector: Connector, now: Callable[[], str],
          progress: Progress | None, result: SyncResult, counts: dict[str, Any]) -> None:
    # this source's ops, and the link ops of other sources it holds too (a case↔bug link on a bug
    # of this source), each until it has reached this source once
    ops = [op for op in outbox_store.ops_to_push(replica.conn, [name]) if name in still_to_reach(op, config)]
    routed = [op for op in outbox_store.link_ops_to_push(replica.conn) if op["source"] != name and name in still_to_reach(op, config)]
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
        if name not in still_to_reach(op, config):
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
    if res.status == "done" and [p for p in still_to_reach(op, config) if p != source]:
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
        if r.get("type") in RECORD_KINDS:
            r["synced_at"] = now
            if r["ref"] in keep:
                # later local changes are still queued: keep their fields, but base them on
                # the version our own change just made upstream
                record_store.set_remote_version(conn, r["type"], r["ref"], r.get("remote_version"), now)
                outbox_store.rebase(conn, source, r["ref"], r.get("remote_version"))
    record_store.write_records(conn, config, res.records, strict=False, keep_local=keep)
    mark_history(conn, source, Batch("", [], None), res.records)  # a pushed record comes back whole
