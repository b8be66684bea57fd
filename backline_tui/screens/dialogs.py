"""Small modal screens: confirm, prompt for one line, pick one choice, and `?` help."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from backline_tui.text import clean, one_line


def _key(screen: ModalScreen, binding_id: str, default: str) -> str:
    """The live key of a binding, as hints show it (the config may remap it)."""
    key_of = getattr(screen.app, "key_of", None)
    return key_of(binding_id, default) if key_of else default


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no for an action that cannot be undone."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "", yes_label: str = "Yes", note: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes_label = yes_label
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(one_line(self.question, 200), style="bold"), classes="dialog-title")
            if self.detail:
                yield Static(Text(one_line(self.detail, 300)), classes="dialog-detail")
            yes, no = _key(self, "confirm.yes", "y"), _key(self, "confirm.no", "n")
            yield Static(Text(self.note if self.note is not None else f"This cannot be undone. {yes} = yes, {no} = no",
                              style="dim"))
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes_label} ({yes})", id="yes", variant="error")
                yield Button(f"Cancel ({no})", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PromptScreen(ModalScreen["str | None"]):
    """One line of input: enter submits, esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.prompt_title = title
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(one_line(self.prompt_title, 200), style="bold"), classes="dialog-title")
            yield Input(value=clean(self.value), placeholder=self.placeholder, id="prompt")
            yield Static(Text(f"enter = ok · {_key(self, 'prompt.cancel', 'esc')} = cancel", style="dim"))

    def on_mount(self) -> None:
        field = self.query_one("#prompt", Input)
        self.set_focus(field)
        typed = "".join(getattr(self.app, "typeahead", None) or []).replace("\n", "")
        self.app.typeahead = None
        if typed and not field.value:
            field.insert_text_at_cursor(typed)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceScreen(ModalScreen["str | None"]):
    """Pick one of a few values."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]], current: str | None = None) -> None:
        super().__init__()
        self.choice_title = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(one_line(self.choice_title, 200), style="bold"), classes="dialog-title")
            yield OptionList(*[Option(Text(one_line(label, 80)), id=f"c{i}") for i, (_, label) in
                               enumerate(self.choices)], id="choices")
            yield Static(Text(f"enter = choose · {_key(self, 'choice.cancel', 'esc')} = cancel", style="dim"))

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        for i, (value, _) in enumerate(self.choices):
            if value == self.current:
                ol.highlighted = i
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key, by what you are doing."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        from backline_tui.keys import help_sections

        sections = help_sections(getattr(self.app, "_keymap", None))
        # two columns of about the same height (each section is its rows, a title and a gap)
        sizes = [len(rows) + 2 for _, rows in sections]
        half, acc = len(sections), 0
        for n, size in enumerate(sizes):
            if acc + size / 2 > sum(sizes) / 2:
                half = n
                break
            acc += size

        def column(sections) -> Text:
            text = Text()
            for section, rows in sections:
                text.append(f"{section}\n", style="bold underline")
                for key, what in rows:
                    text.append(f"{key:<9} ", style="bold")
                    text.append(f"{what}\n")
                text.append("\n")
            return text

        with VerticalScroll(classes="dialog help"):
            yield Static(Text.assemble(("Backline keys", "bold"), "  ·  the footer shows the keys that apply where "
                                       f"you are; {_key(self, 'help.close', 'esc')} closes this",))
            with Horizontal(classes="help-columns"):
                yield Static(column(sections[:half]), classes="help-column")
                yield Static(column(sections[half:]), classes="help-column")

    def action_close(self) -> None:
        self.dismiss(None)
