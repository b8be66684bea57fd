"""Team: how the backline itself is doing (first response in OLA, resolve time, answers
documented) by priority, by asker and by week."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from backline_tui.clock import duration
from backline_tui.widgets.insights.common import InsightsTable, Plot, cell, drawing, num, pct


class TeamSection(Horizontal):
    def compose(self) -> ComposeResult:
        with Vertical(classes="numbers"):
            yield Static(Text(""), classes="caption", id="team-caption")
            yield InsightsTable(id="team-priority")
            yield Static(Text("Requests per asker (who might need training)"), classes="caption")
            yield InsightsTable(id="team-askers")
        with Vertical(classes="plots"):
            yield Plot(id="team-plot")
            yield InsightsTable(id="team-weeks")

    def on_mount(self) -> None:
        self.query_one("#team-priority", DataTable).add_columns("Prio", "OLA", "Asked", "Median 1st resp.", "In OLA", "Doc rate")
        self.query_one("#team-askers", DataTable).add_columns("Asker", "Asked", "/week", "Already in KB", "Products")
        self.query_one("#team-weeks", DataTable).add_columns("Week of", "Asked", "1st resp.", "In OLA", "Resolve", "Doc")

    def show(self, t: Any) -> None:
        o = t.overall
        self.query_one("#team-caption", Static).update(Text(
            f"{o.requests:,} asked · in OLA {pct(o.ola_met_rate)} · median resolve {duration(o.median_resolve)} "
            f"· doc {pct(o.document_rate)}"))
        prio = self.query_one("#team-priority", DataTable)
        prio.clear()
        for p in t.priorities:
            late = p.median_first_response is not None and p.median_first_response > p.ola_minutes * 60
            prio.add_row(cell(p.label), num(duration(p.ola_minutes * 60)), num(p.requests),
                         num(duration(p.median_first_response), "bold red" if late else ""),
                         num(pct(p.ola_met_rate)), num(pct(p.document_rate)), key=p.label)
        askers = self.query_one("#team-askers", DataTable)
        askers.clear()
        for a in t.askers:
            askers.add_row(cell(a.asker, 20), num(a.requests), num(a.per_week), num(a.already_documented),
                           num(a.products), key=a.asker)
        weeks = self.query_one("#team-weeks", DataTable)
        weeks.clear()
        for w in reversed(t.weeks):
            weeks.add_row(cell(w.label), num(w.requests), num(duration(w.median_first_response)),
                          num(pct(w.ola_met_rate)), num(duration(w.median_resolve)), num(pct(w.document_rate)),
                          key=w.label)
        with drawing(self.query_one("#team-plot", Plot),
                     "Per week: first response in OLA, answers documented (%)") as plt:
            xs = list(range(1, len(t.weeks) + 1))
            for name, values in (("in OLA %", [w.ola_met_rate for w in t.weeks]),
                                 ("documented %", [w.document_rate for w in t.weeks])):
                pts = [(x, v * 100) for x, v in zip(xs, values) if v is not None]
                if pts:
                    plt.plot([p[0] for p in pts], [p[1] for p in pts], label=name, marker="braille")
            if t.weeks:
                step = max(1, len(t.weeks) // 5)
                plt.xticks(xs[::step], [w.label[5:] for w in t.weeks[::step]])
            plt.ylim(0, 100)
