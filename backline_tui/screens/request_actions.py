"""Record actions on help requests and cases: claim, take over, reply, note, resolve, document,
edit in $EDITOR, offer help. Mixed into RecordActions (screens/actions.py), whose `_rec`, `_wb`
and `_bulk` they use; every database call goes through the facade on the database thread."""

from __future__ import annotations

from typing import Any

from backline_tui import log
from backline_tui.screens.sending import Sending
from backline_tui.text import clean


class RequestActions:
    app: Any

    # -- help requests -------------------------------------------------------------------------

    def action_claim(self) -> None:
        if self._bulk("claim") or (rec := self._rec()) is None:
            return
        ref, wb = rec["ref"], self._wb()
        self.app.perform(lambda: wb.claim(ref), f"claimed {ref}", undo=(f"claim {ref}", lambda: wb.unclaim(ref)))

    def action_unclaim(self) -> None:
        if (rec := self._rec()) is None:
            return
        ref, wb = rec["ref"], self._wb()
        self.app.perform(lambda: wb.unclaim(ref), f"unclaimed {ref}", undo=(f"unclaim {ref}", lambda: wb.claim(ref)))

    def action_take_over(self) -> None:
        """Take a request over from its owner, after a confirmation that names them."""
        if (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import ConfirmScreen

        ref, wb = rec["ref"], self._wb()
        if (why := self.refusal("take_over", rec)) is not None:
            self.app.say(why, severity="warning")
            return
        owner = rec.get("owner")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.perform(lambda: wb.take_over(ref), f"took {ref} over from {owner}")

        self.app.push_screen(ConfirmScreen(
            f"Take {ref} over from {owner}?", f"{owner} owns it now; they are named in the thread and it becomes yours",
            "Take over", note=f"{self.app.key_of('confirm.yes')} = take it over, {self.app.key_of('confirm.no')} = no"),
            confirmed)

    def action_respond(self, use_editor: bool = False) -> None:
        if (rec := self._rec()) is None:
            return
        ref, kind, wb = rec["ref"], rec["kind"], self._wb()
        sending = Sending(
            send=lambda c: wb.respond(ref, c.body),
            done=lambda _: f"reply sent to {ref} (queued for sync)",
            draft=(kind, ref, "respond"),
            as_note=lambda c: wb.note(kind, ref, c.body),
            take_over=lambda c: wb.take_over_and_respond(ref, c.body),
        )
        self._open_compose("Send reply", f"Reply to {ref} · asked by {rec.get('asker') or '?'}", "", sending,
                           use_editor, precheck=lambda: wb.reply_refusal(ref), articles=True)

    def action_note(self, use_editor: bool = False) -> None:
        if (rec := self._rec()) is None:
            return
        ref, kind, wb = rec["ref"], rec["kind"], self._wb()
        sending = Sending(send=lambda c: wb.note(kind, ref, c.body), done=lambda _: f"note added to {ref}",
                          draft=(kind, ref, "note"))
        self._open_compose("Save note", f"Internal note on {ref} (not shown to the asker or customer)",
                           "", sending, use_editor)

    def _question(self, rec: dict) -> str:
        subject = rec.get("subject") or rec.get("title") or ""
        body = rec.get("body")
        return f"{subject}\n\n{body}" if body else subject

    def _open_compose(self, label: str, heading: str, body: str, sending: Sending, use_editor: bool,
                      precheck=None, articles: bool = False) -> None:
        rec = self.target()
        self.app.typeahead = []
        self.app.run_worker(self._open_compose_async(rec, label, heading, body, sending, use_editor, precheck,
                                                     articles), group="action")

    async def _open_compose_async(self, rec, label, heading, body, sending: Sending, use_editor, precheck,
                                  articles: bool = False) -> None:
        from backline_tui.screens.compose import ComposeScreen

        app, wb = self.app, self._wb()
        if precheck is not None:
            # say up front why the text would be refused, before anything is typed
            ok, refusal = await app.attempt(precheck)
            if not ok or refusal:
                app.typeahead = None
                if refusal:
                    way = f"{app.key_of('note')} writes an internal note"
                    if "claimed by" in refusal:
                        way += f", {app.key_of('take_over')} takes it over"
                    app.say(f"{refusal}: a reply would be refused; {way}", severity="warning")
                return
        context = ""
        if rec is not None:
            try:
                full = await app.call_db(wb.detail, rec["kind"], rec["ref"])
                context = self._question(full)
            except Exception:  # noqa: BLE001 — the record vanished: compose without context
                log.get(__name__).warning("no context for compose on %s", rec.get("ref"), exc_info=True)
                context = self._question(rec)
        notice = ""
        if sending.draft is not None:
            try:
                draft = await app.call_db(wb.draft, *sending.draft)
            except Exception:  # noqa: BLE001 — no draft table (an old replica): start empty
                draft = None
            if draft is not None:
                body = draft["body"]
                notice = f"your unsent text from {draft['updated_at'][:16].replace('T', ' ')}Z is back" + (
                    f" (not sent: {draft['reason']})" if draft.get("reason") else "")
        if app.screen is not self:  # the user went elsewhere meanwhile
            app.typeahead = None
            return
        kwargs = dict(heading=heading, context=context, body=body, submit_label=label, start_in_editor=use_editor,
                      sending=sending, notice=notice)
        if articles and rec is not None:  # a reply: the KB at hand (ReplyScreen)
            from backline_tui.screens.reply import ReplyScreen

            app.push_screen(ReplyScreen(record=rec, **kwargs))
        else:
            app.push_screen(ComposeScreen(**kwargs))

    def action_resolve(self) -> None:
        if (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import ConfirmScreen

        ref, wb = rec["ref"], self._wb()
        if (why := self.refusal("resolve", rec)) is not None:
            self.app.say(why, severity="warning")  # before asking, not after
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.perform(lambda: wb.resolve(ref), f"resolved {ref}")

        self.app.push_screen(
            ConfirmScreen(f"Resolve {ref}?", clean(rec.get("subject") or ""), "Resolve"), confirmed)

    def action_document(self) -> None:
        if (rec := self._rec()) is None:
            return
        self.app.typeahead = []
        self.app.run_worker(self._document(rec), group="action")

    async def _document(self, rec: dict) -> None:
        ref, wb = rec["ref"], self._wb()
        ok, current = await self.app.attempt(wb.help_request, ref)
        if not ok:
            self.app.typeahead = None
            return
        if current.get("article"):
            self.app.typeahead = None
            self.app.say(f"{ref} is already documented in {current['article']['ref']}", severity="warning")
            return
        # an article written earlier and not saved comes straight back; otherwise the articles
        # that already cover the question first: link one, or go on to draft
        ok, kept = await self.app.attempt(wb.draft, "help_request", ref, "document")
        if ok and kept is not None:
            await self._draft(rec)
            return
        if not await self.covered_first(rec, lambda: self._draft(rec)):
            await self._draft(rec)

    async def _draft(self, rec: dict) -> None:
        from backline_tui.screens.compose import ArticleComposeScreen

        ref, wb = rec["ref"], self._wb()
        ok, draft = await self.app.attempt(wb.draft_article, ref)
        if not ok:
            self.app.typeahead = None
            return
        title, body = draft
        ok, kept = await self.app.attempt(wb.draft, "help_request", ref, "document")
        if ok and kept is not None:  # an article written earlier and not saved: it comes back
            title, body = kept["title"] or title, kept["body"]
            self.app.say(f"your unsaved article for {ref} is back")

        sending = Sending(send=lambda c: wb.document(ref, c.title, c.body),
                          done=lambda art: f"documented {ref} in {art['ref']} (work in progress article)",
                          draft=("help_request", ref, "document"))
        self.app.push_screen(
            ArticleComposeScreen(heading=f"Document {ref} as a KB article (KCS: Issue / Environment / Resolution / Cause)",
                                 context="", body=clean(body), title=clean(title), submit_label="Save article",
                                 sending=sending))

    def action_edit(self) -> None:
        if (rec := self._rec()) is None:
            return
        kind = rec["kind"]
        if kind == "help_request":
            self.action_respond(use_editor=True)
        elif kind == "case":
            self.action_note(use_editor=True)
        elif kind == "article":
            self.app.run_worker(self._edit_article(rec), group="action")

    async def _edit_article(self, rec: dict) -> None:
        ref, wb = rec["ref"], self._wb()
        ok, art = await self.app.attempt(wb.article, ref)
        if not ok:
            return
        text = self.app.edit_text(f"{art['title']}\n\n{art['body']}", ".md")
        if text is None:
            self.app.say("edit cancelled")
            return
        title, _, body = text.partition("\n")
        body = body[1:] if body.startswith("\n") else body
        self.app.perform(lambda: wb.edit_article(ref, title, body), f"saved {ref}")

    # -- cases -----------------------------------------------------------------------------------

    def action_offer(self) -> None:
        if (rec := self._rec()) is None:
            return
        self.app.typeahead = []
        self.app.run_worker(self._offer(rec), group="action")

    async def _offer(self, rec: dict) -> None:
        from backline_tui.screens.dialogs import ConfirmScreen

        ref, wb = rec["ref"], self._wb()
        ok, text = await self.app.attempt(wb.offer_text, ref)
        if ok:
            ok, case = await self.app.attempt(wb.case, ref)
        if not ok:
            self.app.typeahead = None
            return
        offers = case["offers"]

        def compose(again: bool) -> None:
            sending = Sending(send=lambda c: wb.offer_help(ref, c.body, again), done=lambda _: f"offered help on {ref}",
                              draft=("case", ref, "offer"))
            self._open_compose("Send offer", f"Offer help to {rec.get('owner') or 'the case owner'} on {ref}",
                               clean(text), sending, False)

        if not offers:
            compose(False)
            return
        self.app.typeahead = None
        last = offers[-1]
        self.app.push_screen(ConfirmScreen(
            f"{last['author']} already offered help on {ref} ({last['created_at'][:10]}). Offer again?", "",
            "Offer again"), lambda yes: compose(True) if yes else None)
