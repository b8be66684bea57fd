"""Bugs by impact: the open bugs that hurt most, with their score, cases, customers and target."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from backline_tui.widgets.insights.common import InsightsTable, Plot, cell, drawing, label, num


class BugsSection(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(Text(""), classes="caption", id="bugs-caption")
        yield InsightsTable(id="bugs-table")
        yield Plot(id="bugs-plot")

    def on_mount(self) -> None:
        self.query_one("#bugs-table", DataTable).add_columns(
            "Bug", "Title", "Product / component", "Score", "Open", "Linked", "Cust.", "Prio", "Target")

    def show(self, bugs: list[Any]) -> None:
        table = self.query_one("#bugs-table", DataTable)
        table.clear()
        for b in bugs:
            style = "bold red" if b.overdue else ("yellow" if b.target_state == "near" else "")
            state = "OVERDUE " if b.overdue else ("near " if b.target_state == "near" else "")
            table.add_row(cell(b.ref, 10), cell(b.title, 30), cell(f"{b.product} / {b.component}", 20),
                          num(b.impact_score), num(b.open_cases), num(b.linked_cases), num(b.customers),
                          cell(b.priority + ("*" if b.priority_overridden else "")),
                          Text(state + b.target[:10], style=style), key=b.ref)
        overdue = sum(b.overdue for b in bugs)
        self.query_one("#bugs-caption", Static).update(Text(
            f"Top {len(bugs)} open bugs by impact · {overdue} past target · "
            "score: Σ severity×tier over open cases + customers · *: set by hand"))
        with drawing(self.query_one("#bugs-plot", Plot), "Impact score") as plt:
            if bugs:
                plt.bar([label(b.ref, 12) for b in bugs], [b.impact_score for b in bugs], color="red")
