"""The Textual workbench (placeholder until the panes land)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from backline_tui.config import Config
from backline_tui.workbench import Workbench


class BacklineApp(App):
    TITLE = "Backline"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, workbench: Workbench) -> None:
        super().__init__()
        self.workbench = workbench

    def compose(self) -> ComposeResult:
        yield Header()
        counts = self.workbench.counts()
        yield Static("\n".join(f"{k}: {v}" for k, v in counts.items()), markup=False)
        yield Footer()


def run_app(db: Path, config: Config) -> int:
    wb = Workbench.open(db, config)
    BacklineApp(wb).run()
    return 0
