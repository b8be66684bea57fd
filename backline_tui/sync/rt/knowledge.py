"""RT pushes of knowledge work (issue 15), kept apart from the rest of the RT connector so they
move with it as they are: an article linked to (or unlinked from) a help request or case is a
ticket ``RefersTo`` the article's URI; a case↔bug unlink removes what the link wrote (the mapped
link field: a ticket link, or the bug's URL when the bug lives in another source); an escalation
creates a ticket in the mapped bug queue, its fields through the mapping, and links the case to it.

Mixed into RTConnector, which provides client, name, user, mapping, queues, writable, link_target,
_add_case_link, _remove_case_link, _fresh_ticket and _done."""

from __future__ import annotations

from typing import Any

from backline_tui.sync.base import PushResult


def _tid(ref: str) -> int:
    if ref.startswith("RT#") and ref[3:].isdigit():
        return int(ref[3:])
    raise ValueError(f"{ref} is not an RT ticket")


def _remote(payload: dict[str, Any], key: str, prefix: str) -> int:
    """The RT id of the record a payload names: its remote id, else its ref (RT#n / KB#n)."""
    rid = str(payload.get(f"{key}_remote_id") or "")
    if rid.isdigit():
        return int(rid)
    ref = str(payload.get(f"{key}_ref") or "")
    if ref.startswith(prefix) and ref[len(prefix):].isdigit():
        return int(ref[len(prefix):])
    raise ValueError(f"{ref or 'the record'} is not in RT yet; it stays queued until it is")


class KnowledgePush:
    client: Any
    name: str
    user: str
    mapping: Any
    queues: dict[str, str]

    def _foreign(self, op: dict[str, Any], key: str) -> PushResult | None:
        source = op["payload"].get(f"{key}_source")
        if source not in (None, self.name):
            return PushResult("error", f"{op['record_ref']} and {op['payload'].get(f'{key}_ref')} live in different "
                                       "systems; link them there")
        return None

    def _article_uri(self, op: dict[str, Any]) -> str:
        art, _ = self.client.get_article(_remote(op["payload"], "article", "KB#"))
        uri = art.get("URI")
        if not uri:
            raise ValueError(f"RT gave no address for {op['payload'].get('article_ref')}")
        return uri

    def _push_link_article(self, op: dict[str, Any], resend: bool) -> PushResult:
        if (refused := self._foreign(op, "article")) is not None:
            return refused
        self.client.add_link(_tid(op["record_ref"]), "RefersTo", self._article_uri(op))  # idempotent
        return self._done(op, already_applied=resend)

    def _push_unlink_article(self, op: dict[str, Any], resend: bool) -> PushResult:
        if (refused := self._foreign(op, "article")) is not None:
            return refused
        self.client.remove_link(_tid(op["record_ref"]), "RefersTo", self._article_uri(op))  # idempotent
        return self._done(op)

    def _push_unlink(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        target = self.link_target(p.get("bug_source"), p["bug_ref"], p.get("bug_remote_id"))
        self._remove_case_link(_tid(op["record_ref"]), self.writable("unlink"), target)  # idempotent
        return self._done(op)

    def _bug_titled(self, title: str) -> int | None:
        """A bug we already created with this title (a resend after a crash)."""
        q = lambda s: s.replace("\\", "\\\\").replace("'", "\\'")  # noqa: E731
        for t in self.client.search_tickets(
                f"Queue = '{q(self._bug_queue())}' AND Subject = '{q(title)}' AND Creator = '{q(self.user)}'",
                fields="Subject"):
            if t.get("Subject") == title:
                return int(t["id"])
        return None

    def _bug_queue(self) -> str:
        if "bug" not in self.queues:
            raise ValueError(f"a new bug needs the bug kind mapped by queue for source {self.name}")
        return self.queues["bug"]

    def _bug_fields(self, payload: dict[str, Any]) -> dict[str, str]:
        """A new bug's product, component and severity, as the mapping writes them (CFs only)."""
        km = self.mapping["bug"]
        out: dict[str, str] = {}
        for ours, default in (("product", ""), ("component", ""), ("severity", "S3")):
            fm = km.field(ours)
            if fm is not None and fm.source.startswith("CF."):
                value = payload.get(ours) or default
                out[fm.source[3:]] = (fm.upstream_value(value) or value) if value else ""
        return out

    def _push_escalate(self, op: dict[str, Any], resend: bool) -> PushResult:
        p, local = op["payload"], op["record_ref"]
        case_tid = None
        if p.get("case_ref"):
            if (refused := self._foreign(op, "case")) is not None:
                return refused
            case_tid = _remote(p, "case", "RT#")
        tid = self._bug_titled(p["title"]) if resend else None
        already = tid is not None
        if tid is None:
            tid = self.client.create_ticket(self._bug_queue(), p["title"], p.get("body") or "", self._bug_fields(p))
        if case_tid is not None:
            self._add_case_link(case_tid, self.writable("link"), tid)
        records = self._fresh_ticket("bug", tid)
        if case_tid is not None:
            records += self._fresh_ticket("case", case_tid)
        return PushResult("done", records=records, renames=[("bug", local, f"RT#{tid}", str(tid))],
                          already_applied=already)
