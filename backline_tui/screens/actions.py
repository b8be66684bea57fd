"""Record actions (docs/architecture.md §5) shared by the pane screen (the selected row) and the detail screen
(the open record). A screen mixes in RecordActions, adds ACTION_BINDINGS to its BINDINGS and
implements `target()`."""

from __future__ import annotations

from typing import Any

from textual.actions import parse as parse_action
from textual.binding import Binding

from backline_tui import log
from backline_tui.screens.knowledge_actions import KNOWLEDGE_ACTIONS_FOR, KNOWLEDGE_BINDINGS, KnowledgeActions
from backline_tui.screens.sending import Sending
from backline_tui.text import clean

# 1–5 everywhere: in a list they switch panes, in a record they go back to the list on that pane
PANE_BINDINGS = [
    Binding("1", "pane('help')", "Help queue", id="pane.help", show=False),
    Binding("2", "pane('stale')", "Stale cases", id="pane.stale", show=False),
    Binding("3", "pane('bugs')", "Bugs", id="pane.bugs", show=False),
    Binding("4", "pane('kb')", "KB review", id="pane.kb", show=False),
    Binding("5", "pane('insights')", "Insights", id="pane.insights", show=False),
]

ACTION_BINDINGS = [
    Binding("c", "claim", "Claim", id="claim"),
    Binding("u", "unclaim", "Unclaim", id="unclaim"),
    Binding("T", "take_over", "Take over", id="take_over", show=False),
    Binding("r", "respond", "Respond", id="respond"),
    Binding("n", "note", "Note", id="note"),
    Binding("x", "resolve", "Resolve", id="resolve"),
    Binding("d", "document", "Document", id="document"),
    Binding("o", "offer", "Offer help", id="offer"),
    Binding("p", "priority", "Priority", id="priority"),
    Binding("t", "target", "Target", id="target"),
    Binding("l", "link", "Link", id="link"),
    Binding("v", "validate", "Validate", id="validate"),
    Binding("f", "flag", "Flag", id="flag"),
    Binding("a", "archive", "Archive", id="archive"),
    Binding("m", "review", "Reviewed", id="review"),
    Binding("e", "edit", "$EDITOR", id="edit"),
    *KNOWLEDGE_BINDINGS,
    Binding("y", "copy_ref", "Copy ref", id="copy.ref", show=False),
    Binding("Y", "copy_url", "Copy URL", id="copy.url", show=False),
    Binding("O", "open_url", "Open upstream", id="open.url", show=False),
]
# on every kind of record
ANY_RECORD = ("copy_ref", "copy_url", "open_url")

ACTIONS_FOR: dict[str, tuple[str, ...]] = {
    "help_request": ("claim", "unclaim", "take_over", "respond", "note", "resolve", "document", "edit"),
    "case": ("note", "offer", "link", "edit"),
    "bug": ("priority", "target", "link"),
    "article": ("validate", "flag", "archive", "review", "edit"),
}
for _kind, _acts in KNOWLEDGE_ACTIONS_FOR.items():
    ACTIONS_FOR[_kind] += tuple(a for a in _acts if a not in ACTIONS_FOR[_kind])
ACTIONS_FOR = {kind: (*acts, *ANY_RECORD) for kind, acts in ACTIONS_FOR.items()}
RECORD_ACTIONS = frozenset(a for acts in ACTIONS_FOR.values() for a in acts)
# actions that open a screen to type into: their keys are run in order (RecordActions.run_key_now)
COMPOSING = frozenset({"respond", "note", "offer", "document", "flag", "target", "link", "link_article", "escalate"})


class RecordActions(KnowledgeActions):
    """Mixed into a Screen. `target()` returns the record the keys act on (a pane row or a
    detail dict with at least kind and ref), or None."""

    app: Any

    def target(self) -> dict | None:  # pragma: no cover - implemented by the screens
        raise NotImplementedError

    # which keys apply here (the footer shows only those). A key that applies to the kind of
    # record stays live even when the facade will refuse (claiming bob's request): the refusal
    # then says why, instead of the key silently doing nothing.
    def check_record_action(self, action: str) -> bool | None:
        if action not in RECORD_ACTIONS:
            return True
        rec = self.target()
        if rec is None or action not in ACTIONS_FOR.get(rec.get("kind", ""), ()):
            return False
        return True

    def refusal(self, action: str, rec: dict | None = None, owners: bool = True) -> str | None:
        """Why the selected record refuses `action` (rules.why_not), or None; with `owners`
        False only its own state counts (resolved, archived), not who owns it."""
        from backline_tui.domain.rules import why_not

        rec = rec if rec is not None else self.target()
        if rec is None:
            return None
        wb = self.app.workbench
        return why_not(action, rec, wb.config.me if owners and wb.config_loaded else None)

    def footer_hides(self, action: str) -> bool:
        """Keys a resolved or archived record refuses leave the footer (they stay live and say
        why). Keys refused for being someone else's stay: the footer does not change as the
        cursor moves down a pane of open requests."""
        return action in RECORD_ACTIONS and self.refusal(action, owners=False) is not None

    def swallow_key(self, event) -> bool:
        """Between r (or n, o, d) and its compose screen there is a database read. Keys typed
        ahead in that moment are kept for the compose screen instead of running as commands
        (typing "hello" must not trigger e, l and o)."""
        buffer = getattr(self.app, "typeahead", None)
        if buffer is None:
            return False
        if event.is_printable and event.character:
            buffer.append(event.character)
        elif event.key == "enter":
            buffer.append("\n")
        else:
            return False
        event.stop()
        event.prevent_default()
        return True

    def run_key_now(self, event, actions: frozenset[str] = frozenset()) -> bool:
        """Run the binding of `event` here, in key order, if it is one of `actions` (those that
        open a screen to type into). A binding normally runs only when the key has bubbled up
        to the app, after the keys typed behind it were already handled; typing "rhello" fast
        would then run e, l and o as commands before the reply screen exists."""
        active = self.app.active_bindings.get(event.key)
        if active is None:
            return False
        _, action, params = parse_action(active.binding.action)
        if action not in (actions or COMPOSING) or active.node is not self:
            return False
        if not self.check_action(action, params):
            return False  # not ours here: let the key take its usual way (another widget's binding)
        event.stop()
        event.prevent_default()
        getattr(self, f"action_{action}")(*params)
        return True

    # -- any record: copy and open ---------------------------------------------------------------

    def action_copy_ref(self) -> None:
        if (rec := self._rec()) is not None:
            self._copy(rec["ref"], "ref")

    def _copy(self, text: str, what: str) -> None:
        # OSC 52: most terminals put it on the clipboard; some refuse, silently
        self.app.copy_to_clipboard(text)
        self.app.say(f"copied the {what} {text} (if your terminal refuses OSC 52 clipboard writes, "
                     "select it on screen instead)")

    def action_copy_url(self) -> None:
        self._with_url(lambda url: self._copy(url, "URL"))

    def action_open_url(self) -> None:
        def open_(url: str) -> None:
            import webbrowser

            opened = webbrowser.open(url)
            self.app.say(f"opened {url} in the browser" if opened else f"no browser to open; the URL is {url}")

        self._with_url(open_)

    def _with_url(self, then) -> None:
        if (rec := self._rec()) is None:
            return
        self.app.run_worker(self._url_then(rec, then), group="action")

    async def _url_then(self, rec: dict, then) -> None:
        ok, url = await self.app.attempt(self._wb().record_url, rec["kind"], rec["ref"])
        if not ok:
            return
        if url is None:
            self.app.say(f"{rec['ref']} has no upstream page (demo data, an imported file or a local draft)",
                         severity="warning")
            return
        then(url)

    # -- help requests -------------------------------------------------------------------------

    def _wb(self):
        return self.app.workbench

    # -- marked rows: one action over all of them ---------------------------------------------------

    BULK_WORDS = {"claim": ("Claim", "claimed"), "validate": ("Validate", "validated"),
                  "archive": ("Archive", "archived"), "review": ("Mark reviewed", "marked reviewed"),
                  "flag": ("Flag", "flagged"), "link": ("Link", "linked")}

    def marked_refs(self) -> list[str]:
        """Refs of the rows marked for a bulk action (the pane screen has them; a record none)."""
        return []

    def after_bulk(self) -> None:
        """Marks are cleared once a bulk action went through."""

    def _bulk(self, action: str, arg: str | None = None) -> bool:
        """Run `action` over the marked rows after one confirmation that says how many; False
        when nothing is marked (the action then applies to the selected row)."""
        refs = self.marked_refs()
        if not refs:
            return False
        from backline_tui.screens.dialogs import ConfirmScreen

        verb, past = self.BULK_WORDS[action]
        n, wb = len(refs), self._wb()
        what = f"{n} marked row{'s' if n != 1 else ''}"
        detail = ("all or nothing: if one of them cannot be, none is" + (f" · {arg}" if arg else ""))

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.perform(lambda: wb.bulk(action, refs, arg), f"{past} {what}", after=lambda _: self.after_bulk())

        self.app.push_screen(ConfirmScreen(f"{verb} {what}?", detail, verb), confirmed)
        return True

    def _rec(self) -> dict | None:
        rec = self.target()
        if rec is None:
            self.app.say("nothing selected")
        return rec

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

    # -- bugs ------------------------------------------------------------------------------------

    def action_priority(self) -> None:
        if (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import ChoiceScreen

        ref, wb = rec["ref"], self._wb()
        before = rec.get("priority_override")
        choices = [("P1", "P1 — fix first"), ("P2", "P2"), ("P3", "P3"), ("P4", "P4"),
                   ("", "follow impact (no override)")]

        def chosen(value: str | None) -> None:
            if value is None:
                return
            new = value or None
            self.app.perform(
                lambda: wb.set_bug_priority(ref, new),
                f"{ref} priority: {new or 'follows impact'}",
                undo=(f"priority of {ref}", lambda: wb.set_bug_priority(ref, before)),
            )

        self.app.push_screen(ChoiceScreen(f"Priority of {ref}", choices, current=before or ""), chosen)

    def action_target(self) -> None:
        if (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import PromptScreen

        ref, wb = rec["ref"], self._wb()
        before = rec.get("target_at")
        current = (rec.get("target") or "")[:10]

        def entered(value: str | None) -> None:
            if value is None:
                return
            new = value.strip() or None
            past = bool(new) and new[:10] < wb.now().strftime("%Y-%m-%d")
            self.app.perform(
                lambda: wb.set_bug_target(ref, new),
                f"{ref} target: {new or 'default for its priority'}"
                + (" — that date is already past: the bug shows as overdue" if past else ""),
                undo=(f"target of {ref}", lambda: wb.set_bug_target(ref, before)),
            )

        self.app.typeahead = []
        self.app.push_screen(
            PromptScreen(f"Resolution target for {ref}", "YYYY-MM-DD (empty: the default for its priority)", current),
            entered)

    def action_link(self) -> None:
        if (rec := self._rec()) is None:
            return
        if rec["kind"] == "help_request":  # on a request, l links the article that answers it
            self.action_link_article()
        else:
            self.link_by_picker(rec)

    # -- articles --------------------------------------------------------------------------------

    def action_validate(self) -> None:
        if self._bulk("validate") or (rec := self._rec()) is None:
            return
        self.app.run_worker(self._validate(rec), group="action")

    async def _validate(self, rec: dict) -> None:
        from backline_tui.screens.dialogs import ConfirmScreen

        ref, wb = rec["ref"], self._wb()
        ok, left = await self.app.attempt(wb.placeholders, ref)
        if not ok:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.perform(lambda: wb.validate(ref), f"validated {ref}")

        if left:
            self.app.push_screen(ConfirmScreen(
                f"{ref}: {' and '.join(left)} still {'hold' if len(left) > 1 else 'holds'} the draft's placeholder. "
                "Validate anyway?", "", "Validate"), confirmed)
        else:
            confirmed(True)

    def action_flag(self) -> None:
        if (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import PromptScreen

        ref, wb = rec["ref"], self._wb()

        def entered(reason: str | None) -> None:
            if reason is None or self._bulk("flag", reason):
                return
            self.app.perform(lambda: wb.flag(ref, reason), f"flagged {ref}",
                             undo=(f"flag on {ref}", lambda: wb.unflag(ref)))

        self.app.typeahead = []
        self.app.push_screen(PromptScreen(f"Flag {ref}", "why? e.g. steps are wrong for v3.2", ""), entered)

    def action_archive(self) -> None:
        if self._bulk("archive") or (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import ConfirmScreen

        ref, wb = rec["ref"], self._wb()
        if (why := self.refusal("archive", rec)) is not None:
            self.app.say(why, severity="warning")  # before asking, not after
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.perform(lambda: wb.archive(ref), f"archived {ref}")

        self.app.push_screen(ConfirmScreen(f"Archive {ref}?", clean(rec.get("title") or ""), "Archive"), confirmed)

    def action_review(self) -> None:
        if self._bulk("review") or (rec := self._rec()) is None:
            return
        ref, wb = rec["ref"], self._wb()
        self.app.perform(lambda: wb.mark_reviewed(ref), f"marked {ref} reviewed; open flags resolved")
