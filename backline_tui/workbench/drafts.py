"""Drafts: what the user typed and has not sent (a refused reply, a compose screen open when the
app quit or crashed), kept per record and action until it is sent or discarded; and why a reply
would be refused, said before the user starts typing."""

from __future__ import annotations

from backline_tui.clock import to_ts
from backline_tui.storage import drafts
from backline_tui.workbench.core import WorkbenchCore


class Drafts(WorkbenchCore):
    def save_draft(self, kind: str, ref: str, action: str, body: str, title: str | None = None,
                   reason: str | None = None) -> None:
        """Keep what the user typed for `action` on a record until it is sent or discarded."""
        with self.replica.transaction() as conn:
            drafts.save(conn, kind, ref, action, body, title, reason, to_ts(self.now()))

    def draft(self, kind: str, ref: str, action: str) -> dict | None:
        return drafts.get(self._conn, kind, ref, action)

    def drop_draft(self, kind: str, ref: str, action: str) -> None:
        with self.replica.transaction() as conn:
            drafts.delete(conn, kind, ref, action)

    def drafts(self) -> list[dict]:
        return drafts.all_drafts(self._conn)

    def reply_refusal(self, ref: str) -> str | None:
        """Why a reply to `ref` would be refused, or None: said before the user starts typing."""
        hr = self._get("help_request", ref)
        if hr["status"] == "resolved":
            return f"{hr['ref']} is resolved"
        if hr["owner"] and hr["owner"] != self.me:
            return f"{hr['ref']} is claimed by {hr['owner']}"
        return None
