"""Actions: what claim, respond, document, link, validate… do. Each is one transaction that
changes the replica and queues its outbox op (WorkbenchCore._act), so the change shows at once,
online or not. An action that makes no sense raises ActionError with a sentence for the user,
and changes nothing. The actions on articles and article links are articles.py."""

from __future__ import annotations

from datetime import date, datetime

from backline_tui.clock import parse_ts, to_ts
from backline_tui.domain import rules
from backline_tui.domain.vocabulary import PRIORITIES, SEVERITIES
from backline_tui.storage import derived, details, knowledge, mutations, outbox, records, rows
from backline_tui.workbench.articles import ArticleActions
from backline_tui.workbench.core import ActionError


class Actions(ArticleActions):
    # ---------------------------------------------------------------- help requests

    def _check_mine_or_free(self, hr: dict, verb: str) -> None:
        if hr["owner"] and hr["owner"] != self.me:
            raise ActionError(f"{hr['ref']} is claimed by {hr['owner']}; only they can {verb} it")

    def claim(self, ref: str) -> dict:
        def change(conn, hr, now):
            if hr["status"] == "resolved":
                raise ActionError(f"{hr['ref']} is already resolved")
            if hr["owner"] == self.me:
                raise ActionError(f"{hr['ref']} is already yours")
            if hr["owner"]:
                raise ActionError(f"{hr['ref']} is already claimed by {hr['owner']}")
            mutations.update(conn, "help_requests", hr["id"], now, owner=self.me,
                             status="claimed" if hr["status"] == "new" else hr["status"])
            # an unclaim not sent yet is taken back instead: upstream never sees the pair
            return {} if outbox.take_back(conn, hr["source"], hr["ref"], "unclaim") is None else None

        return self.help_request(self._act("help_request", ref, "claim", change)["id"])

    def take_over(self, ref: str) -> dict:
        """A request someone else owns becomes mine: upstream a reassignment, with the previous
        owner named in the thread."""
        def change(conn, hr, now):
            why = rules.why_not("take_over", {**hr, "kind": "help_request"}, self.me)
            if why is not None:
                raise ActionError(why)
            mutations.update(conn, "help_requests", hr["id"], now, owner=self.me,
                             status="claimed" if hr["status"] == "new" else hr["status"])
            return {"previous_owner": hr["owner"]}

        return self.help_request(self._act("help_request", ref, "take_over", change)["id"])

    def take_over_and_respond(self, ref: str, body: str) -> dict:
        """The way forward for a reply refused because someone else owns the request: take it
        over and send, all or nothing."""
        with self.replica.transaction():
            self.take_over(ref)
            return self.respond(ref, body)

    def unclaim(self, ref: str) -> dict:
        def change(conn, hr, now):
            if hr["owner"] != self.me:
                raise ActionError(f"{hr['ref']} is not yours to unclaim (owner: {hr['owner'] or 'nobody'})")
            if hr["status"] == "resolved":
                raise ActionError(f"{hr['ref']} is already resolved")
            mutations.update(conn, "help_requests", hr["id"], now, owner=None,
                             status="new" if hr["status"] == "claimed" else hr["status"])
            # a claim not sent yet is taken back instead: upstream never sees the pair
            return {} if outbox.take_back(conn, hr["source"], hr["ref"], "claim") is None else None

        return self.help_request(self._act("help_request", ref, "unclaim", change)["id"])

    def respond(self, ref: str, body: str) -> dict:
        """Reply to the asker. Answering an unclaimed request claims it."""
        if not body.strip():
            raise ActionError("a reply needs some text")

        def change(conn, hr, now):
            if hr["status"] == "resolved":
                raise ActionError(f"{hr['ref']} is resolved; add an internal note instead")
            self._check_mine_or_free(hr, "answer")
            if hr["owner"] is None and not self._refusal("claim", hr):  # a source that cannot take
                self._enqueue(conn, now, "claim", "help_request", hr)  # a claim still gets the reply
            msg_id = mutations.add_message(conn, "help_request", hr, self.me, body, "reply", now)
            mutations.update(conn, "help_requests", hr["id"], now, owner=self.me, status="answered",
                             first_response_at=hr["first_response_at"] or now)
            return {"message_id": msg_id, "body": body}

        return self.help_request(self._act("help_request", ref, "respond", change)["id"])

    def note(self, kind: str, ref: str, body: str) -> dict:
        """An internal note on a help request or a case."""
        if kind not in ("help_request", "case"):
            raise ActionError("notes go on help requests and cases")
        if not body.strip():
            raise ActionError("a note needs some text")

        def change(conn, record, now):
            msg_id = mutations.add_message(conn, kind, record, self.me, body, "note", now)
            return {"message_id": msg_id, "body": body}

        return self.detail(kind, self._act(kind, ref, "note", change)["ref"])

    def resolve(self, ref: str) -> dict:
        def change(conn, hr, now):
            if hr["status"] == "resolved":
                raise ActionError(f"{hr['ref']} is already resolved")
            self._check_mine_or_free(hr, "resolve")
            mutations.update(conn, "help_requests", hr["id"], now, owner=hr["owner"] or self.me, status="resolved",
                             resolved_at=now)
            return {}

        return self.help_request(self._act("help_request", ref, "resolve", change)["id"])

    def document(self, ref: str, title: str | None = None, body: str | None = None) -> dict:
        """Save a KCS draft as a WIP article linked to the request (and its case)."""
        if title is None or body is None:
            d_title, d_body = self.draft_article(ref)
            title = d_title if title is None else title
            body = d_body if body is None else body
        if not title.strip():
            raise ActionError("an article needs a title")
        made: list[str] = []

        def change(conn, hr, now):
            if hr["article_id"]:
                raise ActionError(f"{hr['ref']} is already documented in {self._get('article', hr['article_id'])['ref']}")
            _id, article_ref = mutations.add_draft_article(conn, hr, self.me, title.strip(), body, now)
            made.append(article_ref)
            case = self._get("case", hr["case_id"]) if hr["case_id"] else None
            # product, component and case go upstream with the draft: a teammate's replica gets them back
            return {"article_ref": article_ref, "title": title.strip(), "body": body, "product": hr["product"],
                    "component": hr["component"], "case_ref": case["ref"] if case else None,
                    "case_source": case["source"] if case else None}

        self._act("help_request", ref, "document", change)
        return self.article(made[0])

    # ---------------------------------------------------------------- cases

    def offer_help(self, ref: str, body: str | None = None, again: bool = False) -> dict:
        """Offer help to the case owner. A second offer of mine is refused unless `again` (the
        screen asks first)."""
        def change(conn, case, now):
            if case["status"] in ("solved", "closed"):
                raise ActionError(f"{case['ref']} is {case['status']}; nothing to help with")
            if not again and details.offered(conn, case["id"], self.me):
                raise ActionError(f"you already offered help on {case['ref']}")
            text = body if body and body.strip() else self.offer_text(case["ref"])
            msg_id = mutations.add_message(conn, "case", case, self.me, text, "offer", now)
            return {"message_id": msg_id, "body": text, "to": case["owner"]}

        return self.case(self._act("case", ref, "offer_help", change)["ref"])

    # ---------------------------------------------------------------- bugs

    def set_bug_priority(self, ref: str, priority: str | None) -> dict:
        if priority is not None and priority not in PRIORITIES:
            raise ActionError(f"priority must be one of {', '.join(PRIORITIES)}, or none to follow impact")

        def change(conn, bug, now):
            if bug["priority_override"] == priority:
                raise ActionError(f"{bug['ref']} priority is already {priority or 'set by impact'}")
            mutations.update(conn, "bugs", bug["id"], now, priority_override=priority)
            return self._setting_op(conn, "bug_priority", bug, "priority", priority, bug["priority_override"])

        return self.bug(self._act("bug", ref, "bug_priority", change, {"priority": priority})["ref"])

    @staticmethod
    def _setting_op(conn, op: str, bug: dict, field: str, value, before) -> dict | None:
        """One op per setting not yet sent: a newer value replaces a pending older one (the
        payload returned), and a value back to what upstream had (an undo) leaves no op (None)."""
        older = outbox.take_back(conn, bug["source"], bug["ref"], op)
        if older is not None:
            before = older["payload"].get("before", before)
            if value == before:
                return None
        return {field: value, "before": before}

    def set_bug_target(self, ref: str, target: str | date | datetime | None) -> dict:
        if isinstance(target, str):
            text = target.strip()
            try:
                target = parse_ts(text + "T00:00:00Z") if len(text) == 10 else parse_ts(text)
            except ValueError:
                raise ActionError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
        elif isinstance(target, date) and not isinstance(target, datetime):
            target = datetime(target.year, target.month, target.day)
        target_ts = to_ts(target) if target is not None else None

        def change(conn, bug, now):
            if bug["target_at"] == target_ts:
                raise ActionError(f"{bug['ref']} target is already {target_ts[:10] if target_ts else 'the default'}")
            mutations.update(conn, "bugs", bug["id"], now, target_at=target_ts)
            return self._setting_op(conn, "bug_target", bug, "target_at", target_ts, bug["target_at"])

        return self.bug(self._act("bug", ref, "bug_target", change)["ref"])

    def _get_typed(self, kind: str, ref: str) -> dict:
        """A record by a ref the user typed: as typed, else in capitals ("proj-42" is PROJ-42)."""
        ref = ref.strip()
        row = records.get_record(self._conn, kind, ref) or records.get_record(self._conn, kind, ref.upper())
        return row if row is not None else self._get(kind, ref)

    def link_case_bug(self, case_ref: str, bug_ref: str) -> dict:
        linked: list[dict] = []
        case_ref = self._get_typed("case", case_ref)["ref"]

        def change(conn, case, now):
            bug = self._get_typed("bug", bug_ref)
            linked.append(bug)
            if not rows.add_link(conn, "case_bug", case["ref"], bug["ref"], now):
                raise ActionError(f"{case['ref']} is already linked to {bug['ref']}")
            derived.refresh_bug_impact(conn, self.config, [bug["id"]])
            return {"bug_ref": bug["ref"], "bug_source": bug["source"], "bug_remote_id": bug["remote_id"]}

        # which upstreams can hold it depends on where the bug lives: decided before anything is written
        self._act("case", case_ref, "link", change, {"bug_source": self._get_typed("bug", bug_ref)["source"]})
        return self.bug(linked[0]["ref"])

    def unlink_case_bug(self, case_ref: str, bug_ref: str) -> dict:
        """Remove a case↔bug link (undo: link_case_bug); the bug's impact follows; queued."""
        unlinked: list[dict] = []

        def change(conn, case, now):
            bug = self._get("bug", bug_ref)
            unlinked.append(bug)
            if knowledge.unlink_case_bug(conn, case["id"], bug["id"]) is None:
                raise ActionError(f"{case['ref']} is not linked to {bug['ref']}")
            derived.refresh_bug_impact(conn, self.config, [bug["id"]])
            return {"bug_ref": bug["ref"], "bug_source": bug["source"], "bug_remote_id": bug["remote_id"]}

        self._act("case", case_ref, "unlink", change, {"bug_source": self._get_typed("bug", bug_ref)["source"]})
        return self.bug(unlinked[0]["ref"])

    def comment_bug(self, ref: str, body: str) -> dict:
        """A comment on a bug, for its upstream (Jira: an issue comment); waits in the outbox."""
        if not body.strip():
            raise ActionError("a comment needs some text")

        def change(conn, bug, now):
            if not any(s.name == bug["source"] and s.kind == "jira" for s in self.config.sources):
                raise ActionError(f"{bug['ref']} is not in a Jira source; comment on it where it lives")
            return {"body": body}

        return self.bug(self._act("bug", ref, "comment", change)["ref"])

    def _file_bug(self, conn, now: str, op: str, case: dict | None, source: str, title: str, body: str,
                  payload: dict, **fields) -> dict:
        """A new bug (mutations.add_local_bug, linked to `case`), its impact, and `op` queued on
        it, which creates it upstream with its link: what create_bug and escalate both do."""
        bug = mutations.add_local_bug(conn, case, source, title, body, now, **fields)
        derived.refresh_bug_impact(conn, self.config, [bug["id"]])
        self._enqueue(conn, now, op, "bug", bug, {"title": title, "body": body, **payload})
        return bug

    def create_bug(self, case_ref: str, source: str, title: str, body: str = "") -> dict:
        """A bug filed from a case in ``source`` (a bug tracker such as Jira), linked to the case at
        once; it has a local ref (NEW-BUG-n) until the sync creates it upstream."""
        if not title.strip():
            raise ActionError("a bug needs a title")
        self._check_bug_source(source, named=True)
        made: list[dict] = []

        def change(conn, case, now):
            made.append(self._file_bug(conn, now, "create_bug", case, source, title.strip(), body,
                                       {"case_ref": case["ref"], "case_source": case["source"]}))
            return None  # the op is the bug's, queued above

        self._act("case", case_ref, "create_bug", change)
        return self.bug(made[0]["ref"])

    def escalate(self, kind: str, ref: str, title: str, body: str, product: str | None = None,
                 component: str | None = None, severity: str | None = None, source: str | None = None) -> dict:
        """Save an escalation draft as an open bug linked to the case, filed in `source` (default:
        bug_source, the team's bug tracker), with one outbox op that creates it upstream with its
        link. Returns the bug."""
        if not title.strip():
            raise ActionError("a bug needs a title")
        draft = self.escalation_draft(kind, ref)
        severity = severity or draft["severity"]
        if severity not in SEVERITIES:
            raise ActionError(f"severity must be one of {', '.join(SEVERITIES)}")
        if source is not None:  # the default was checked by the draft (bug_source)
            self._check_bug_source(source, named=True)
        fields = {"product": draft["product"] if product is None else product,
                  "component": draft["component"] if component is None else component, "severity": severity}
        made: list[dict] = []

        def change(conn, record, now):
            case = self._get("case", draft["case_ref"]) if draft["case_ref"] else None
            made.append(self._file_bug(
                conn, now, "escalate", case, source or draft["source"], title.strip(), body, {
                    **fields, "version": draft["version"], "from_ref": record["ref"],
                    "case_ref": case["ref"] if case else None, "case_source": case["source"] if case else None,
                    "case_remote_id": case["remote_id"] if case else None},
                **fields))
            return None  # the op is the bug's, queued above

        self._act(kind, ref, "escalate", change)
        return self.bug(made[0]["ref"])

    # ---------------------------------------------------------------- many records at once

    BULK = ("claim", "validate", "archive", "review", "flag", "link")

    def bulk(self, action: str, refs: list[str], arg: str | None = None) -> int:
        """One action over many records, all or nothing: one transaction, one outbox op per
        record. If one record refuses (already claimed, archived…), nothing is done and the
        sentence names it. `arg`: the reason of a flag, the bug of a link."""
        one = {"claim": self.claim, "validate": self.validate, "archive": self.archive, "review": self.mark_reviewed,
               "flag": lambda ref: self.flag(ref, arg or ""), "link": lambda ref: self.link_case_bug(ref, arg or "")}
        if action not in one:
            raise ActionError(f"{action} cannot be applied to marked rows")
        with self.replica.transaction():
            for ref in refs:
                try:
                    one[action](ref)
                except ActionError as exc:
                    raise ActionError(f"nothing done: {exc}") from None
        return len(refs)
