"""Writing a reply, a note, an offer of help, or a KB article: a real multi-line editor
(TextArea), with ctrl+e to continue in $EDITOR."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static, TextArea

from backline_tui.text import clean, one_line
from backline_tui.widgets.keybar import KeyBar
from backline_tui.widgets.status import StatusLine


@dataclass
class Composed:
    body: str
    title: str | None = None


class ComposeScreen(Screen["Composed | None"]):
    BINDINGS = [
        Binding("ctrl+s", "submit", "Send", id="compose.submit"),
        Binding("ctrl+e", "editor", "$EDITOR", id="compose.editor", priority=True),
        Binding("escape", "cancel", "Cancel", id="compose.cancel"),
    ]

    def __init__(self, *, heading: str, context: str, body: str, submit_label: str = "Send",
                 title: str | None = None, start_in_editor: bool = False) -> None:
        super().__init__()
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
            yield Static(Text(f"ctrl+s = {self.submit_label.lower()} · ctrl+e = continue in $EDITOR · esc = cancel",
                              style="dim"), id="compose-hint")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        area = self.query_one("#compose-body", TextArea)
        area.focus()
        typed = "".join(getattr(self.app, "typeahead", None) or [])
        self.app.typeahead = None
        if typed and not self.initial_body:
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

    def action_submit(self) -> None:
        body = self.body_text
        title = self.title_text
        if not body.strip():
            self.app.say("there is nothing to send yet", severity="warning")
            return
        if title is not None and not title.strip():
            self.app.say("an article needs a title", severity="warning")
            return
        self.dismiss(Composed(body=body, title=title))

    def action_cancel(self) -> None:
        changed = self.body_text != self.initial_body or (
            self.initial_title is not None and self.title_text != self.initial_title)
        if not changed:
            self.dismiss(None)
            return
        from backline_tui.screens.dialogs import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard what you wrote?", "", "Discard"), answer)


class ArticleComposeScreen(ComposeScreen):
    """The KCS draft: a title and a Markdown body."""

    BINDINGS = [Binding("ctrl+s", "submit", "Save article", id="compose.submit")]
