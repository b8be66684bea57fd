"""Writing what a pull brings (the sync engine's second half: engine.py reads the batches, this
writes each one and its cursor in one transaction). A record with ops still in the outbox keeps
its local fields; records whose version we already hold are not rewritten; a link whose other
end a later batch brings waits in the replica (storage/pending_links.py); a record written
without its thread history is marked until a batch holding it lands (storage/history.py)."""

from __future__ import annotations

from typing import Any, Callable

from backline_tui.config import Config
from backline_tui.domain.vocabulary import RECORD_KINDS
from backline_tui.storage import Replica
from backline_tui.storage import history as history_store
from backline_tui.storage import outbox as outbox_store
from backline_tui.storage import pending_links as pending_store
from backline_tui.storage import records as record_store
from backline_tui.sync.base import Batch

__all__ = ["mark_history", "write_batch"]


def write_batch(replica: Replica, config: Config, name: str, batch: Batch, now: Callable[[], str],
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
        pending_store.forget_held_by(conn, name, [r["ref"] for r in fresh if r.get("type") in RECORD_KINDS])
        gone = [(kind, record_store.local_ref(conn, record_store.TABLE_OF[kind], name, ref, claim=False))
                for kind, ref in batch.gone]
        if batch.present is not None and batch.kind in RECORD_KINDS:  # said as what is still there
            gone += record_store.missing_refs(conn, batch.kind, name, batch.present)
        if gone:
            record_store.remove_records(conn, config, gone, name, keep)
        records = _drop_known(conn, fresh)
        stamp = now()
        for r in records:
            if r.get("type") in RECORD_KINDS:
                r["synced_at"] = stamp
        record_store.write_records(conn, config, records, strict=False, keep_local=keep)
        mark_history(conn, name, batch, fresh)
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
    new = {(r["type"], r["ref"]) for r in records if r.get("type") in RECORD_KINDS} - seen
    seen |= new
    counts["pulled"] += len(new)


def mark_history(conn, name: str, batch: Batch, records: list[dict[str, Any]]) -> None:
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


def _drop_known(conn, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records whose upstream version we already hold are not written again (nor counted)."""
    by_kind: dict[str, list[str]] = {}
    for r in records:
        if r.get("type") in RECORD_KINDS and r.get("remote_version"):
            by_kind.setdefault(r["type"], []).append(r["ref"])
    local: dict[tuple[str, str], str | None] = {}
    for kind, refs in by_kind.items():
        for ref, version in outbox_store.local_versions(conn, record_store.TABLE_OF[kind], refs).items():
            local[(kind, ref)] = version
    return [r for r in records
            if not ((r.get("type"), r.get("ref")) in local and local[(r["type"], r["ref"])] == r.get("remote_version"))]
