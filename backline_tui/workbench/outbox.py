"""The outbox and sync as the workbench shows them: what is waiting to go upstream, conflicts,
the last sync, retrying an op the upstream refused, and running a sync."""

from __future__ import annotations

from typing import Any

from backline_tui.clock import to_ts
from backline_tui.storage import history, outbox
from backline_tui.workbench.core import ActionError, WorkbenchCore


class OutboxAndSync(WorkbenchCore):
    def pending_ops(self) -> int:
        return outbox.count(self._conn, ("pending", "sending"))

    def outbox(self, states: tuple[str, ...] = ("pending", "sending", "conflict", "error"), limit: int = 200) -> list[dict]:
        return outbox.listing(self._conn, states, limit)

    def conflicts(self) -> list[dict]:
        return self.outbox(("conflict",))

    def dismiss_conflict(self, op_id: int) -> None:
        with self.replica.transaction() as conn:
            outbox.dismiss(conn, op_id, to_ts(self.now()))

    def retry_op(self, op_id: int) -> bool:
        """Send an op in conflict or error again at the next sync, whatever its back-off (also one
        that failed the same way too often and waits for the user). False: no such op."""
        with self.replica.transaction() as conn:
            return outbox.retry(conn, op_id, to_ts(self.now()))

    def sync(self, progress=None, source: str | None = None):
        """Push the outbox, then pull (every configured source, or `source`). Blocking: the UI
        calls it in a worker. Returns a SyncResult (pulled, pushed, conflicts, errors, seconds)."""
        from backline_tui.sync.engine import sync_all

        return sync_all(self.replica, self.config, source=source, clock=self.clock, progress=progress)

    def unsent_ops(self) -> list[dict]:
        """The outbox view: every op not yet upstream (pending, sending, conflict, error)."""
        return self.outbox(outbox.UNSENT, 500)

    def rewrite_op(self, op_id: int, body: str, as_note: bool = False) -> None:
        """Edit the text of a reply, note or offer not yet sent (as_note: a refused reply becomes
        an internal note); it goes back in line for the next sync."""
        if not body.strip():
            raise ActionError("the text is empty")
        with self.replica.transaction() as conn:
            op = outbox.get_op(conn, op_id)
            if as_note and (op is None or op["op"] != "respond"):
                raise ActionError("only a reply can become an internal note")
            if not outbox.rewrite(conn, op_id, body, to_ts(self.now()), "note" if as_note else None):
                raise ActionError("only the text of a reply, note or offer not being sent can be edited")

    def discard_op(self, op_id: int) -> dict:
        with self.replica.transaction() as conn:
            found = outbox.discard(conn, op_id, to_ts(self.now()))
        if found is None:
            raise ActionError("that change is being sent or already went; it cannot be discarded")
        return found

    # -- history backfill (a first sync lands open work first, then the history) ----------------

    def history_words(self) -> str | None:
        """"history: 42% synced" while a first sync's history backfill runs (every source
        together), else None: the status line says it."""
        got = history.progress(self._conn)
        if not got:
            return None
        done = sum(d for d, _ in got.values())
        total = sum(t for _, t in got.values())
        percent = min(99, done * 100 // total) if total else 0  # 100% is when it ends, and then it is gone
        return f"history: {percent}% synced"

    def insights_partial(self) -> str | None:
        """What the Insights pane says of its figures while the history backfill runs."""
        words = self.history_words()
        return f"partial figures ({words})" if words else None

    def history_pending(self, kind: str, ref: str) -> bool:
        """The record came with its current fields only; its thread history has not landed."""
        return history.is_pending(self._conn, kind, ref)

    def fetch_history(self, kind: str, ref: str) -> str | None:
        """Pull one record's whole history now, through its source (blocking: call it in a
        worker). None when it landed (or was not missing), else one sentence to show."""
        if not self.history_pending(kind, ref):
            return None
        from backline_tui.storage import records
        from backline_tui.sync.engine import sync_record

        row = records.get_record(self._conn, kind, ref)
        if row is None:
            return None
        failed = sync_record(self.replica, self.config, row["source"], kind, ref, clock=self.clock)
        return f"history not synced yet: {failed}" if failed else None

    def status(self) -> dict[str, Any]:
        conn = self._conn
        last = outbox.last_sync(conn)
        ok, failed = outbox.last_syncs(conn)
        return {
            "last_success": ok["finished_at"] if ok else None,
            "last_failure": failed["finished_at"] if failed else None,
            "last_failure_error": failed["error"] if failed else None,
            "me": self.me,
            "pending": self.pending_ops(),
            "unsent": outbox.count(conn, outbox.ACTIVE),
            "in_error": outbox.count(conn, ("error",)),
            "conflicts": outbox.count(conn, ("conflict",)),
            "errors": outbox.listing(conn, ("error",)),  # refused upstream: backing off, or waiting for the user
            "last_sync": last["finished_at"] if last else None,
            "last_sync_error": last["error"] if last else None,
            "sources": [s.name for s in self.config.sources],
            "history": self.history_words(),
            # per source: last good sync (ok_at), last failure (failed_at) and, if it is the
            # latest, its error
            "source_status": self._source_status(),
            # synced before, no longer in the config: their records stay until `sources forget`
            "unconfigured_sources": sorted(set(outbox.source_status(conn)) - {s.name for s in self.config.sources}
                                           - {"demo", "local"}),
        }

    def _source_status(self) -> dict[str, dict[str, Any]]:
        known = outbox.source_status(self._conn)
        never = {"ok_at": None, "failed_at": None, "error": None}
        return {s.name: known.get(s.name, never) for s in self.config.sources}
