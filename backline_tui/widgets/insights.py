"""The Insights pane (key 5): what drives the cases, which bugs hurt most, what is not documented,
and how the backline itself is doing, as plots with the numbers beside them.

Everything is computed by `Workbench.insights()` in a thread worker, the quick sections first;
each section shows a loading state until it arrives. Upstream text (products, subjects, askers) is shown through the one
sanitiser, as Text, never as markup; plot labels are sanitised too (plotext output is parsed as
ANSI).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from backline_tui import log
from backline_tui.clock import duration
from backline_tui.text import one_line
from backline_tui.widgets.keybar import KeyBar

LEVEL_NAMES = {"product": "product", "component": "product / component", "version": "product / version"}
LEVELS = ("component", "product", "version")
SECTIONS = ("drivers", "bugs", "gaps", "team")


def cell(value: object, width: int | None = None, style: str = "") -> Text:
    return Text(one_line("" if value is None else str(value), width), style=style, no_wrap=True, overflow="ellipsis")


def num(value: object, style: str = "") -> Text:
    if isinstance(value, float):
        value = f"{value:,.1f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return Text("–" if value is None else str(value), style=style, justify="right")


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.0f}%"


def label(value: object, width: int = 18) -> str:
    """A plot label: sanitised (no control characters reach the ANSI parser) and short."""
    return one_line("" if value is None else str(value), width) or "(none)"


class InsightsTable(DataTable):
    DEFAULT_CSS = "InsightsTable { height: 1fr; }"

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)


class InsightsPane(Widget, can_focus=False):
    """The Insights pane. `InsightsPane(workbench)`; works in any app."""

    DEFAULT_CSS = """
    InsightsPane { height: 1fr; }
    InsightsPane #insights-head { height: 1; padding: 0 1; color: $text-muted; }
    InsightsPane TabbedContent { height: 1fr; }
    InsightsPane TabPane { padding: 0; }
    InsightsPane .numbers { width: 58; height: 1fr; }
    InsightsPane .plots { width: 1fr; height: 1fr; }
    InsightsPane .caption { height: 1; padding: 0 1; color: $text-muted; }
    InsightsPane PlotextPlot { height: 1fr; }
    InsightsPane #gaps-top { height: 1fr; }
    InsightsPane #gaps-topics { height: 12; }
    InsightsPane #team-priority { height: 7; }
    InsightsPane #team-askers { height: 1fr; }
    """

    BINDINGS = [
        Binding("g", "cycle_level", "Group by", id="insights.level"),
        Binding("right_square_bracket", "section(1)", "Next section", id="insights.next"),
        Binding("left_square_bracket", "section(-1)", "Prev section", id="insights.prev", show=False),
        Binding("R", "reload", "Recompute", id="insights.reload"),
    ]

    class OpenCases(Message):
        """The user asked for the cases behind a driver (None: any value). The app may show them
        in its case list; if it has no handler, the pane shows its own list screen."""

        def __init__(self, product: str | None, component: str | None, version: str | None, since: str, until: str) -> None:
            super().__init__()
            self.product, self.component, self.version = product, component, version
            self.since, self.until = since, until

    class Ready(Message):
        """Every section is on screen (posted after each load)."""

    def __init__(self, workbench: Any, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.workbench = workbench
        self.level = "component"
        self.data: dict[str, Any] = {}
        self.window = None
        self._pending: set[str] = set()
        self._generation = 0

    # -- layout -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text("Insights: computing…"), id="insights-head")
        with TabbedContent(id="insights-tabs", initial="tab-drivers"):
            with TabPane("Drivers", id="tab-drivers"):
                with Horizontal():
                    with Vertical(classes="numbers"):
                        yield Static(Text(""), classes="caption", id="drivers-caption")
                        yield InsightsTable(id="drivers-table")
                    with Vertical(classes="plots"):
                        yield PlotextPlot(id="drivers-pareto")
                        yield PlotextPlot(id="drivers-trend")
            with TabPane("Bugs by impact", id="tab-bugs"):
                with Vertical():
                    yield Static(Text(""), classes="caption", id="bugs-caption")
                    yield InsightsTable(id="bugs-table")
                    yield PlotextPlot(id="bugs-plot")
            with TabPane("Knowledge gaps", id="tab-gaps"):
                with Vertical():
                    with Horizontal(id="gaps-top"):
                        with Vertical(classes="numbers"):
                            yield Static(Text(""), classes="caption", id="gaps-caption")
                            yield InsightsTable(id="gaps-table")
                        yield PlotextPlot(id="gaps-plot", classes="plots")
                    yield Static(Text("Most asked topics with no article (similar subjects grouped)"), classes="caption")
                    yield InsightsTable(id="gaps-topics")
            with TabPane("Team", id="tab-team"):
                with Horizontal():
                    with Vertical(classes="numbers"):
                        yield Static(Text(""), classes="caption", id="team-caption")
                        yield InsightsTable(id="team-priority")
                        yield Static(Text("Requests per asker (who might need training)"), classes="caption")
                        yield InsightsTable(id="team-askers")
                    with Vertical(classes="plots"):
                        yield PlotextPlot(id="team-plot")
                        yield InsightsTable(id="team-weeks")

    def on_mount(self) -> None:
        self._setup_tables()
        self.load()
        self.call_after_refresh(self.focus_section)

    def on_show(self) -> None:
        self.focus_section()

    def focus_section(self) -> None:
        """Focus the table of the open section unless focus is already inside the pane (the
        pane's keys work from the focus chain)."""
        if not self.is_attached or self.app.screen is not self.screen:
            return
        focused = self.app.focused
        if focused is not None and self in focused.ancestors_with_self:
            return
        tabs = self.query_one(TabbedContent)
        table = self.query_one(f"#{tabs.active}").query(DataTable).first()
        table.focus()

    def _setup_tables(self) -> None:
        self.query_one("#bugs-table", DataTable).add_columns(
            "Bug", "Title", "Product / component", "Score", "Open", "Linked", "Cust.", "Prio", "Target")
        self.query_one("#gaps-table", DataTable).add_columns("Product / component", "Answered", "No article", "Gap")
        self.query_one("#gaps-topics", DataTable).add_columns(
            "Topic", "Product / component", "Asked", "Phrasings", "Example")
        self.query_one("#team-priority", DataTable).add_columns("Prio", "OLA", "Asked", "Median 1st resp.", "In OLA", "Doc rate")
        self.query_one("#team-askers", DataTable).add_columns("Asker", "Asked", "/week", "Already in KB", "Products")
        self.query_one("#team-weeks", DataTable).add_columns("Week of", "Asked", "1st resp.", "In OLA", "Resolve", "Doc")

    # -- loading --------------------------------------------------------------------------------------

    def load(self) -> None:
        """(Re)compute every section in thread workers; each shows as soon as it is ready."""
        self._generation += 1
        gen = self._generation
        self._pending = set(SECTIONS)
        for pane in self.query(TabPane):
            pane.loading = True
        self._head()
        self._compute(gen)

    def _compute(self, gen: int) -> None:
        ins = self.workbench.insights()
        window = ins.window()
        self.window = window
        steps = [
            ("bugs", lambda: ins.bugs(10)),
            ("drivers", lambda: ins.drivers(window)),
            ("gaps", lambda: ins.gaps(window)),
            ("team", lambda: ins.team(window)),
        ]

        # One thread, the quick sections first, each shown as soon as it is ready. Parallel
        # threads were no faster on two cores and made the UI thread wait for the GIL.
        def job() -> None:
            for section, fn in steps:
                if gen != self._generation:
                    return
                try:
                    result = fn()
                except Exception as exc:  # noqa: BLE001 — shown in the pane, not a crash
                    deliver, args = self._failed, (gen, section, exc)
                else:
                    deliver, args = self._arrived, (gen, section, result)
                try:
                    self.app.call_from_thread(deliver, *args)
                except RuntimeError:  # the app closed while this was computing
                    return

        self.run_worker(job, thread=True, group="insights", exclusive=True, name="insights")

    def _arrived(self, gen: int, section: str, result: Any) -> None:
        if gen != self._generation or not self.is_attached:
            return
        self.data[section] = result
        getattr(self, f"_show_{section}")()
        self.query_one(f"#tab-{section}", TabPane).loading = False
        self._pending.discard(section)
        self._head()
        if getattr(self, "_refocus", False) and not self._pending:
            # R: the loading indicators took the focus; give it back, or the pane's keys stop
            self._refocus = False
            self.call_after_refresh(self.focus_section)
        if not self._pending:
            self.post_message(self.Ready())

    def _failed(self, gen: int, section: str, exc: Exception) -> None:
        if gen != self._generation or not self.is_attached:
            return
        pane = self.query_one(f"#tab-{section}", TabPane)
        pane.loading = False
        self._pending.discard(section)
        said = log.internal(log.get(__name__), f"Insights ({section}) failed", exc)
        self.app.notify(one_line(said, 300), severity="error", markup=False)
        self._head()

    def _head(self) -> None:
        w = self.window
        text = Text("Insights", style="bold")
        if w is not None:
            text.append(f" · cases and requests created {w.describe()}")
        if self._pending:
            text.append(" · computing " + ", ".join(s for s in SECTIONS if s in self._pending) + "…", style="italic")
        self.query_one("#insights-head", Static).update(text)

    @property
    def ready(self) -> bool:
        return not self._pending and bool(self.data)

    # -- sections ----------------------------------------------------------------------------------------

    def _show_drivers(self) -> None:
        d = self.data["drivers"]
        drivers = d.pareto[self.level]
        table = self.query_one("#drivers-table", DataTable)
        table.clear(columns=True)
        table.add_columns("#", LEVEL_NAMES[self.level].capitalize(), "Cases", "Share", "Cum.")
        for i, x in enumerate(drivers, 1):
            vital = x.cumulative - x.share < 0.8
            table.add_row(num(i), cell(x.label, 28, "bold" if vital else ""), num(x.cases), num(pct(x.share)),
                          num(pct(x.cumulative)), key=f"{i - 1}")
        few = d.vital_few(self.level)
        self.query_one("#drivers-caption", Static).update(Text(
            f"{d.total:,} cases · {few} of {len(drivers)} make 80% · enter: cases"))
        top = drivers[:10]
        plot = self.query_one("#drivers-pareto", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        if top:
            top = top[::-1]  # plotext draws the first bar at the bottom
            plt.bar([label(x.label, 20) for x in top], [x.cases for x in top], orientation="horizontal",
                    color="orange", width=0.6)
        plt.title(f"Top drivers by {LEVEL_NAMES[self.level]} (cases)")
        plot.refresh()
        trend = self.query_one("#drivers-trend", PlotextPlot)
        plt = trend.plt
        plt.clear_data()
        plt.clear_figure()
        weeks = self.window.weeks if self.window else []
        xs = list(range(1, len(weeks) + 1))
        for product, counts in list(d.trend.items())[:6]:
            plt.plot(xs, counts, label=label(product, 14), marker="braille")
        if weeks:
            step = max(1, len(weeks) // 6)
            plt.xticks(xs[::step], [w.strftime("%d %b") for w in weeks[::step]])
        plt.title("Cases per week by product")
        trend.refresh()

    def _show_bugs(self) -> None:
        bugs = self.data["bugs"]
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
        plot = self.query_one("#bugs-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        if bugs:
            plt.bar([label(b.ref, 12) for b in bugs], [b.impact_score for b in bugs], color="red")
        plt.title("Impact score")
        plot.refresh()

    def _show_gaps(self) -> None:
        g = self.data["gaps"]
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
        plot = self.query_one("#gaps-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        top = [x for x in g.by_component if x.undocumented][:8][::-1]
        if top:
            plt.bar([label(f"{x.product} / {x.component}", 20) for x in top], [x.undocumented for x in top],
                    orientation="horizontal", color="orange", width=0.6)
        plt.title("Answered, no article")
        plot.refresh()

    def _show_team(self) -> None:
        t = self.data["team"]
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
        plot = self.query_one("#team-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
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
        plt.title("Per week: first response in OLA, answers documented (%)")
        plot.refresh()

    # -- actions ---------------------------------------------------------------------------------------

    def action_cycle_level(self) -> None:
        self.level = LEVELS[(LEVELS.index(self.level) + 1) % len(LEVELS)]
        if "drivers" in self.data:
            self._show_drivers()
        self.query_one(TabbedContent).active = "tab-drivers"

    def action_section(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        ids = [f"tab-{s}" for s in SECTIONS]
        current = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(current + step) % len(ids)]
        table = self.query_one(f"#{tabs.active}").query(DataTable).first()
        table.focus()

    def action_reload(self) -> None:
        self._refocus = True
        self.load()

    @on(DataTable.RowSelected, "#drivers-table")
    def _driver_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        d = self.data.get("drivers")
        if d is None or self.window is None:
            return
        x = d.pareto[self.level][int(event.row_key.value)]
        self.open_cases(x.product, x.component, x.version)

    def open_cases(self, product: str | None, component: str | None, version: str | None) -> None:
        w = self.window
        self.post_message(self.OpenCases(product, component, version, w.since_ts, w.until_ts))
        if not self._app_handles_open_cases():
            self.app.push_screen(DriverCasesScreen(self.workbench, product, component, version, w))

    def _app_handles_open_cases(self) -> bool:
        for node in (self.app, self.screen):
            if hasattr(node, "on_insights_pane_open_cases"):
                return True
            if self.OpenCases in getattr(type(node), "_decorated_handlers", {}):
                return True
        return False


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
