"""Pick a record by searching as you type (ref, number or words, any case), instead of typing a
ref from memory. The search runs on the database thread; rows are upstream text, shown through
the sanitiser and never as markup."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from backline_tui.text import one_line

# what a row of each kind shows after its ref
DESCRIBE: dict[str, Callable[[dict], str]] = {
    "article": lambda r: f"{r.get('state', '')} · reused {r.get('reuse_count', 0)}× · {r.get('title', '')}",
    "bug": lambda r: f"{r.get('status', '')} · {r.get('product', '')} · impact {r.get('impact_score', 0)} · {r.get('title', '')}",
    "case": lambda r: f"{r.get('status', '')} · {r.get('customer', '')} · {r.get('product', '')} · {r.get('title', '')}",
}


def pick_row(kind: str, r: dict) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{one_line(r['ref'], 20):<14}", style="bold")
    text.append(one_line(DESCRIBE[kind](r), 84))
    return text


class PickerScreen(ModalScreen["dict | None"]):
    """Type to search; enter picks the highlighted row. `extra` rows (label, value) come
    first and are returned as {"choice": value} (e.g. "draft a new article instead")."""

    WIDTH = 110  # wider than the other dialogs: a row is a ref, its state and a title
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker.up"),
        Binding("ctrl+f", "pick_and_flag", "Link and flag", show=False, id="picker.flag"),
    ]

    def __init__(self, title: str, kind: str, search: Callable[[str], list[dict]], initial: list[dict] | None = None,
                 initial_label: str = "", extra: list[tuple[str, str]] | None = None, hint: str = "",
                 flaggable: bool = False) -> None:
        super().__init__()
        self.picker_title = title
        self.kind = kind
        self.search = search
        self.initial = initial or []
        self.initial_label = initial_label
        self.extra = extra or []
        self.hint = hint
        self.flaggable = flaggable
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker"):
            yield Static(Text(one_line(self.picker_title, 200), style="bold"), classes="dialog-title")
            yield Input(placeholder="ref, number or words", id="picker-input")
            yield Static(Text(self.initial_label, style="dim"), id="picker-label")
            yield OptionList(id="picker-list")
            keys = "enter = pick · ↑↓ move · esc = cancel" + (" · ctrl+f = link and flag it" if self.flaggable else "")
            yield Static(Text((self.hint + " · " if self.hint else "") + keys, style="dim"))

    def on_mount(self) -> None:
        self.query_one(".picker").styles.width = self.WIDTH
        ol = self.query_one("#picker-list", OptionList)
        ol.styles.height = "auto"
        ol.styles.max_height = 16
        field = self.query_one("#picker-input", Input)
        self.set_focus(field)
        typed = "".join(getattr(self.app, "typeahead", None) or []).replace("\n", "")
        self.app.typeahead = None
        self._show(self.initial)
        if typed:
            field.insert_text_at_cursor(typed)

    def _show(self, rows: list[dict]) -> None:
        self.rows = [{"choice": value, "label": label} for label, value in self.extra] + list(rows)
        ol = self.query_one("#picker-list", OptionList)
        ol.clear_options()
        options = [Option(Text(one_line(r["label"], 160), style="italic")) if "choice" in r else Option(pick_row(self.kind, r))
                   for r in self.rows]
        if options:
            ol.add_options(options)
            ol.highlighted = 0
        elif self.query_one("#picker-input", Input).value.strip():
            ol.add_option(Option(Text("nothing found", style="dim"), disabled=True))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(group="picker", exclusive=True)
    async def _search(self, text: str) -> None:
        if not text.strip():
            self.query_one("#picker-label", Static).update(Text(self.initial_label, style="dim"))
            self._show(self.initial)
            return
        try:
            rows = await self.app.call_db(self.search, text)
        except Exception as exc:  # noqa: BLE001 — a search that fails says so and keeps the dialog
            self.app.say(f"search failed: {exc}", severity="warning")
            return
        if self.query_one("#picker-input", Input).value != text:
            return  # the user typed on meanwhile
        self.query_one("#picker-label", Static).update(Text(f"{len(rows)} found for “{one_line(text, 40)}”", style="dim"))
        self._show(rows)

    def action_move(self, step: int) -> None:
        ol = self.query_one("#picker-list", OptionList)
        if ol.option_count:
            ol.highlighted = max(0, min(ol.option_count - 1, (ol.highlighted or 0) + step))

    def _highlighted(self) -> dict | None:
        ol = self.query_one("#picker-list", OptionList)
        i = ol.highlighted
        return self.rows[i] if i is not None and 0 <= i < len(self.rows) else None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        row = self._highlighted()
        if row is not None:
            self.dismiss(row)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.rows):
            self.dismiss(self.rows[event.option_index])

    def action_pick_and_flag(self) -> None:
        row = self._highlighted()
        if self.flaggable and row is not None and "choice" not in row:
            self.dismiss({**row, "flag": True})

    def action_cancel(self) -> None:
        self.dismiss(None)
