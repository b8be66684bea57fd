"""Pushing outbox ops to RT: one ``_push_<op>`` handler per op, each checked against RT
(412 → a conflict said in words; a resend after a crash looks upstream before it writes).
Mixed into RTConnector, which provides client, name, user, config, mapping, class_id,
_source_errors, _tickets and _fresh_article."""

from __future__ import annotations

from typing import Any

from backline_tui.sync.base import PushResult
from backline_tui.sync.mapping import FieldMap
from backline_tui.sync.rt.mapping import DATE_FIELDS, LINK_FIELDS, OP_WRITES, _article_id, _ticket_id, _who, raw_values
from backline_tui.sync.rt.client import (
    RTAuthError, RTConflict, RTError, RTForbidden, RTNotFound, RTRefused, RTServerError, RTUnavailable, rt_datetime,
)
from backline_tui.sync.rt.records import OFFER_SUBJECT


class RTPush:
    client: Any
    name: str
    user: str
    config: Any
    mapping: Any

    def push(self, op: dict[str, Any], *, resend: bool = False) -> PushResult:
        ref = op["record_ref"]
        verb = op["op"].replace("_", " ")
        handler = getattr(self, f"_push_{op['op']}", None)
        if handler is None:
            return PushResult("error", f"RT cannot take a {verb} on {ref}")
        with self._source_errors():
            try:
                return handler(op, resend)
            except ValueError as exc:
                return PushResult("error", str(exc))
            except RTConflict:
                return self._stale(op)
            except RTNotFound:
                return PushResult("error", f"{ref} is not in RT (or {self.user} cannot see it); the {verb} stays queued")
            except RTForbidden:
                return PushResult("error", f"RT does not let {self.user} {verb} {ref}")
            except RTRefused as exc:
                return PushResult("error", f"RT refused the {verb} on {ref}: {exc.message}")
            except (RTAuthError, RTUnavailable, RTServerError):
                raise
            except RTError as exc:
                return PushResult("error", f"RT refused the {verb} on {ref}: {exc.message}")

    def _stale(self, op: dict[str, Any]) -> PushResult:
        """412: someone changed the record since we read it."""
        ref = op["record_ref"]
        verb = op["op"].replace("_", " ")
        if op["record_type"] == "article":
            art, records, _ = self._fresh_article(_article_id(ref))
            who = _who(art.get("LastUpdatedBy")) or "someone"
            return PushResult("conflict", f"{who} changed {ref} first; your {verb} was not applied", records=records)
        records = self._fresh_ticket(op["record_type"], _ticket_id(ref))
        return PushResult("conflict", f"{ref} was changed in RT first; your {verb} was not applied", records=records)

    def _fresh_ticket(self, kind: str, tid: int) -> list[dict[str, Any]]:
        return self._tickets(kind, [tid], None)

    def _done(self, op: dict[str, Any], **kw: Any) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        return PushResult("done", records=self._fresh_ticket(op["record_type"], tid), **kw)

    def _owner(self, tid: int) -> str | None:
        ticket, _ = self.client.get_ticket(tid)
        return _who(ticket.get("Owner"))

    def writable(self, op_name: str, field: str | None = None) -> FieldMap:
        """The field an op writes, through the mapping; ValueError (said to the user) when the
        mapping does not write it. The workbench refuses such actions before they are queued
        (sync/mapping.py write_refusal); this is for ops queued before the mapping changed."""
        kind, default_field, words = OP_WRITES[op_name]
        km = self.mapping.get(kind)
        fm = km.field(field or default_field or "") if km else None
        if fm is None or not fm.write:
            raise ValueError(f"{words} is not mapped for source {self.name}")
        return fm

    def _set_ticket(self, tid: int, fm: FieldMap, value: str) -> None:
        """Write one mapped field of a ticket, then read it back: RT drops a custom field it does
        not know, or a value its select does not offer, and still answers 200."""
        name = fm.source
        if name in LINK_FIELDS:
            raise ValueError(f"{name} is a link type, not a field RT can set to {value!r}")
        body = {"CustomFields": {name[3:]: value}} if name.startswith("CF.") else {name: value}
        self.client.update_ticket(tid, body)
        ticket, _ = self.client.get_ticket(tid)
        if name.startswith("CF.") and name[3:] not in {cf.get("name") for cf in ticket.get("CustomFields") or []}:
            raise ValueError(f"custom field {name[3:]!r} does not exist in RT for RT#{tid} (source {self.name})")
        if value and value not in raw_values(ticket, name) and name not in DATE_FIELDS:
            raise ValueError(f"RT did not keep {value!r} in {name} of RT#{tid} (not one of its values?)")

    def _push_claim(self, op: dict[str, Any], resend: bool) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        fm = self.writable("claim")
        if fm.source != "Owner":
            self._set_ticket(tid, fm, self.user)
            return self._done(op)
        try:
            try:
                self.client.take(tid, if_match=op.get("base_version") or None)
            except RTConflict:
                # the ticket changed since we saw it; a comment does that too: look who owns it
                if self._owner(tid) is None:
                    self.client.take(tid)
        except RTRefused:
            pass  # "You can only take tickets that are unowned": see below who has it
        owner = self._owner(tid)
        if owner == self.user:
            return self._done(op)
        records = self._fresh_ticket(op["record_type"], tid)
        if owner is None:
            return PushResult("error", f"RT did not let {self.user} claim {ref}", records=records)
        return PushResult("conflict", f"{owner} claimed {ref} first", records=records)

    def _push_unclaim(self, op: dict[str, Any], resend: bool) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        fm = self.writable("unclaim")
        if fm.source != "Owner":
            self._set_ticket(tid, fm, "")
            return self._done(op)
        owner = self._owner(tid)
        if owner == self.user:
            self.client.untake(tid)
            return self._done(op)
        if owner is None:
            return self._done(op)
        return PushResult("conflict", f"{owner} owns {ref} now; your unclaim was not applied",
                          records=self._fresh_ticket(op["record_type"], tid))

    def _push_take_over(self, op: dict[str, Any], resend: bool) -> PushResult:
        """A request someone else owns becomes ours (RT's steal, or the mapped owner field set to
        us), and a comment in the thread names the previous owner. If a third person took it
        meanwhile, that is a conflict."""
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        fm = self.writable("take_over")
        before = op["payload"].get("previous_owner")
        if fm.source == "Owner":
            owner = self._owner(tid)
            if owner not in (self.user, before, None):
                return PushResult("conflict", f"{owner} owns {ref} now; your take-over from {before} was not applied",
                                  records=self._fresh_ticket(op["record_type"], tid))
            if owner is None:
                self.client.take(tid)
            elif owner != self.user:
                self.client.steal(tid)
        else:
            self._set_ticket(tid, fm, self.user)
        body = f"Taken over from {before} by {self.user}."
        if not (resend and self._find_message(tid, "Comment", body, op.get("base_version"))):
            self.client.comment(tid, body)
        return self._done(op)

    def _find_message(self, tid: int, txn_type: str, body: str, after: str | None,
                      subject: str | None = None) -> int | None:
        """A message of ours already in RT (a resend after a crash): its transaction id."""
        floor = int(after) if after and after.isdigit() else 0
        mine = [int(t["id"]) for t in self.client.ticket_history(tid, fields="Type,Creator")
                if t.get("Type") == txn_type and _who(t.get("Creator")) == self.user and int(t["id"]) > floor]
        if not mine:
            return None
        texts = self._attachments(mine)
        want = body.strip()
        for txn in mine:
            att = texts.get(txn)
            if att and (att.get("Content") or "").strip() == want:
                if subject is None or (att.get("Subject") or "").strip() == subject:
                    return txn
        return None

    def _post(self, op: dict[str, Any], resend: bool, txn_type: str, subject: str | None = None) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        body = op["payload"].get("body") or ""
        txn = self._find_message(tid, txn_type, body, op.get("base_version"), subject) if resend else None
        already = txn is not None
        if txn is None:
            extra = {"Subject": subject} if subject else None
            post = self.client.correspond if txn_type == "Correspond" else self.client.comment
            try:
                txn = post(tid, body, extra=extra)
            except RTRefused as exc:
                if exc.transaction_id is None:
                    raise
                txn = exc.transaction_id
        refs = {}
        if op["payload"].get("message_id"):
            refs[int(op["payload"]["message_id"])] = (f"RT#{tid}/txn/{txn}", str(txn))
        return self._done(op, message_refs=refs, already_applied=already)

    def _push_respond(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post(op, resend, "Correspond")

    def _push_note(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post(op, resend, "Comment")

    def _push_offer_help(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post(op, resend, "Comment", OFFER_SUBJECT)

    def _push_resolve(self, op: dict[str, Any], resend: bool) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        fm = self.writable("resolve")
        value = fm.upstream_value("resolved")
        if not value:
            raise ValueError(f"the status map of source {self.name} has no upstream value for resolved")
        ticket, _ = self.client.get_ticket(tid)
        if value not in raw_values(ticket, fm.source):
            self._set_ticket(tid, fm, value)
        return self._done(op)

    def _push_bug_priority(self, op: dict[str, Any], resend: bool) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        fm = self.writable("bug_priority")
        priority = op["payload"].get("priority")
        value = fm.upstream_value(priority) if priority else ""
        if value is None:
            raise ValueError(f"priority override {priority} has no upstream value in the map of source {self.name}")
        self._set_ticket(tid, fm, value)
        return self._done(op)

    def _push_bug_target(self, op: dict[str, Any], resend: bool) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        fm = self.writable("bug_target")
        target = op["payload"].get("target_at")
        self._set_ticket(tid, fm, rt_datetime(target) if target else "")
        return self._done(op)

    def link_target(self, source: str | None, ref: str, remote_id: str | None) -> int | str:
        """How RT holds a link to a record: a ticket id in this RT, else the record's URL."""
        if source in (None, self.name):
            return int(remote_id) if str(remote_id or "").isdigit() else _ticket_id(ref)
        other = next((s for s in self.config.sources if s.name == source), None)
        if other is None or not other.url:
            raise ValueError(f"{ref} comes from source {source}, which has no URL in the config; the link cannot reach RT")
        base = other.url.rstrip("/")
        if other.kind == "rt":
            return f"{base}/Ticket/Display.html?id={int(remote_id) if str(remote_id or '').isdigit() else _ticket_id(ref)}"
        if other.kind == "jira":
            return f"{base}/browse/{ref}"
        raise ValueError(f"{ref} comes from source {source} ({other.kind}), which has no web address for RT to link to")

    def _push_link(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        target = self.link_target(p.get("bug_source"), p["bug_ref"], p.get("bug_remote_id"))
        self._add_case_link(_ticket_id(op["record_ref"]), self.writable("link"), target)
        return self._done(op)

    def _add_case_link(self, tid: int, fm: FieldMap, target: int | str) -> None:
        """Case ticket ``tid`` links ``target`` (a ticket id, or a URL) in the mapped field: an RT
        link type, or a CF holding refs (appended). Idempotent."""
        if fm.source in LINK_FIELDS:
            self.client.add_link(tid, fm.source, target)
            return
        ticket, _ = self.client.get_ticket(tid)
        have = raw_values(ticket, fm.source)
        text = target if isinstance(target, str) else f"RT#{target}"
        if text not in have:
            self._set_ticket(tid, fm, ", ".join([*have, text]) if have else text)

    def _remove_case_link(self, tid: int, fm: FieldMap, target: int | str) -> None:
        """The undo of _add_case_link. Idempotent."""
        if fm.source in LINK_FIELDS:
            self.client.remove_link(tid, fm.source, target)
            return
        ticket, _ = self.client.get_ticket(tid)
        text = target if isinstance(target, str) else f"RT#{target}"
        have = [p for v in raw_values(ticket, fm.source) for p in v.replace(",", " ").split()]
        if text in have:
            self._set_ticket(tid, fm, ", ".join(v for v in have if v != text))

    def _push_document(self, op: dict[str, Any], resend: bool) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        if "article" not in self.mapping:
            raise ValueError(f"KB article is not mapped for source {self.name}")
        p = op["payload"]
        title, body, draft = p["title"], p.get("body") or "", p["article_ref"]
        names = (title, f"{title} ({ref})")
        aid = None
        if resend:
            aid = self._article_named(names)
        if aid is None:
            case = p.get("case_ref") if p.get("case_source") in (None, self.name) else None
            if case and case.startswith(f"{self.name}:"):
                case = case[len(self.name) + 1:]
            cfs = self._article_cfs({"state": "wip", "owner": self.user, "product": p.get("product") or "",
                                     "component": p.get("component") or "", "case_ref": case or ""}, required=())
            try:
                aid = self.client.create_article(self.class_id, title, "", body, cfs)
            except RTError as exc:
                if exc.status != 400:
                    raise
                if self._article_named((title,)) is None:
                    raise ValueError(f"RT refused the article for {ref}: {exc.message} "
                                     f"(check its custom fields with: backline sources check {self.name})") from None
                aid = self.client.create_article(self.class_id, names[1], "", body, cfs)  # name taken
        art, _ = self.client.get_article(aid)
        uri = art.get("URI")
        if uri:
            self.client.add_link(tid, "RefersTo", uri)
        _, records, _ = self._fresh_article(aid)
        records += self._fresh_ticket("help_request", tid)
        return PushResult("done", records=records, renames=[("article", draft, f"KB#{aid}", str(aid))],
                          already_applied=resend)

    def _article_named(self, names: tuple[str, ...]) -> int | None:
        for name in names:
            query = [{"field": "Class", "value": str(self.class_id)}, {"field": "Name", "operator": "=", "value": name}]
            for a in self.client._paged("POST", "/articles", {"fields": "Name", "per_page": 20}, json_body=query):
                if a.get("Name") == name:
                    return int(a["id"])
        return None
