"""Writing a reply, a note, an offer of help, or a KB article: a real multi-line editor
(TextArea), with ctrl+e to continue in $EDITOR."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static, TextArea

from backline_tui.screens.sending import Composed, Sending
from backline_tui.text import clean, one_line
from backline_tui.widgets.keybar import KeyBar
from backline_tui.widgets.status import StatusLine


class ComposeScreen(Screen["Composed | None"]):
    BINDINGS = [
        Binding("ctrl+s", "submit", "Send", id="compose.submit"),
        Binding("ctrl+e", "editor", "$EDITOR", id="compose.editor", priority=True),
        Binding("escape", "cancel", "Cancel", id="compose.cancel"),
        Binding("ctrl+n", "as_note", "Send as note", id="compose.as_note"),
        Binding("ctrl+t", "take_over", "Take over and send", id="compose.take_over"),
    ]

    AUTOSAVE_PAUSE = 0.5  # seconds of no typing before the text is kept as a draft

    def __init__(self, *, heading: str, context: str, body: str, submit_label: str = "Send",
                 title: str | None = None, start_in_editor: bool = False, sending: Sending | None = None,
                 notice: str = "") -> None:
        super().__init__()
        self.sending = sending
        self.notice = notice
        self.refused = False
        self.refused_by_owner = False  # refused because someone else owns the request
        self.busy = False
        self.heading = heading
        self.context_text = context
        self.initial_body = clean(body)
        self.initial_title = clean(title) if title is not None else None
        self.submit_label = submit_label
        self.start_in_editor = start_in_editor

    def compose(self) -> ComposeResult:
        with Vertical(id="compose"):
            yield Static(Text(one_line(self.heading, 200), style="bold"), id="compose-heading")
            if self.context_text:
                with VerticalScroll(id="compose-context"):
                    yield Static(Text(clean(self.context_text)))
            if self.initial_title is not None:
                yield Static(Text("Title", style="bold"), classes="compose-label")
                yield Input(value=self.initial_title, placeholder="title", id="compose-title")
                yield Static(Text("Article (Markdown)", style="bold"), classes="compose-label")
            yield TextArea(self.initial_body, soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
                           id="compose-body")
            yield Static(Text(one_line(self.notice, 300), style="bold") if self.notice else "",
                         id="compose-error")
            yield Static(self._hint(), id="compose-hint")
        yield StatusLine()
        yield KeyBar()

    def _hint(self) -> Text:
        k = self._key
        parts = [f"{k('compose.submit', 'ctrl+s')} = {self.submit_label.lower()}"]
        if self.sending is not None and self.sending.as_note is not None and self.refused:
            parts.append(f"{k('compose.as_note', 'ctrl+n')} = send as internal note")
        if self.sending is not None and self.sending.take_over is not None and self.refused_by_owner:
            parts.append(f"{k('compose.take_over', 'ctrl+t')} = take over and send")
        parts += [f"{k('compose.editor', 'ctrl+e')} = continue in $EDITOR", f"{k('compose.cancel', 'esc')} = cancel"]
        return Text(" · ".join(parts), style="dim")

    def _key(self, binding_id: str, default: str) -> str:
        key_of = getattr(self.app, "key_of", None)
        return key_of(binding_id, default) if key_of else default

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "as_note":
            return self.sending is not None and self.sending.as_note is not None and self.refused
        if action == "take_over":
            return self.sending is not None and self.sending.take_over is not None and self.refused_by_owner
        return True

    def on_mount(self) -> None:
        area = self.query_one("#compose-body", TextArea)
        area.focus()
        self.query_one("#compose-error", Static).display = bool(self.notice)
        typed = "".join(getattr(self.app, "typeahead", None) or [])
        self.app.typeahead = None
        if typed:
            area.move_cursor(area.document.end)
            area.insert(typed)
        if self.start_in_editor:
            self.call_after_refresh(self.action_editor)

    @property
    def body_text(self) -> str:
        return self.query_one("#compose-body", TextArea).text

    @property
    def title_text(self) -> str | None:
        if self.initial_title is None:
            return None
        return self.query_one("#compose-title", Input).value

    def action_editor(self) -> None:
        area = self.query_one("#compose-body", TextArea)
        text = self.app.edit_text(area.text, ".md")
        if text is not None:
            area.load_text(text)
            area.focus()
            self.app.say("text from the editor: review it, then ctrl+s")

    def _refuse(self, reason: str) -> None:
        """Not sent: the text stays, with the reason and the way forward."""
        self.refused = True
        self.refused_by_owner = " is claimed by " in reason
        way = "your text is kept here and as a draft (the same key on this record reopens it)"
        if self.sending is not None and self.sending.take_over is not None and self.refused_by_owner:
            way = f"{self._key('compose.take_over', 'ctrl+t')} takes it over and sends; " + way
        if self.sending is not None and self.sending.as_note is not None:
            way = f"{self._key('compose.as_note', 'ctrl+n')} sends it as an internal note; " + way
        error = self.query_one("#compose-error", Static)
        error.update(Text(one_line(f"not sent: {reason} · {way}", 400), style="bold"))
        error.display = True
        self.query_one("#compose-hint", Static).update(self._hint())
        self.refresh_bindings()
        self.app.say(f"not sent: {reason}", severity="warning")

    @property
    def changed(self) -> bool:
        return self.body_text != self.initial_body or (
            self.initial_title is not None and self.title_text != self.initial_title)

    def composed(self) -> Composed:
        return Composed(body=self.body_text, title=self.title_text)

    def action_submit(self) -> None:
        body = self.body_text
        title = self.title_text
        if not body.strip():
            self.app.say("there is nothing to send yet", severity="warning")
            return
        if title is not None and not title.strip():
            self.app.say("an article needs a title", severity="warning")
            return
        if self.sending is None:
            self.dismiss(Composed(body=body, title=title))
            return
        self._send(self.sending.send, self.sending.done)

    def action_as_note(self) -> None:
        if self.sending is None or self.sending.as_note is None:
            return
        if not self.body_text.strip():
            self.app.say("there is nothing to send yet", severity="warning")
            return
        self._send(self.sending.as_note, lambda _: "sent as an internal note")

    def action_take_over(self) -> None:
        if self.sending is None or self.sending.take_over is None:
            return
        self._send(self.sending.take_over, lambda _: "taken over and sent")

    def _send(self, fn: Callable[[Composed], Any], done: Callable[[Any], str]) -> None:
        if self.busy:
            return
        self.busy = True
        self.run_worker(self._send_async(fn, done, self.composed()), group="compose-send", exclusive=True)

    async def _send_async(self, fn, done, composed: Composed) -> None:
        from backline_tui.workbench import ActionError

        try:
            result = await self.app.call_db(fn, composed)
        except ActionError as exc:
            await self.keep_draft(str(exc))
            self._refuse(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 — e.g. a locked database: the text stays
            await self.keep_draft(f"database error: {exc}")
            self._refuse(f"database error: {exc}")
            return
        finally:
            self.busy = False
        if self.sending.draft is not None:
            try:
                await self.app.call_db(self.app.workbench.drop_draft, *self.sending.draft)
            except Exception:  # noqa: BLE001 — a stale draft is harmless; it only reopens
                pass
        self.dismiss(composed)
        self.app.action_done(done(result))

    async def keep_draft(self, reason: str | None = None) -> None:
        """Keep the text as a local draft (nothing is kept for an untouched screen)."""
        if self.sending is None or self.sending.draft is None or not (self.changed or reason):
            return
        if not self.body_text.strip():
            return
        try:
            await self.app.call_db(self.app.workbench.save_draft, *self.sending.draft, self.body_text,
                                   self.title_text, reason)
        except Exception:  # noqa: BLE001 — the text is still on screen
            pass

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._autosave()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._autosave()

    def _autosave(self) -> None:
        if self.sending is not None and self.sending.draft is not None:
            self.run_worker(self._autosave_after_pause, group="autosave", exclusive=True)

    async def _autosave_after_pause(self) -> None:
        await asyncio.sleep(self.AUTOSAVE_PAUSE)
        await self.keep_draft()

    def action_cancel(self) -> None:
        if not self.changed:
            self.dismiss(None)
            return
        from backline_tui.screens.dialogs import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.workers.cancel_group(self, "autosave")
                if self.sending is not None and self.sending.draft is not None:
                    self.app.run_worker(self.app.call_db(self.app.workbench.drop_draft, *self.sending.draft),
                                        group="drafts")
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard what you wrote?", "", "Discard"), answer)


class ArticleComposeScreen(ComposeScreen):
    """The KCS draft: a title and a Markdown body."""

    BINDINGS = [Binding("ctrl+s", "submit", "Save article", id="compose.submit")]
