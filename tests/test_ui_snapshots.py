"""What each screen looks like, on a small hand-made world (tests/snapshot_world.py) at a fixed
time (120×40, UTC).

snap_compare works in sync tests only (textual 8.2.8). Regenerate with
`pytest tests/test_ui_snapshots.py --snapshot-update`, then look at the SVGs."""

from __future__ import annotations

import shutil
import time

import pytest

from backline_tui.app import BacklineApp
from backline_tui.clock import Clock, parse_ts
from backline_tui.config import Config
from backline_tui.storage import Replica, records
from backline_tui.workbench import Workbench
from tests.hostile import store
from tests.snapshot_world import NOW as WORLD_NOW
from tests.snapshot_world import world
from tests.test_ui_support import settle

SIZE = (120, 40)
NOW = parse_ts("2026-11-23T09:00:00Z")
HOSTILE = "[@click=app.quit]x[/] [link=file:///etc/passwd]y[/link] x [/ y [INFO] [1/3] \x1b[2J\x1b]0;title\x07 end"


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Times are shown in local time: pin the zone so the pictures do not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def small_template(tmp_path_factory) -> str:
    assert WORLD_NOW == NOW
    path = tmp_path_factory.mktemp("small") / "small.db"
    r = Replica(path)
    store(r, Config(me="alice"), world())
    r.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    r.close()
    return str(path)


@pytest.fixture
def small_wb(small_template, tmp_path):
    dest = tmp_path / "small.db"
    shutil.copy(small_template, dest)
    w = Workbench.open(dest, Config(me="alice"), Clock(NOW))
    yield w
    w.close()


def run(snap_compare, wb, *keys, editor=None, after=None) -> bool:
    async def before(pilot):
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if after is not None:
            await after(pilot)
            await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    return snap_compare(BacklineApp(wb, editor=editor), terminal_size=SIZE, run_before=before)


def test_help_queue(snap_compare, small_wb):
    assert run(snap_compare, small_wb)


def test_stale_cases(snap_compare, small_wb):
    assert run(snap_compare, small_wb, "2")


def test_sustaining_bugs(snap_compare, small_wb):
    assert run(snap_compare, small_wb, "3")


def test_kb_review(snap_compare, small_wb):
    assert run(snap_compare, small_wb, "4")


def test_help_request_detail_with_thread_and_links(snap_compare, small_wb):
    ref = "HELP-202"  # alice's, with a case and a bug behind it
    small_wb.respond(ref, "Known issue PROJ-13: sign in from a private window,\nor use Chrome until the fix ships.")
    small_wb.note("help_request", ref, "checked with eng on chat")

    async def open_it(pilot):
        pilot.app.open_record("help_request", ref)

    assert run(snap_compare, small_wb, after=open_it)


def test_bug_detail(snap_compare, small_wb):
    assert run(snap_compare, small_wb, "3", "enter")


def test_article_detail_renders_markdown(snap_compare, small_wb):
    assert run(snap_compare, small_wb, "4", "enter")


def test_compose_reply(snap_compare, small_wb):
    async def write(pilot):
        await pilot.press("r")
        await settle(pilot)
        pilot.app.screen.query_one("TextArea").insert("Hi, this is a known issue.\nRestart the agent.")

    assert run(snap_compare, small_wb, after=write)


def test_document_draft(snap_compare, small_wb):
    ref = "HELP-202"
    small_wb.respond(ref, "Clear the cache, then restart the sync agent.")

    async def document(pilot):
        pilot.app.open_record("help_request", ref)
        await settle(pilot)
        await pilot.press("d")

    assert run(snap_compare, small_wb, after=document)


def test_light_theme(snap_compare, small_wb):
    small_wb.config = small_wb.config.model_copy(update={"theme": "textual-light"})
    assert run(snap_compare, small_wb, "3")


def test_help_screen(snap_compare, small_wb):
    assert run(snap_compare, small_wb, "question_mark")


def test_empty_database_first_run(snap_compare, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLINE_CONFIG", "/home/me/.config/backline/config.toml")
    monkeypatch.chdir(tmp_path)  # the text names the database file: keep it the same on every run
    wb = Workbench.open("empty.db", Config(me="alice"), Clock(NOW))
    try:
        assert run(snap_compare, wb)
    finally:
        wb.close()


def test_hostile_text_is_shown_literally(snap_compare, small_wb):
    with small_wb.replica.transaction() as conn:
        records.upsert_help_requests(conn, [{
            "ref": "HELP-EVIL", "subject": HOSTILE, "body": HOSTILE + "\n" + "A" * 400, "asker": "[b]mallory[/b]",
            "priority": "P1", "status": "new", "created_at": "2026-11-23T08:00:00Z",
            "updated_at": "2026-11-23T08:00:00Z", "product": "Widget",
        }], small_wb.config)

    async def open_it(pilot):
        pilot.app.open_record("help_request", "HELP-EVIL")

    assert run(snap_compare, small_wb, after=open_it)
