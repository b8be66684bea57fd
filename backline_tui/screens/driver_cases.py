"""The cases behind one Insights driver (screens/main.py pushes it when the Insights pane asks
for them)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from backline_tui.text import one_line
from backline_tui.widgets.insights.common import InsightsTable, cell
from backline_tui.widgets.keybar import KeyBar


class DriverCasesScreen(Screen):
    """The cases behind one driver, newest first (a capped page), until the app shows them in
    its own case list. enter opens a case if the app can; esc goes back."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    DriverCasesScreen #cases-head { height: 1; padding: 0 1; }
    DriverCasesScreen DataTable { height: 1fr; }
    """
    LIMIT = 500

    def __init__(self, workbench: Any, product: str | None, component: str | None, version: str | None, window: Any) -> None:
        super().__init__()
        self.workbench = workbench
        self.product, self.component, self.version, self.window = product, component, version, window

    def compose(self) -> ComposeResult:
        yield Static(Text("Loading cases…"), id="cases-head")
        yield InsightsTable(id="cases-table")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Case", "Created", "Sev", "Status", "Customer", "Version", "Subject")
        table.loading = True
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        ins = self.workbench.insights()
        rows, total = ins.cases(self.product, self.component, self.version, self.window, self.LIMIT)
        self.app.call_from_thread(self._show, rows, total)

    def _show(self, rows: list[dict], total: int) -> None:
        table = self.query_one(DataTable)
        table.loading = False
        for r in rows:
            table.add_row(cell(r["ref"], 14), cell(r["created_at"][:10]), cell(r["severity"]), cell(r["status"]),
                          cell(r["customer"], 24), cell(r["version"], 8), cell(r["subject"], 60), key=r["ref"])
        what = " / ".join(x for x in (self.product, self.component, self.version) if x is not None) or "all"
        shown = f"newest {len(rows):,} of {total:,}" if total > len(rows) else f"{total:,}"
        self.query_one("#cases-head", Static).update(Text(
            f"Cases for {one_line(what, 60)} created {self.window.describe()}: {shown} · esc: back"))
        table.focus()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        opener = getattr(self.app, "open_record", None)
        if callable(opener):
            opener("case", event.row_key.value)
