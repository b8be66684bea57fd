"""The sync engine: push the outbox (outgoing.py), then pull every source, each batch written by
incoming.py (docs/architecture.md §6).

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

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from backline_tui.clock import Clock, to_ts
from backline_tui.config import Config, ConfigError, SourceConfig
from backline_tui.storage import Replica
from backline_tui.storage import outbox as outbox_store
from backline_tui.storage import pending_links as pending_store
from backline_tui.storage import records as record_store
from backline_tui.sync.base import Connector, SourceError
from backline_tui.sync.demo_connector import LOCAL_SOURCES, DemoConnector
from backline_tui.sync.incoming import write_batch
from backline_tui.sync.outgoing import push, still_to_reach

__all__ = ["SyncResult", "sync_all", "sync_record", "connector_for", "SourceError"]

Progress = Callable[[str, int, "int | None"], None]



@dataclass
class SyncResult:
    pulled: int = 0
    pushed: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: the lines of `errors` that say a source was not reached at all (offline, not refused)
    unreachable: list[str] = field(default_factory=list)
    #: the lines of `errors` that say a source was reached but still asked to wait (429, 503)
    busy: list[str] = field(default_factory=list)
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
                        if any(p not in configured for p in still_to_reach(op, config)))
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
        push(replica, config, name, connector, now, progress, result, counts)
        _pull(replica, config, name, connector, now, progress, counts)
    except SourceError as exc:
        result.errors.append(f"{name}: {exc}")
        if exc.unreachable:
            result.unreachable.append(result.errors[-1])
        elif exc.busy:
            result.busy.append(result.errors[-1])
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


def _pull(replica: Replica, config: Config, name: str, connector: Connector, now: Callable[[], str],
          progress: Progress | None, counts: dict[str, Any]) -> None:
    cursors = outbox_store.get_cursors(replica.conn, name)
    for batch in connector.pull(cursors):
        write_batch(replica, config, name, batch, now, counts)
        if progress:
            progress("pull", counts["pulled"], None)
            if batch.milestone:
                progress(batch.milestone, counts["pulled"], None)


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
        write_batch(replica, config, source, batch, lambda: to_ts((clock or Clock()).now()), {"pulled": 0, "cross": []})
    except SourceError as exc:
        return f"{source}: {exc}"
    finally:
        connector.close()
    return None
