"""RT pushes of knowledge work (issue 15), kept apart from the rest of the RT connector so they
move with it as they are: an article linked to (or unlinked from) a help request or case is a
ticket ``RefersTo`` the article's URI; a case↔bug unlink removes what the link wrote (the mapped
link field: a ticket link, or the bug's URL when the bug lives in another source); an escalation
creates a ticket in the mapped bug queue, its fields through the mapping, and links the case to it.
Article ops (validate, archive, review, edit, flag, unflag) write the article's custom fields
through the mapping, guarded by If-Match.

Mixed into RTConnector, which provides client, name, user, mapping, queues, writable, link_target,
_add_case_link, _remove_case_link, _fresh_ticket, _fresh_article, class_id and _done."""

from __future__ import annotations

import json
from typing import Any

from backline_tui.sync.base import PushResult
from backline_tui.sync.rt.client import RTConflict
from backline_tui.sync.rt.mapping import _article_id, raw_values


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

    # article ops: custom fields, guarded by If-Match

    def _article_cfs(self, values: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
        """Our article fields -> RT custom fields, through the mapping. A field in ``required``
        that is not mapped to a CF refuses the op; the others are left out when not mapped."""
        km = self.mapping.get("article")
        out: dict[str, Any] = {}
        for field, value in values.items():
            fm = km.field(field) if km else None
            if fm is None or not fm.write or not fm.source.startswith("CF."):
                if field in required:
                    raise ValueError(f"article {field.replace('_', ' ')} is not mapped for source {self.name}")
                continue
            if value and field == "state":
                value = fm.upstream_value(value) or value
            out[fm.source[3:]] = value
        return out

    def _article_op(self, op: dict[str, Any], values: dict[str, Any], required: tuple[str, ...],
                    extra: dict[str, Any] | None = None) -> PushResult:
        aid = _article_id(op["record_ref"])
        cfs = self._article_cfs(values, required)
        fields = {"CustomFields": cfs, **(extra or {})}
        self.client.update_article(aid, fields, if_match=op.get("base_version") or None)
        art, records, _ = self._fresh_article(aid)
        have = {cf.get("name") for cf in art.get("CustomFields") or []}
        missing = sorted(set(cfs) - have)
        if missing:
            raise ValueError(f"custom field {missing[0]!r} does not exist in RT for {op['record_ref']} (source {self.name})")
        return PushResult("done", records=records)

    def _push_validate(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        return self._article_op(op, {"state": "validated", "last_reviewed_at": p.get("last_reviewed_at") or "",
                                     "review_due_at": p.get("review_due_at") or ""}, ("state",))

    def _push_archive(self, op: dict[str, Any], resend: bool) -> PushResult:
        aid = _article_id(op["record_ref"])
        art, _, _ = self._fresh_article(aid)
        flags = self._flags(art)
        for f in flags:
            f["resolved_at"] = f.get("resolved_at") or op["created_at"]
        return self._article_op(op, {"state": "archived", "flags": json.dumps(flags, ensure_ascii=False)}, ("state",))

    def _push_review(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        aid = _article_id(op["record_ref"])
        art, _, _ = self._fresh_article(aid)
        flags = self._flags(art)
        for f in flags:
            f["resolved_at"] = f.get("resolved_at") or op["created_at"]
        return self._article_op(op, {"last_reviewed_at": p.get("last_reviewed_at") or "",
                                     "review_due_at": p.get("review_due_at") or "",
                                     "flags": json.dumps(flags, ensure_ascii=False)}, ("review_due_at",))

    def _push_edit_article(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        return self._article_op(op, {"body": p.get("body") or ""}, ("body",), {"Name": p.get("title")})

    def _flags(self, art: dict) -> list[dict[str, Any]]:
        fm = self.writable("flag")
        try:
            raw = json.loads(next(iter(raw_values(art, fm.source)), "[]"))
        except ValueError:
            return []
        return [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []

    def _change_flags(self, op: dict[str, Any], change) -> PushResult:
        """Read-modify-write of the Flags field, If-Match on what we read (one retry on 412)."""
        aid = _article_id(op["record_ref"])
        name = self._article_cfs({"flags": ""}, ("flags",))
        for attempt in range(2):
            art, etag = self.client.get_article(aid)
            flags = self._flags(art)
            if not change(flags):
                break
            try:
                self.client.update_article(aid, {"CustomFields": {k: json.dumps(flags, ensure_ascii=False) for k in name}},
                                           if_match=etag)
                break
            except RTConflict:
                if attempt:
                    raise
        _, records, _ = self._fresh_article(aid)
        return PushResult("done", records=records)

    def _push_flag(self, op: dict[str, Any], resend: bool) -> PushResult:
        new = {"who": self.user, "reason": op["payload"].get("reason") or "", "at": op["created_at"], "resolved_at": None}

        def add(flags: list[dict]) -> bool:
            if any(f.get("who") == new["who"] and f.get("reason") == new["reason"] and f.get("at") == new["at"]
                   for f in flags):
                return False  # already there (a resend)
            flags.append(new)
            return True

        return self._change_flags(op, add)

    def _push_unflag(self, op: dict[str, Any], resend: bool) -> PushResult:
        def resolve(flags: list[dict]) -> bool:
            open_flags = [f for f in flags if not f.get("resolved_at")]
            if not open_flags:
                return False
            latest = max(open_flags, key=lambda f: str(f.get("at") or ""))
            latest["resolved_at"] = op["created_at"]
            return True

        return self._change_flags(op, resolve)
