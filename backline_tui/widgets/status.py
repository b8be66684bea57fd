"""The status line (who I am, pending outbox ops, last sync, sync progress) and the pane bar."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

PANE_LABELS = (("help", "1", "Help queue"), ("stale", "2", "Stale cases"), ("bugs", "3", "Sustaining bugs"),
               ("kb", "4", "KB review"), ("insights", "5", "Insights"))
# in a narrow terminal (80 columns) every pane still shows, by a short name
SHORT_LABELS = {"help": "Help", "stale": "Stale", "bugs": "Bugs", "kb": "KB", "insights": "Insights"}


class StatusLine(Static):
    """Mirrors App.status_text and App.sync_progress; the app keeps them current."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    StatusLine.-attention { background: $warning; color: $text; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "status_text", self._changed)
        self.watch(self.app, "sync_progress", self._changed)
        if hasattr(self.app, "status_attention"):
            self.watch(self.app, "status_attention", self._attention)

    def _attention(self, value: bool) -> None:
        self.set_class(bool(value), "-attention")

    def on_click(self) -> None:
        # the status line counts unsent changes: a click opens the outbox
        outbox = getattr(self.app, "action_outbox", None)
        if outbox is not None:
            outbox()

    def _changed(self, _value: str = "") -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        progress = getattr(self.app, "sync_progress", "")
        if progress:
            text.append(progress + " · ", style="bold")
        text.append(getattr(self.app, "status_text", ""))
        self.update(text)


class PaneBar(Static):
    """1 Help queue 42 │ 2 Stale cases 17 │ … with the current pane highlighted."""

    DEFAULT_CSS = """
    PaneBar { height: 1; background: $boost; padding: 0 1; }
    """

    _shown: tuple | None = None

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, current: str, counts: dict[str, int | None]) -> None:
        self._shown = (current, counts)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Backline ", style="bold")
        narrow = 0 < self.size.width < 110
        for name, key, label in PANE_LABELS:
            label = SHORT_LABELS[name] if narrow else label
            text.append("│ ", style="dim")
            count = counts.get(name)
            words = f"{key} {label}" + (f" {count:,}" if count is not None else "")
            if name == current:
                text.append(f" {words} ", style="bold reverse")
            else:
                text.append(f" {words} ")
            text.append(" ")
        self.update(text)
