"""Knowledge actions: an article linked as the answer to a help request or case (KCS reuse),
quoted in a reply, unlinked; an article validated, flagged, unflagged, archived, marked
reviewed, edited. Each is one transaction through WorkbenchCore._act, as in actions.py."""

from __future__ import annotations

from backline_tui.clock import to_ts
from backline_tui.domain import rules
from backline_tui.storage import derived, knowledge, mutations, outbox
from backline_tui.workbench.core import ActionError
from backline_tui.workbench.details import Details


class ArticleActions(Details):
    # ---------------------------------------------------------------- knowledge (KCS reuse)

    def link_article(self, kind: str, ref: str, article_ref: str) -> dict:
        """Link an article as the answer to a help request or case (KCS reuse): the reuse count
        and last reuse move, a request not yet documented is documented in it, and the link is
        queued for upstream. Returns the article."""
        if kind not in ("help_request", "case"):
            raise ActionError("articles are linked to help requests and cases")
        linked: list[dict] = []

        def change(conn, target, now):
            art = self._get("article", article_ref)
            linked.append(art)
            if art["state"] == "archived":
                raise ActionError(f"{art['ref']} is archived; link a live article")
            if not knowledge.link_article(conn, art["id"], kind, target["id"], now):
                raise ActionError(f"{target['ref']} is already linked to {art['ref']}")
            documented = kind == "help_request" and target["article_id"] is None
            if documented:
                mutations.update(conn, "help_requests", target["id"], now, article_id=art["id"])
            derived.refresh_article_stats(conn, [art["id"]])
            return {"article_ref": art["ref"], "article_source": art["source"], "article_remote_id": art["remote_id"],
                    "documented": documented}

        self._act(kind, ref, "link_article", change)
        return self.article(linked[0]["ref"])

    def quote_article(self, kind: str, ref: str, article_ref: str) -> dict:
        """What a reply quotes of an article (ref, title, its Resolution or else its body), linking
        it as the answer unless it already is (quoting it is a reuse). "linked": whether it was."""
        art = self._get("article", article_ref)
        target = self._get(kind, ref)
        linked = False
        if not any(a["id"] == art["id"] for a in knowledge.articles_of(self._conn, kind, target["id"])):
            self.link_article(kind, ref, article_ref)
            linked = True
        text = rules.kcs_sections(art["body"]).get("Resolution") or art["body"].strip()
        return {"ref": art["ref"], "title": art["title"], "text": text, "linked": linked}

    def unlink_article(self, kind: str, ref: str, article_ref: str) -> dict:
        """Remove an article link (the undo of link_article); queued for upstream."""
        unlinked: list[dict] = []

        def change(conn, target, now):
            art = self._get("article", article_ref)
            unlinked.append(art)
            if not knowledge.unlink_article(conn, art["id"], kind, target["id"]):
                raise ActionError(f"{target['ref']} is not linked to {art['ref']}")
            if kind == "help_request" and target["article_id"] == art["id"]:
                mutations.update(conn, "help_requests", target["id"], now, article_id=None)
            derived.refresh_article_stats(conn, [art["id"]])
            return {"article_ref": art["ref"], "article_source": art["source"], "article_remote_id": art["remote_id"]}

        self._act(kind, ref, "unlink_article", change)
        return self.article(unlinked[0]["ref"])

    # ---------------------------------------------------------------- articles

    def _reviewed_fields(self) -> dict[str, str]:
        now = self.now()
        return {"last_reviewed_at": to_ts(now), "review_due_at": to_ts(rules.next_review_due(now, self.config.kb))}

    def validate(self, ref: str) -> dict:
        def change(conn, art, now):
            if art["state"] == "validated":
                raise ActionError(f"{art['ref']} is already validated")
            if art["state"] == "archived":
                raise ActionError(f"{art['ref']} is archived; it cannot be validated")
            reviewed = self._reviewed_fields()
            mutations.update(conn, "articles", art["id"], now, state="validated", **reviewed)
            return {"state": "validated", **reviewed}

        return self.article(self._act("article", ref, "validate", change)["ref"])

    def flag(self, ref: str, reason: str) -> dict:
        if not reason.strip():
            raise ActionError("say why you flag it: a flag needs a reason")

        def change(conn, art, now):
            if art["state"] == "archived":
                raise ActionError(f"{art['ref']} is archived")
            flag_id = mutations.add_flag(conn, art["id"], self.me, reason.strip(), now)
            return {"flag_id": flag_id, "reason": reason.strip()}

        return self.article(self._act("article", ref, "flag", change)["ref"])

    def unflag(self, ref: str) -> dict:
        """Resolve the most recent open flag (the undo of `flag`)."""
        def change(conn, art, now):
            flag_id = mutations.latest_open_flag(conn, art["id"])
            if flag_id is None:
                raise ActionError(f"{art['ref']} has no open flag")
            if outbox.take_back(conn, art["source"], art["ref"], "flag", {"flag_id": flag_id}) is not None:
                # the flag never left: it goes, with its op
                mutations.delete_flag(conn, art["id"], flag_id)
                return None
            mutations.resolve_flags(conn, art["id"], now, flag_id)
            return {"flag_id": flag_id}

        return self.article(self._act("article", ref, "unflag", change)["ref"])

    def archive(self, ref: str) -> dict:
        def change(conn, art, now):
            if art["state"] == "archived":
                raise ActionError(f"{art['ref']} is already archived")
            mutations.update(conn, "articles", art["id"], now, state="archived")
            mutations.resolve_flags(conn, art["id"], now)
            return {"state": "archived"}

        return self.article(self._act("article", ref, "archive", change)["ref"])

    def mark_reviewed(self, ref: str) -> dict:
        """Reviewed now: the next review is due a review interval from today, open flags are resolved."""
        def change(conn, art, now):
            if art["state"] == "archived":
                raise ActionError(f"{art['ref']} is archived")
            reviewed = self._reviewed_fields()
            mutations.update(conn, "articles", art["id"], now, **reviewed)
            mutations.resolve_flags(conn, art["id"], now)
            return reviewed

        return self.article(self._act("article", ref, "review", change)["ref"])

    def edit_article(self, ref: str, title: str, body: str) -> dict:
        if not title.strip():
            raise ActionError("an article needs a title")

        def change(conn, art, now):
            if art["title"] == title.strip() and art["body"] == body:
                raise ActionError("nothing changed")
            mutations.update(conn, "articles", art["id"], now, title=title.strip(), body=body)
            return {"title": title.strip(), "body": body}

        return self.article(self._act("article", ref, "edit_article", change)["ref"])
