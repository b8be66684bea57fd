"""Drivers: which product / component / version brings the cases (a Pareto table and its top
bars), and cases per week by product."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from backline_tui.widgets.insights.common import LEVEL_NAMES, BarsPlot, InsightsTable, Plot, cell, drawing, label, num, pct


class DriversSection(Horizontal):
    def compose(self) -> ComposeResult:
        with Vertical(classes="numbers"):
            yield Static(Text(""), classes="caption", id="drivers-caption")
            yield InsightsTable(id="drivers-table")
        with Vertical(classes="plots"):
            yield BarsPlot(id="drivers-pareto")
            yield Plot(id="drivers-trend")

    def show(self, d: Any, level: str, window: Any) -> None:
        drivers = d.pareto[level]
        table = self.query_one("#drivers-table", DataTable)
        table.clear(columns=True)
        table.add_columns("#", LEVEL_NAMES[level].capitalize(), "Cases", "Share", "Cum.")
        for i, x in enumerate(drivers, 1):
            vital = x.cumulative - x.share < 0.8
            table.add_row(num(i), cell(x.label, 28, "bold" if vital else ""), num(x.cases), num(pct(x.share)),
                          num(pct(x.cumulative)), key=f"{i - 1}")
        few = d.vital_few(level)
        self.query_one("#drivers-caption", Static).update(Text(
            f"{d.total:,} cases · {few} of {len(drivers)} make 80% · enter: cases"))
        top = drivers[:10]
        self.query_one("#drivers-pareto", BarsPlot).show_bars(
            f"Top drivers by {LEVEL_NAMES[level]} (cases)", [label(x.label, 20) for x in top], [x.cases for x in top])
        with drawing(self.query_one("#drivers-trend", Plot), "Cases per week by product", frames=2) as plt:
            weeks = window.weeks if window else []
            xs = list(range(1, len(weeks) + 1))
            for product, counts in list(d.trend.items())[:6]:
                plt.plot(xs, counts, label=label(product, 14), marker="braille")
            if weeks:
                step = max(1, len(weeks) // 6)
                plt.xticks(xs[::step], [w.strftime("%d %b") for w in weeks[::step]])
