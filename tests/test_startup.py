"""Start-up: the workbench shows the help queue before it validates the config (building the
config models is a third of the start-up), then uses the config's keys, theme and thresholds,
or ends with the config's one-line error."""

from __future__ import annotations

import subprocess
import time
import sys
from pathlib import Path

import pytest

from backline_tui.app import BacklineApp
from backline_tui.config import validate_config
from backline_tui.config_file import ConfigError, read_config
from backline_tui.screens.main import PAGE, PaneTable
from backline_tui.startup import Startup
from backline_tui.workbench import Workbench
from tests.test_ui_support import settle

SIZE = (120, 40)


def lazy_workbench(db: Path, path: Path, clock) -> Workbench:
    """The workbench as `backline` opens it: the config validated at first use."""
    raw = read_config(path)
    return Workbench.open(db, clock=clock, config_loader=lambda: validate_config(raw, path))


async def test_the_config_applies_after_the_first_page(demo_db, clock, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('me = "alice"\ntheme = "textual-light"\n[keys]\nclaim = "C"\n')
    wb = lazy_workbench(demo_db, cfg, clock)
    assert not wb.config_loaded
    target = next(r for r in wb.pane("help", limit=PAGE) if r["owner"] is None)
    assert not wb.config_loaded  # the help queue's first page needs no config
    app = BacklineApp(wb)  # the theme comes from the config file alone
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme != "textual-light"
        await settle(pilot)
        assert wb.config_loaded and wb.me == "alice"
        assert app.theme == "textual-light"
        row = next(i for i, r in enumerate(app.screen.rows) if r["ref"] == target["ref"])
        app.screen.query_one(PaneTable).move_cursor(row=row)
        await pilot.press("c")
        await settle(pilot)
        assert wb.help_request(target["ref"])["owner"] is None  # remapped: c no longer claims
        await pilot.press("C")
        await settle(pilot)
        assert wb.help_request(target["ref"])["owner"] == "alice"
    wb.close()


async def test_changed_ola_targets_redraw_the_first_page(demo_db, clock, tmp_path):
    # the replica's OLA due times were stored for the default targets; the config halves P3's
    cfg = tmp_path / "config.toml"
    cfg.write_text('me = "alice"\n[ola]\nP3 = 240\n')
    wb = lazy_workbench(demo_db, cfg, clock)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert wb.config_refreshed
        fresh = Workbench.open(demo_db, validate_config(read_config(cfg), cfg), clock)
        assert [r["ref"] for r in app.screen.rows] == [r["ref"] for r in fresh.pane("help", limit=PAGE)]
        shown = {r["ref"]: r["ola_due_at"] for r in app.screen.rows}
        assert shown == {r["ref"]: r["ola_due_at"] for r in fresh.pane("help", limit=PAGE)}
        fresh.close()
    wb.close()


async def test_a_config_that_fails_validation_ends_the_app_with_its_line(demo_db, clock, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[ola]\nP1 = 'soon'\n")
    wb = lazy_workbench(demo_db, cfg, clock)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            if app.return_code is not None:
                break
            await pilot.pause(0.05)
    assert app.return_code == 1
    assert "ola.P1" in app.config_error and str(cfg) in app.config_error
    wb.close()


def test_a_file_that_is_not_toml_stops_before_the_screen(demo_db, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("me = 'a'\nme = 'b'\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Startup(demo_db, cfg)


async def test_startup_opens_the_replica_and_leaves_the_config_for_later(demo_db, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('me = "alice"\ntheme = "textual-light"\n')
    startup = Startup(demo_db, cfg)
    assert startup.theme == "textual-light"  # read from the file for the first frame
    wb = startup.workbench()
    assert not wb.config_loaded
    app = BacklineApp(wb, theme=startup.theme)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert [r["ref"] for r in app.screen.rows] == [r["ref"] for r in wb.pane("help", limit=PAGE)]
        assert wb.config_loaded and wb.me == "alice"
        assert app.screen.counts["stale"] == wb.pane_count("stale")
        assert "me: alice" in app.status_text
    wb.close()


def test_the_help_queue_is_drawn_without_importing_pydantic():
    # what `backline` imports before its first screen (pydantic is imported after it)
    code = ("import sys, backline_tui.cli, backline_tui.app, backline_tui.screens.main; "
            "print('pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_a_key_while_the_config_loads_does_not_lose_it(demo_db, clock, tmp_path):
    # a pane switch (or a filter) reloads the page while the config is still being validated
    # after the first one: the new load must apply the config, or the session runs without the
    # config's keys, theme and background sync
    cfg = tmp_path / "config.toml"
    cfg.write_text('me = "alice"\ntheme = "textual-light"\n')
    raw = read_config(cfg)

    def slow_loader():
        time.sleep(0.5)  # a loaded machine: pydantic's import and the models take this long
        return validate_config(raw, cfg)

    wb = Workbench.open(demo_db, clock=clock, config_loader=slow_loader)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(200):
            if app.screen.rows:
                break
            await pilot.pause(0.01)
        await pilot.pause(0.1)
        assert not wb.config_loaded
        await pilot.press("2")  # a pane switch reloads the page
        await settle(pilot)
        await pilot.pause(0.6)
        await settle(pilot)
        assert wb.config_loaded and app.theme == "textual-light"
        assert "me: alice" in app.status_text
    wb.close()


def screen_text(app: BacklineApp) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


class FirstFrameApp(BacklineApp):
    """Notes what the pane list held when Textual drew the first frame (its Ready event)."""

    def on_ready(self) -> None:
        super().on_ready()
        self.rows_at_first_frame = self.screen.query_one(PaneTable).row_count
        self.first_frame_text = screen_text(self)


async def test_the_first_frame_already_has_the_help_rows(demo_db, clock):
    # the first page is read as the screen mounts: no empty frame, then the rows a frame later
    wb = Workbench.open(demo_db, clock=clock)
    first = wb.pane("help", limit=PAGE)[0]
    app = FirstFrameApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.rows_at_first_frame == len(app.screen.rows) > 0
        assert first["ref"] in app.first_frame_text
    wb.close()


async def test_a_replica_that_cannot_be_read_at_start_says_so_and_the_app_keeps_running(demo_db, clock):
    wb = Workbench.open(demo_db, clock=clock)
    wb.replica.conn.execute("DROP TABLE help_requests")  # the first page's read fails
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("could not read the database" in m for m in said), said
        assert app.is_running and not app.screen.rows
        await pilot.press("2")  # keys still work
        await settle(pilot)
        assert app.is_running and app.screen.pane == "stale"
    wb.close()


async def test_rows_below_the_first_screen_are_drawn_as_they_scroll_in(demo_db, clock):
    # the first page's lines are laid out for the rows on screen only; the rest as they come
    wb = Workbench.open(demo_db, clock=clock)
    app = BacklineApp(wb)
    async with app.run_test(size=(120, 6)) as pilot:
        await settle(pilot)
        rows = app.screen.rows
        assert len(rows) > 6  # more rows than the screen has lines
        assert rows[-1]["ref"] not in screen_text(app)
        app.screen.query_one(PaneTable).move_cursor(row=len(rows) - 1)
        await settle(pilot)
        assert rows[-1]["ref"] in screen_text(app)
    wb.close()
