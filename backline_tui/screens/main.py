"""The pane screen: help queue, stale cases, sustaining bugs, KB review (and insights).

Each pane shows one page (PAGE rows) read from SQLite on the database thread, in a worker: a
pane over a million records opens as fast as over a hundred, and nothing blocks the event loop
(the first page alone is read as the screen mounts, before the first frame: _show_first_page). How a page is drawn
is pane_view.py; what the screen remembers per pane and the keys that change it, pane_state.py."""

from __future__ import annotations

import asyncio
import importlib
from typing import Callable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static

from backline_tui import log
from backline_tui.screens.actions import ACTION_BINDINGS, COMPOSING, PANE_BINDINGS, RECORD_ACTIONS, RecordActions
from backline_tui.screens.pane_state import PANES, TITLES, PaneState, PaneTable
from backline_tui.screens.pane_view import PaneView
from backline_tui.text import one_line
from backline_tui.widgets.format import page_cells
from backline_tui.widgets.keybar import KeyBar
from backline_tui.widgets.rowlist import RowList
from backline_tui.widgets.status import PaneBar, StatusLine
from backline_tui.widgets.welcome import Welcome
from backline_tui.workbench import PAGE

# keys that move the cursor or change what is selected also run in key order, so a key behind
# them in the same burst ("jjjjr") acts on the row they reached
IN_KEY_ORDER = frozenset({"filter", "cursor", "top", "bottom", "half", "page", "mark", "mark_all", "clear_marks"})


class MainScreen(PaneState, PaneView, RecordActions, Screen):
    BINDINGS = [
        *PANE_BINDINGS,
        Binding("j", "cursor(1)", "Down", id="cursor.down", show=False),
        Binding("k", "cursor(-1)", "Up", id="cursor.up", show=False),
        Binding("enter", "open", "Open", id="open"),
        Binding("escape", "escape", "Back", id="back", show=False),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("M", "toggle('mine')", "Mine", id="filter.mine", show=False),
        Binding("F", "toggle('unclaimed')", "Unclaimed", id="filter.unclaimed", show=False),
        Binding("P", "product", "Product", id="filter.product", show=False),
        Binding("0", "clear_filters", "All", id="filter.clear", show=False),
        Binding("g", "top", "Top", id="nav.top", show=False),
        Binding("G", "bottom", "Bottom", id="nav.bottom", show=False),
        Binding("ctrl+d", "half(1)", "Half page down", id="nav.half_down", show=False),
        Binding("ctrl+u", "half(-1)", "Half page up", id="nav.half_up", show=False),
        Binding("s", "sort", "Sort", id="sort", show=False),
        Binding("space", "mark", "Mark", id="mark", show=False),
        Binding("A", "mark_all", "Mark all shown", id="mark.all", show=False),
        Binding("X", "clear_marks", "Clear marks", id="mark.clear", show=False),
        Binding("right_square_bracket", "page(1)", "Next page", id="page.next", show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="page.prev", show=False),
        *ACTION_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.empty_db: bool | None = None
        self.loaded = False
        self._keys_for: tuple | None = None  # what the footer's keys were last worked out for
        self._warmed = False
        self._suspended = False
        self._columns_for: tuple | None = None  # (pane, width) the columns were fitted to

    def compose(self) -> ComposeResult:
        yield PaneBar(id="panebar")
        yield Static(id="paneinfo")
        with ContentSwitcher(initial="table", id="switch"):
            yield PaneTable(id="table")
            yield Static(id="empty")
            yield Welcome(id="welcome")
            yield Container(id="insights")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(self.TICK_SECONDS, self._tick, name="countdown")
        self._show_bar()
        self.query_one("#paneinfo", Static).update(Text(f"{TITLES[self.pane]} · loading…", style="bold"))
        self.query_one(PaneTable).focus()
        if not self._show_first_page():
            self.reload()

    def on_screen_suspend(self) -> None:
        self._suspended = True

    def on_screen_resume(self) -> None:
        self._keep_focus_visible()
        # back from a detail or compose screen: what was done there shows in the list
        if self.loaded and self._suspended:
            self._suspended = False
            self.reload()

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        self.run_worker(self._load, group="pane", exclusive=True)

    def _show_first_page(self) -> bool:
        """The first page, read while the screen mounts, so that the first frame Textual draws
        has the rows. This once the event loop waits for the database thread (~10 ms at a
        million cases): nothing is on screen yet that it could hold up, and a page read in a
        worker came two frames later (the loop drew the empty list meanwhile, and the read
        waited for the GIL while it did). False if there is no page to show this way (an empty
        replica, an error): the worker's read then shows what there is, or says what is wrong."""
        try:
            # the lines of the rows on screen only: the others are made as they scroll in
            got = self.app.call_db_now(self._read_page(self.pane, check_empty=True, lines=self.size.height))
        except Exception:  # noqa: BLE001 — the worker's read says what is wrong
            return False
        if got is None:
            return False
        self.empty_db = False
        self._show_page(self.pane, got)
        self.run_worker(self._load(after_first=True), group="pane", exclusive=True)
        return True

    async def _load(self, after_first: bool = False) -> None:
        try:
            await (self._after_page(self.pane) if after_first else self._load_page())
        except Exception as exc:  # noqa: BLE001 — a locked or broken database must not end the app
            self.app.say(self.app.internal("could not read the database", exc), severity="error", timeout=10)

    def _read_page(self, pane: str, check_empty: bool, lines: int | None = None) -> Callable[[], tuple | dict | None]:
        """What a pane shows, read in one trip to the database thread: None for an empty
        replica, the counts for the insights pane, else (offset, rows, cells, lines)."""
        app, wb = self.app, self.app.workbench
        f, offset, width = self.filters.get(pane), self.offsets.get(pane, 0), self._list_width()

        def read():
            if check_empty and wb.is_empty():
                return None
            if pane == "insights":
                return wb.counts()
            at, rows = offset, app.pane_page(pane, f, offset, PAGE)
            if not rows and offset:
                at, rows = 0, app.pane_page(pane, f, 0, PAGE)
            # the cells (sanitised, styled Text) are built off the event loop too
            return (at, rows, *page_cells(pane, rows, width, lines))

        return read

    async def _load_page(self) -> None:
        app = self.app
        pane = self.pane
        got = await app.call_db(self._read_page(pane, check_empty=self.empty_db is None or self.empty_db))
        self.empty_db = got is None
        if got is None:
            self._show_empty_db()
            self.loaded = True
            await self._drawn()
            self.app.settle_heap()
            await app.ensure_config()
            return
        if pane == "insights":
            self.counts = got
            self._show_bar()
            self.loaded = True
            return
        self._show_page(pane, got)
        await self._after_page(pane)

    def _show_page(self, pane: str, got: tuple) -> None:
        self.offsets[pane], rows, row_cells, lines = got
        self._show_rows(pane, rows, row_cells, lines)

    async def _after_page(self, pane: str) -> None:
        """What depends on a page shown: the warm-up and the config (once, after the first page
        is drawn), the pane's total and every pane's count."""
        app, wb, f = self.app, self.app.workbench, self.filters[pane]
        self.loaded = True
        if not self._warmed:
            await self._drawn()  # the first page is on screen: now what can wait
            self._warm_up()
            if app.config_applied:
                app.start_live()  # background sync (otherwise once the config is read)
        if not app.config_applied:
            # the config is validated once the first page is drawn (the models take ~100 ms
            # to build); if it changed the OLA targets, the page is read again
            if await app.ensure_config():
                await self._load_page()
                return
        self.totals[pane] = await app.call_db(app.pane_total, pane, f)
        self._show_info()
        self.counts = await app.call_db(wb.counts)
        self._show_bar()

    async def _drawn(self) -> None:
        # a page shown as the screen mounts goes out with the first frame (Textual's Ready)
        await self.app.first_frame.wait()
        drawn = asyncio.Event()
        self.call_after_refresh(drawn.set)
        await drawn.wait()

    def _warm_up(self) -> None:
        """After the first page is on screen, import what the first detail, dialog and the
        insights pane need in a thread, so opening them does not stall the event loop on imports."""
        if self._warmed:
            return
        self._warmed = True
        self.call_after_refresh(self._prepare_filter_field)
        self.app.settle_heap()
        self.run_worker(self._warm_up_imports, thread=True, group="warm-up", exit_on_error=False)

    def _warm_up_imports(self) -> None:
        _import_later()
        self.app.settle_heap()  # gc.freeze is safe from any thread

    # ------------------------------------------------------------------ the selected row

    def _current_ref(self) -> str | None:
        rec = self.target()
        return rec["ref"] if rec else None

    def target(self) -> dict | None:
        if self.pane == "insights" or self.rows_pane != self.pane or not self.rows:
            return None
        if self.query_one(ContentSwitcher).current != "table":
            return None
        row = self.query_one(PaneTable).cursor_row
        if 0 <= row < len(self.rows):
            return self.rows[row]
        return None

    def on_row_list_row_highlighted(self, event: RowList.RowHighlighted) -> None:
        rec = self.target()
        if rec is not None:
            self.cursor_ref[self.pane] = rec["ref"]
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        """The keys that apply depend only on the kind of record selected (and the pane): rebuild
        the footer when that changes, not on every cursor move (a rebuild costs ~10 ms of
        layout, the main stall when scrolling a pane)."""
        rec = self.target()
        refused = frozenset(a for a in RECORD_ACTIONS if rec is not None and self.refusal(a, rec, owners=False))
        key = (self.pane, rec.get("kind") if rec else None, self.empty_db, refused)
        if key != self._keys_for:
            self._keys_for = key
            self.refresh_bindings()

    def on_row_list_row_selected(self, event: RowList.RowSelected) -> None:
        self.action_open()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle", "product", "clear_filters", "filter", "page", "open", "top", "bottom", "half",
                      "mark", "mark_all", "clear_marks", "sort"):
            if self.pane == "insights" or self.empty_db:
                return False
        return self.check_record_action(action)

    # ------------------------------------------------------------------ keys

    def action_pane(self, name: str) -> None:
        if self.empty_db:
            self.app.say("the database is empty: run `backline demo` or configure a source")
            return
        if name == self.pane:
            return
        if self.pane in PANES and self.rows_pane == self.pane:
            self.cursor_ref[self.pane] = self._current_ref()
        self.pane = name
        switcher = self.query_one(ContentSwitcher)
        filt = self._filter_field()
        filt.display = False
        if name == "insights":
            switcher.current = "insights"
            self._mount_insights()
        else:
            filt.value = self.filters[name].text or ""
            if self.rows_pane != name:
                self.query_one(PaneTable).clear(columns=True)
                self.rows, self.rows_pane = [], None
            switcher.current = "table"
            self.query_one(PaneTable).focus()
        self._show_bar()
        self._show_info()
        self._refresh_keys()
        self.reload()

    def _mount_insights(self) -> None:
        box = self.query_one("#insights", Container)
        if box.children:
            return
        from backline_tui.widgets.insights import InsightsPane

        try:
            box.mount(InsightsPane(self.app.workbench))
        except Exception as exc:  # noqa: BLE001 — a broken section must not take the app down
            box.mount(Static(Text(one_line(self.app.internal("Insights could not start", exc), 300))))

    def on_insights_pane_open_cases(self, message) -> None:
        """The cases behind an Insights driver, in their own screen."""
        from backline_tui.screens.driver_cases import DriverCasesScreen

        message.stop()
        self.app.push_screen(DriverCasesScreen(self.app.workbench, message.product, message.component,
                                               message.version, message.window))

    def action_open(self) -> None:
        rec = self.target()
        if rec is not None:
            self.app.open_record(rec["kind"], rec["ref"])

    def _keep_focus_visible(self) -> None:
        """Focus never stays in a field the user cannot see (the hidden filter would take the
        keys meant as commands, q among them) nor nowhere: the list takes it."""
        focused = self.focused
        if focused is None or (focused is self._filter and not self._filter.display):
            if self.pane in PANES:
                self.query_one(PaneTable).focus()
            elif focused is not None:
                self.set_focus(None)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self._filter is not None and event.widget is self._filter and not self._filter.display:
            self.call_later(self._keep_focus_visible)

    def on_key(self, event: events.Key) -> None:
        # Keys typed right after / were already routed to the table before the field took
        # focus; they bubble here. Put them in the field rather than run them as commands.
        if self.swallow_key(event):
            return
        filt = self._filter
        if self.focused is not filt and self.run_key_now(event, COMPOSING | IN_KEY_ORDER):
            return
        if filt is not None and self.focused is filt and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            filt.insert_text_at_cursor(event.character)




WARM_UP_MODULES = ("backline_tui.screens.detail", "backline_tui.screens.dialogs", "backline_tui.screens.compose",
                   "textual.widgets._markdown", "backline_tui.widgets.insights")


def _import_later() -> None:
    for name in WARM_UP_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 — warm-up only: the real import later says what is wrong
            log.get(__name__).warning("warm-up import of %s failed", name, exc_info=True)
