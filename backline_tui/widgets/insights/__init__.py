"""The Insights pane (key 5): what drives the cases, which bugs hurt most, what is not documented,
and how the backline itself is doing, as plots with the numbers beside them.

Everything is computed by `Workbench.insights()` in a thread worker, the quick sections first;
each section shows a loading state until it arrives. Upstream text (products, subjects, askers) is shown through the one
sanitiser, as Text, never as markup; plot labels are sanitised too (plotext output is parsed as
ANSI).

Each section is its own widget (drivers.py, bugs.py, gaps.py, team.py) drawing its plots through
common.drawing; this pane loads the figures, shows each section as it arrives, and asks for a
driver's cases with an OpenCases message (the screen holding the pane shows them).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from backline_tui import log
from backline_tui.text import one_line
from backline_tui.widgets.insights.bugs import BugsSection
from backline_tui.widgets.insights.drivers import DriversSection
from backline_tui.widgets.insights.gaps import GapsSection
from backline_tui.widgets.insights.team import TeamSection

LEVELS = ("component", "product", "version")
SECTIONS = ("drivers", "bugs", "gaps", "team")


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
        """The user asked for the cases behind a driver (None: any value). The screen that holds
        the pane shows them (screens/driver_cases.py), unless something on the way handles it."""

        def __init__(self, product: str | None, component: str | None, version: str | None, since: str, until: str,
                     window: Any = None) -> None:
            super().__init__()
            self.product, self.component, self.version = product, component, version
            self.since, self.until = since, until
            self.window = window  # the insights window the pane shows (since/until as a whole)

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
                yield DriversSection()
            with TabPane("Bugs by impact", id="tab-bugs"):
                yield BugsSection()
            with TabPane("Knowledge gaps", id="tab-gaps"):
                yield GapsSection()
            with TabPane("Team", id="tab-team"):
                yield TeamSection()

    def on_mount(self) -> None:
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
            try:  # while a first sync's history backfill runs, the figures are partial
                self.app.call_from_thread(self._partial_is, gen, self.workbench.insights_partial())
            except Exception:  # noqa: BLE001 — the note is a courtesy; the figures still come
                pass
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

    def _partial_is(self, gen: int, words: str | None) -> None:
        if gen == self._generation and self.is_attached:
            self.partial = words
            self._head()

    def _arrived(self, gen: int, section: str, result: Any) -> None:
        if gen != self._generation or not self.is_attached:
            return
        self.data[section] = result
        self._show(section)
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
        if getattr(self, "partial", None):
            text.append(f" · {self.partial}", style="bold")
        if self._pending:
            text.append(" · computing " + ", ".join(s for s in SECTIONS if s in self._pending) + "…", style="italic")
        self.query_one("#insights-head", Static).update(text)

    @property
    def ready(self) -> bool:
        return not self._pending and bool(self.data)

    # -- sections ----------------------------------------------------------------------------------------

    def _show(self, section: str) -> None:
        result = self.data[section]
        if section == "drivers":
            self.query_one(DriversSection).show(result, self.level, self.window)
        else:
            self.query_one({"bugs": BugsSection, "gaps": GapsSection, "team": TeamSection}[section]).show(result)

    # -- actions ---------------------------------------------------------------------------------------

    def action_cycle_level(self) -> None:
        self.level = LEVELS[(LEVELS.index(self.level) + 1) % len(LEVELS)]
        if "drivers" in self.data:
            self._show("drivers")
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
        """Ask for the cases behind a driver: the screen holding the pane (or the app) shows them."""
        w = self.window
        self.post_message(self.OpenCases(product, component, version, w.since_ts, w.until_ts, w))
