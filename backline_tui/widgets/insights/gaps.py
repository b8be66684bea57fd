"""Knowledge gaps: answered requests with no article, by product / component and by topic."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from backline_tui.widgets.insights.common import BarsPlot, InsightsTable, cell, label, num, pct


class GapsSection(Vertical):
    def compose(self) -> ComposeResult:
        with Horizontal(id="gaps-top"):
            with Vertical(classes="numbers"):
                yield Static(Text(""), classes="caption", id="gaps-caption")
                yield InsightsTable(id="gaps-table")
            yield BarsPlot(id="gaps-plot", classes="plots")
        yield Static(Text("Most asked topics with no article (similar subjects grouped)"), classes="caption")
        yield InsightsTable(id="gaps-topics")

    def on_mount(self) -> None:
        self.query_one("#gaps-table", DataTable).add_columns("Product / component", "Answered", "No article", "Gap")
        self.query_one("#gaps-topics", DataTable).add_columns(
            "Topic", "Product / component", "Asked", "Phrasings", "Example")

    def show(self, g: Any) -> None:
        table = self.query_one("#gaps-table", DataTable)
        table.clear()
        for i, x in enumerate(g.by_component):
            table.add_row(cell(f"{x.product} / {x.component}", 30), num(x.answered), num(x.undocumented),
                          num(pct(x.share), "bold" if x.share >= 0.5 else ""), key=str(i))
        self.query_one("#gaps-caption", Static).update(Text(
            f"{g.undocumented:,} of {g.answered:,} answered requests have no article"))
        topics = self.query_one("#gaps-topics", DataTable)
        topics.clear()
        for i, t in enumerate(g.topics):
            topics.add_row(cell(t.label, 60), cell(f"{t.product} / {t.component}", 26), num(t.requests),
                           num(t.phrasings), cell(t.example, 12), key=str(i))
        top = [x for x in g.by_component if x.undocumented][:8]
        self.query_one("#gaps-plot", BarsPlot).show_bars(
            "Answered, no article", [label(f"{x.product} / {x.component}", 20) for x in top], [x.undocumented for x in top])
