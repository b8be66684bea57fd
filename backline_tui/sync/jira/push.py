"""Jira push, exactly once without ETags: priority and target only over the value the op was
based on (else a conflict said in words), comments found again by their text after a crash, case
links by their globalId, created bugs by their marker label; claims, replies, notes and resolves
of help requests. Mixed into JiraConnector, which provides client, name, config, mapping, me,
cloud, fields, _maps, _field_id and _source_error, and JiraPull's readers (_records,
_fetch_fields, _text)."""

from __future__ import annotations

import hashlib
from typing import Any

from backline_tui.sync.base import PushResult, SourceError
from backline_tui.sync.jira.adf import text_to_adf
from backline_tui.sync.jira.client import JiraError, JiraNotFound, JiraRefused
from backline_tui.sync.jira.mapping import FIELD_WORDS, field_maps, plain, user_name
from backline_tui.sync.jira.versions import _GUARDED, _h, _version_part, case_global_id
from backline_tui.sync.mapping import FieldMap, NotMapped

MARKER_PREFIX = "backline-"


class JiraPush:
    # ------------------------------------------------------------------------------ push

    def push(self, op: dict[str, Any], *, resend: bool = False) -> PushResult:
        verb = op["op"].replace("_", " ")
        ref = op["record_ref"]
        handler = getattr(self, f"_push_{op['op']}", None)
        if handler is None:
            return PushResult("error", f"Jira cannot take a {verb} on {ref}")
        try:
            return handler(op, resend)
        except SourceError:
            raise
        except NotMapped as exc:
            return PushResult("error", str(exc))
        except JiraNotFound:
            return PushResult("error", f"{ref} is not in Jira (or source {self.name} cannot see it); the {verb} stays queued")
        except JiraRefused as exc:
            return PushResult("error", f"Jira refused the {verb} on {ref}: {exc.message}")
        except JiraError as exc:
            raise self._source_error(exc) from None

    def _fresh(self, key: str, kind: str = "bug") -> tuple[dict[str, Any], list[dict[str, Any]]]:
        maps = self._maps(kind)
        issue = self.client.issue(key, fields=",".join(self._fetch_fields(maps)))
        return issue, self._records(kind, [issue], maps)

    def _who_changed(self, key: str, field: str) -> str:
        """Who last changed ``field`` of an issue, from its changelog; "someone" when it says not."""
        try:
            issue = self.client.issue(key, fields="updated", expand="changelog")
        except JiraError:
            return "someone"
        histories = ((issue.get("changelog") or {}).get("histories")) or []
        for h in reversed(histories):
            if any((item.get("field") or "").lower() == field.lower() or item.get("fieldId") == field
                   for item in h.get("items") or []):
                return user_name(h.get("author")) or "someone"
        return "someone"

    def _set_field(self, op: dict[str, Any], resend: bool, fid: str, value: Any, shown: str | None) -> PushResult:
        """Set one field, unless someone else changed it since the op's base version."""
        key = op["record_ref"]
        issue, records = self._fresh(key)
        current = (issue.get("fields") or {}).get(fid)
        if plain(current) == plain(value):
            return PushResult("done", records=records, already_applied=resend)
        base = _version_part(op.get("base_version"), fid) if fid in _GUARDED else None
        if base is not None and base != _h(plain(current)):
            who = self._who_changed(key, fid)
            word = FIELD_WORDS.get(fid, self.fields.name_of(fid))
            now = plain(current)
            said = f" to {now}" if now not in (None, "", []) else " (cleared it)"
            return PushResult("conflict", f"{who} set {key}'s {word}{said} first; your change to {shown or 'nothing'} "
                                          "was not sent", records=records)
        self.client.update_issue(key, {fid: value})
        _, records = self._fresh(key)
        return PushResult("done", records=records)

    def _write_map(self, ours: str) -> tuple[FieldMap, str]:
        fm = field_maps(self.mapping["bug"]).get(ours)
        if fm is None or not fm.write:
            raise NotMapped(f"{ours.replace('_', ' ')} is not mapped for source {self.name}")
        return fm, self._field_id(fm, ours)

    def _push_bug_priority(self, op: dict[str, Any], resend: bool) -> PushResult:
        fm, fid = self._write_map("priority_override")
        ours = op["payload"].get("priority")
        if ours is None:
            return PushResult("error", f"Jira keeps a priority on every issue: set one on {op['record_ref']} "
                                       "instead of clearing the override")
        name = fm.upstream_value(ours)
        if name is None:
            return PushResult("error", f"no Jira priority maps to {ours} for source {self.name} "
                                       "(add it to mapping.bug.fields.priority_override.map)")
        return self._set_field(op, resend, fid, {"name": name}, name)

    def _push_bug_target(self, op: dict[str, Any], resend: bool) -> PushResult:
        _, fid = self._write_map("target_at")
        target = op["payload"].get("target_at")
        day = target[:10] if target else None
        return self._set_field(op, resend, fid, day, day)

    def _push_comment(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post_comment(op, resend, None)

    def _find_comment(self, key: str, text: str) -> str | None:
        """Our comment with this text among the issue's recent ones (a resend after a crash)."""
        for c in reversed(self.client.comments(key)):
            if self._is_me(c.get("author")) and self._text(c.get("body")).strip() == text.strip():
                return str(c.get("id"))
        return None

    def _case_url(self, source: str, ref: str) -> str:
        """Where a person opens the case: its RT page when the case's source is an RT we know."""
        for s in self.config.sources:
            if s.name == source and s.kind == "rt" and s.url and ref.startswith("RT#") and ref[3:].isdigit():
                return f"{s.url.rstrip('/')}/Ticket/Display.html?id={ref[3:]}"
        return f"backline:{source}:{ref}"

    def _link_case(self, bug_key: str, case_source: str, case_ref: str, title: str | None = None) -> None:
        self.client.put_remote_link(bug_key, case_global_id(case_source, case_ref), self._case_url(case_source, case_ref),
                                    title or f"Case {case_ref}", relationship="customer case")

    def _push_link(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        key = p.get("bug_ref") or ""
        self._link_case(key, op["source"], op["record_ref"])
        _, records = self._fresh(key)
        return PushResult("done", records=records, already_applied=resend)

    def _marker(self, op: dict[str, Any]) -> str:
        seed = f"{op['source']}:{op['record_ref']}:{op['created_at']}:{op.get('id')}"
        return MARKER_PREFIX + hashlib.sha1(seed.encode()).hexdigest()[:12]

    def _push_create_bug(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        km = self.mapping["bug"]
        marker = self._marker(op)
        project = km.options.get("project") or km.queue
        if not project:
            return PushResult("error", f"source {self.name}: say which project new bugs go to "
                                       "(mapping.bug.queue or mapping.bug.options.project)")
        key = issue_id = None
        if resend:
            for issue in self.client.search(f'labels = "{marker}"', ["key"], page_size=5):
                key, issue_id = issue["key"], str(issue.get("id") or "") or None
                break
        if key is None:
            body = p.get("body") or ""
            created = self.client.create_issue({
                "project": {"key": project}, "issuetype": {"name": km.options.get("issue_type", "Bug")},
                "summary": p.get("title") or "", "description": text_to_adf(body) if self.cloud else body,
                "labels": [marker],
            })
            key, issue_id = created["key"], str(created.get("id") or "") or None
        if p.get("case_ref"):
            self._link_case(key, p.get("case_source") or op["source"], p["case_ref"])
        _, records = self._fresh(key)
        return PushResult("done", records=records, renames=[("bug", op["record_ref"], key, issue_id)],
                          already_applied=resend and key is not None)

    #: an escalation (the workbench's escalate) is a bug filed from a case or help request, with
    #: the same payload keys: Jira creates it as it creates any bug
    _push_escalate = _push_create_bug

    # ------------------------------------------------------------------------------ help requests

    def _me_as_assignee(self) -> dict[str, Any]:
        me = self.me
        return {"accountId": me.get("accountId")} if self.cloud else {"name": me.get("name")}

    def _is_me(self, user: Any) -> bool:
        if not isinstance(user, dict):
            return False
        me = self.me
        return bool({user.get("name"), user.get("accountId")} - {None} & {me.get("name"), me.get("accountId")} - {None})

    def _push_claim(self, op: dict[str, Any], resend: bool) -> PushResult:
        key = op["record_ref"]
        issue, records = self._fresh(key, "help_request")
        assignee = (issue.get("fields") or {}).get("assignee")
        if self._is_me(assignee):
            return PushResult("done", records=records, already_applied=resend)
        if assignee:
            return PushResult("conflict", f"{user_name(assignee)} claimed {key} first", records=records)
        self.client.update_issue(key, {"assignee": self._me_as_assignee()})
        _, records = self._fresh(key, "help_request")
        return PushResult("done", records=records)

    def _push_unclaim(self, op: dict[str, Any], resend: bool) -> PushResult:
        key = op["record_ref"]
        issue, records = self._fresh(key, "help_request")
        assignee = (issue.get("fields") or {}).get("assignee")
        if assignee and not self._is_me(assignee):
            return PushResult("conflict", f"{user_name(assignee)} owns {key} now; your unclaim was not applied",
                              records=records)
        if assignee:
            self.client.update_issue(key, {"assignee": None})
            _, records = self._fresh(key, "help_request")
        return PushResult("done", records=records)

    def _push_take_over(self, op: dict[str, Any], resend: bool) -> PushResult:
        """A request someone else owns becomes ours: the assignee changes to us (the issue's
        history names who had it). If a third person took it meanwhile, that is a conflict."""
        key = op["record_ref"]
        before = op["payload"].get("previous_owner")
        issue, records = self._fresh(key, "help_request")
        assignee = (issue.get("fields") or {}).get("assignee")
        if self._is_me(assignee):
            return PushResult("done", records=records, already_applied=resend)
        if assignee and user_name(assignee) != before:
            return PushResult("conflict", f"{user_name(assignee)} owns {key} now; your take-over from {before} "
                              "was not applied", records=records)
        self.client.update_issue(key, {"assignee": self._me_as_assignee()})
        _, records = self._fresh(key, "help_request")
        return PushResult("done", records=records)

    def _post_comment(self, op: dict[str, Any], resend: bool, visibility: dict[str, str] | None) -> PushResult:
        key = op["record_ref"]
        text = op["payload"].get("body") or ""
        found = self._find_comment(key, text) if resend else None
        if found is None:
            made = self.client.add_comment(key, text_to_adf(text) if self.cloud else text, visibility)
            found_id, already = str(made.get("id")), False
        else:
            found_id, already = found, True
        refs = {}
        if op["payload"].get("message_id"):
            refs[int(op["payload"]["message_id"])] = (f"{key}/comment/{found_id}", found_id)
        kind = op.get("record_type") or "help_request"
        _, records = self._fresh(key, kind if kind in self.mapping else "bug")
        return PushResult("done", records=records, message_refs=refs, already_applied=already)

    def _push_respond(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post_comment(op, resend, None)

    def _push_note(self, op: dict[str, Any], resend: bool) -> PushResult:
        km = self.mapping.get(op.get("record_type") or "help_request")
        visibility = km.options.get("note_visibility") if km else None
        if not isinstance(visibility, dict) or not visibility.get("type") or not visibility.get("value"):
            raise NotMapped(f"note visibility is not mapped for source {self.name} "
                            "(mapping.help_request.options.note_visibility = { type = \"role\", value = \"…\" })")
        return self._post_comment(op, resend, {"type": str(visibility["type"]), "value": str(visibility["value"])})

    def _push_resolve(self, op: dict[str, Any], resend: bool) -> PushResult:
        key = op["record_ref"]
        name = self.mapping["help_request"].transitions.get("resolved")
        if not name:
            raise NotMapped(f"resolve is not mapped for source {self.name} (mapping.help_request.transitions.resolved)")
        issue, records = self._fresh(key, "help_request")
        status = (issue.get("fields") or {}).get("status") or {}
        if (status.get("statusCategory") or {}).get("key") == "done":
            return PushResult("done", records=records, already_applied=resend)
        options = self.client.transitions(key)
        chosen = next((t for t in options if str(t.get("name", "")).casefold() == name.casefold()
                       or str((t.get("to") or {}).get("name", "")).casefold() == name.casefold()), None)
        if chosen is None:
            shown = ", ".join(str(t.get("name")) for t in options) or "none"
            return PushResult("error", f"{key} has no transition {name!r} from {status.get('name') or 'its status'} "
                                       f"(it has: {shown})", records=records)
        self.client.transition(key, str(chosen["id"]))
        _, records = self._fresh(key, "help_request")
        return PushResult("done", records=records)
