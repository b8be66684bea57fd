"""The Insights pane as a user sees it, standalone in a small app: figures on screen, the driver
grouping key, enter on a driver opening its cases (in the workbench, whose pane screen shows
them), hostile text shown inert, and a snapshot."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, TabbedContent

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.storage import Replica
from backline_tui.screens.driver_cases import DriverCasesScreen
from backline_tui.widgets.insights import InsightsPane
from backline_tui.workbench import Workbench
from tests import factories as F
from tests.factories import NOW
from tests.test_insights import ARTICLES, BUG_CASES, BUGS, CASES, HELP, LINKS, C, hand  # noqa: F401 (fixture)


class PaneApp(App):
    def __init__(self, wb: Workbench) -> None:
        super().__init__()
        self.wb = wb
        self.opened: list[InsightsPane.OpenCases] = []

    def compose(self) -> ComposeResult:
        yield InsightsPane(self.wb)


class HandlingApp(PaneApp):
    """An app that shows a driver's cases itself."""

    def on_insights_pane_open_cases(self, message: InsightsPane.OpenCases) -> None:
        self.opened.append(message)


async def ready(pilot) -> InsightsPane:
    """Wait until the pane (on whichever screen holds it) has every section on screen."""
    [pane] = [p for screen in pilot.app.screen_stack for p in screen.query(InsightsPane)]
    for _ in range(100):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if pane.ready:
            for _ in range(3):  # the plots reach the screen one and two updates after their tables
                await pilot.pause()
            return pane
    raise AssertionError("the Insights pane never finished loading")


def screen_text(app: App) -> str:
    """The screen as its SVG screenshot holds it, with plain spaces."""
    return app.export_screenshot().replace("&#160;", " ")


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def test_hand_dataset_window_for_pane(hand):  # noqa: F811
    """The pane shows the default 26-week window; the hand dataset lies inside it."""
    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    assert wb.insights().drivers().total == 10
    wb.close()


async def test_pane_shows_every_section(hand):  # noqa: F811
    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    app = PaneApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ready(pilot)
        drivers = cells(pane.query_one("#drivers-table", DataTable))
        assert drivers[0][1:] == ["Widget / Editor", "5", "50%", "50%"]
        assert [r[1] for r in drivers] == ["Widget / Editor", "Widget / Sync", "Gadget / API"]
        bugs = cells(pane.query_one("#bugs-table", DataTable))
        assert bugs[0][0] == "PROJ-A" and bugs[0][3:7] == ["28", "2", "3", "2"]
        assert bugs[0][8].startswith("OVERDUE")
        assert cells(pane.query_one("#gaps-table", DataTable))[0] == ["Widget / Editor", "3", "2", "67%"]
        prio = cells(pane.query_one("#team-priority", DataTable))
        assert prio[0] == ["P1", "30m", "2", "30m", "50%", "50%"]
        assert [r[0] for r in cells(pane.query_one("#team-askers", DataTable))] == ["ana", "ben", "cat"]
        # g regroups the Pareto: by product, then by version
        await pilot.press("g")
        assert [r[1:3] for r in cells(pane.query_one("#drivers-table", DataTable))] == [
            ["Widget", "8"], ["Gadget", "2"]]
        await pilot.press("g")
        assert cells(pane.query_one("#drivers-table", DataTable))[0][1] == "Widget / 2.3"
    wb.close()


async def test_enter_on_a_driver_lists_its_cases(hand):  # noqa: F811
    """The pane asks for a driver's cases; the workbench's pane screen shows them."""
    from backline_tui.app import BacklineApp
    from backline_tui.screens.main import MainScreen

    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    app = BacklineApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("5")
        pane = await ready(pilot)
        pane.query_one("#drivers-table", DataTable).focus()
        await pilot.press("down", "enter")  # Widget / Sync
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DriverCasesScreen)
        table = app.screen.query_one(DataTable)
        assert [r[0] for r in cells(table)] == ["C-S3", "C-S2", "C-S1"]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and app.screen.query_one(InsightsPane) is pane
    wb.close()


async def test_an_app_that_handles_open_cases_gets_the_message_instead(hand):  # noqa: F811
    """The pane only posts OpenCases (a widget pushes no screen): here the app handles it."""
    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    app = HandlingApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ready(pilot)
        pane.query_one("#drivers-table", DataTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, DriverCasesScreen)
        [msg] = app.opened
        assert (msg.product, msg.component, msg.version) == ("Widget", "Editor", None)
        assert msg.since == "2026-06-01T00:00:00Z" and msg.until == "2026-11-23T09:00:00Z"
    wb.close()


async def test_hostile_upstream_text_is_shown_inert(tmp_path):
    db = tmp_path / "h.db"
    r = Replica(db)
    F.load(r, Config(me="alice"), cases=[
        C("C-X", "2026-11-20T10:00:00Z", product="[@click=app.quit]Evil[/] \x1b[2J", component="x [/ y")])
    r.close()
    wb = Workbench.open(db, Config(me="alice"), Clock(NOW))
    app = PaneApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ready(pilot)
        [row] = cells(pane.query_one("#drivers-table", DataTable))
        # the markup is text, the escape character a visible replacement (the cell is cut at 28)
        assert row[1].startswith("[@click=app.quit]Evil[/] \ufffd[") and "\x1b" not in row[1]
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "[@click=app.quit]Evil[/]" in svg.replace("&#160;", " ")
        assert app.is_running
    wb.close()


async def test_recompute_picks_up_new_data(hand):  # noqa: F811
    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    app = PaneApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ready(pilot)
        pane.query_one("#drivers-table", DataTable).focus()
        F.load(wb.replica, Config(me="alice"), cases=[C("C-N1", "2026-11-22T10:00:00Z", product="Gadget", component="API")])
        await pilot.press("R")
        await ready(pilot)
        assert str(pane.query_one("#drivers-caption").render()).startswith("11 cases · 3 of 3 make 80%")
        # a tie (3 and 3) is broken by name
        assert [r[1:3] for r in cells(pane.query_one("#drivers-table", DataTable))[1:]] == [
            ["Gadget / API", "3"], ["Widget / Sync", "3"]]
    wb.close()


def test_insights_pane_snapshot(snap_compare, hand):  # noqa: F811
    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    app = PaneApp(wb)

    async def run_before(pilot) -> None:
        await ready(pilot)

    try:
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
    finally:
        wb.close()


def test_insights_pane_snapshot_team(snap_compare, demo_db: Path):
    wb = Workbench.open(demo_db, Config(me="alice"), Clock(NOW))
    app = PaneApp(wb)

    async def run_before(pilot) -> None:
        pane = await ready(pilot)
        pane.query_one("#drivers-table", DataTable).focus()
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
    finally:
        wb.close()


async def test_key_5_in_the_workbench_shows_the_pane_and_its_keys_work(hand):  # noqa: F811
    from backline_tui.app import BacklineApp

    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    app = BacklineApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("5")
        pane = await ready(pilot)
        assert pane.visible and pane.screen is app.screen
        assert cells(pane.query_one("#drivers-table", DataTable))[0][1:3] == ["Widget / Editor", "5"]
        await pilot.press("g")  # reaches the pane without a click first
        assert pane.level == "product"
        assert cells(pane.query_one("#drivers-table", DataTable))[0][1:3] == ["Widget", "8"]
    wb.close()


async def test_a_failing_section_is_reported_and_the_others_still_show(hand, monkeypatch):  # noqa: F811
    from backline_tui.insights.service import Insights

    def broken(self, window=None, topics=10):
        raise RuntimeError("disk [b]on fire[/b]")

    monkeypatch.setattr(Insights, "gaps", broken)
    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    app = PaneApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ready(pilot)
        [said] = [n.message for n in app._notifications]
        assert said.startswith("Insights (gaps) failed: RuntimeError: disk [b]on fire[/b] (details in ")
        assert cells(pane.query_one("#drivers-table", DataTable))[0][1] == "Widget / Editor"
        assert pane.query_one("#gaps-table", DataTable).row_count == 0
    wb.close()


async def test_an_empty_database_shows_zeros(empty_wb):
    app = PaneApp(empty_wb)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ready(pilot)
        assert str(pane.query_one("#drivers-caption").render()).startswith("0 cases")
        assert pane.query_one("#bugs-table", DataTable).row_count == 0
        assert str(pane.query_one("#team-caption").render()).startswith("0 asked · in OLA – · median resolve –")
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await pilot.pause()
        assert app.is_running and not app._exception


async def test_each_driver_bar_is_labelled_with_its_own_driver_at_120x40(tmp_path):
    """Bars squeezed into too few rows took their neighbours' labels: every labelled row of the
    top-drivers plot carries the bar of that driver's count (ten drivers, all counts apart)."""
    db = tmp_path / "d.db"
    r = Replica(db)
    counts = {f"Part{i:02d}": 30 - 3 * i for i in range(10)}
    F.load(r, Config(me="alice"), cases=[
        C(f"C-{name}-{n}", "2026-11-20T10:00:00Z", component=name) for name, k in counts.items() for n in range(k)])
    r.close()
    wb = Workbench.open(db, Config(me="alice"), Clock(NOW))
    app = PaneApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ready(pilot)
        lines = pane.query_one("#drivers-pareto").render().plain.splitlines()
        bars = {}
        for line in lines:
            name, tick, rest = line.partition("┤")
            if tick and name.strip().startswith("Widget / "):
                bars[name.strip()[len("Widget / "):]] = rest.count("█")
        assert len(bars) >= 6, lines
        longest = max(bars.values())
        for name, length in bars.items():
            assert abs(length - counts[name] / counts["Part00"] * longest) <= 1.5, ("\n".join(lines), name)
    wb.close()


async def test_a_sections_plots_are_drawn_after_its_table_reaches_the_screen(hand):  # noqa: F811
    """When a section arrives, the update that first lays out its tab draws its table, not its
    plots (plotext drawing in the same update held the event loop twice as long); the plots are
    drawn in the updates after it."""
    from backline_tui.widgets.insights.common import Plot

    first: list[str] = []

    class WatchedPane(InsightsPane):
        def _arrived(self, gen, section, result) -> None:
            super()._arrived(gen, section, result)
            if section == "drivers":  # the open tab: what its first update put on screen
                self.call_after_refresh(lambda: first.append(screen_text(self.app)))

    class WatchedApp(PaneApp):
        def compose(self) -> ComposeResult:
            yield WatchedPane(self.wb)

    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    async with WatchedApp(wb).run_test(size=(120, 40)) as pilot:
        pane = await ready(pilot)
        assert "Widget / Editor" in first[0] and "Cases per week by product" not in first[0]
        assert "Cases per week by product" in screen_text(pilot.app)
        for section in ("drivers", "bugs", "gaps", "team"):  # each tab in turn shows its plots drawn
            pane.query_one(TabbedContent).active = f"tab-{section}"
            await pilot.pause()
            for plot in pane.query_one(f"#tab-{section}").query(Plot):
                assert str(plot.render()).strip(), plot.id
    wb.close()


async def test_regrouping_the_drivers_never_blanks_their_plots(hand):  # noqa: F811
    """g redraws the drivers' plots an update or two after their table. A plot drawn meanwhile
    (its tab shown, the terminal resized, a layout that moves it) shows its last drawing, not a
    blank."""
    from backline_tui.widgets.insights.common import Plot

    wb = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    async with PaneApp(wb).run_test(size=(120, 40)) as pilot:
        pane = await ready(pilot)
        pareto, trend = pane.query_one("#drivers-pareto", Plot), pane.query_one("#drivers-trend", Plot)
        pane.action_cycle_level()  # what g does
        assert pareto.held and trend.held  # not drawn again in this update
        assert "Top drivers by product / component" in str(pareto.render())  # what it drew before g
        assert "Cases per week by product" in str(trend.render())
        await ready(pilot)
        assert "Top drivers by product (cases)" in str(pareto.render())  # then its new drawing
    wb.close()
