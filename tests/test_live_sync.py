"""The live workbench against a real RT (tests/rt_server.py): it syncs in the background on the
config's interval without a key press, rows update in place keeping the cursor and the filter,
a new P1 help request rings the bell and toasts exactly once, and the status line says how fresh
the replica is (or since when it is offline)."""

from __future__ import annotations

import os
import socket

import pytest

from backline_tui.app import BacklineApp
from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig, SyncConfig
from backline_tui.live import LiveState
from backline_tui.workbench import Workbench
from tests.fault_proxy import FaultProxy
from tests.jira_helpers import jira_source
from tests.rt_server import RTServer
from tests.test_ui_support import notes, settle

pytest_plugins = ["tests.rt_server"]
pytestmark = pytest.mark.rt
PW = "BACKLINE_TEST_RT_LIVE"


class CountingApp(BacklineApp):
    bells = 0

    def bell(self) -> None:
        self.bells += 1


def _live_workbench(tmp_path, server: RTServer, url: str) -> Workbench:
    """Three older P3 questions in RT, synced into a new replica over `url` (RT, or a proxy)."""
    os.environ[PW] = RTServer.alice.password
    config = Config(me="alice", sync=SyncConfig(interval=1),
                    sources=[SourceConfig(name="rt", kind="rt", url=url, user="alice", password_env=PW)])
    with server.client("alice") as c:
        for i in range(3):
            c.create_ticket("Backline Help", f"Older question {i}", "body", {"HelpPriority": "P3", "Asker": "fl.x"})
    wb = Workbench.open(tmp_path / "r.db", config, Clock())
    assert wb.sync().pulled == 3
    return wb


@pytest.fixture
def live(tmp_path, rt_server_factory):
    server = rt_server_factory()
    wb = _live_workbench(tmp_path, server, server.url)
    yield server, wb
    wb.close()


@pytest.fixture
def proxied(tmp_path, rt_server_factory):
    """The live workbench with tests/fault_proxy.py between it and RT."""
    server = rt_server_factory()
    proxy = FaultProxy(server.url)
    wb = _live_workbench(tmp_path, server, proxy.url)
    yield proxy, wb
    wb.close()
    proxy.stop()


async def _until(pilot, check, seconds: float = 40.0) -> None:
    for _ in range(int(seconds / 0.2)):
        await pilot.pause(0.2)
        if check():
            return
    raise AssertionError("not within the time")


async def test_background_sync_brings_a_new_p1_keeps_cursor_and_filter_and_announces_it_once(live):
    server, wb = live
    app = CountingApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"question", "enter")  # a filter every request matches
        await settle(pilot)
        await pilot.press("j")  # the cursor on the second row
        await settle(pilot)
        before = app.screen.cursor_ref.get("help") or app.screen._current_ref()
        assert before is not None
        with server.client("bob") as bob:
            tid = bob.create_ticket("Backline Help", "Urgent question: cluster down", "now",
                                    {"HelpPriority": "P1", "Asker": "fl.y"})
        ref = f"RT#{tid}"
        # no key pressed: the interval's sync brings it, and the rows update in place
        await _until(pilot, lambda: ref in [r["ref"] for r in app.screen.rows])
        await settle(pilot)
        assert app.screen._current_ref() == before  # the cursor stays on its record
        assert app.screen.query_one("#filter").value == "question"  # and the filter stays
        urgent = [n for n in notes(app) if ref in n]
        assert len(urgent) == 1 and "P1" in urgent[0] and app.bells == 1
        # more background syncs: nothing is announced twice
        synced = wb.replica.scalar("SELECT COUNT(*) FROM sync_log")
        await _until(pilot, lambda: wb.replica.scalar("SELECT COUNT(*) FROM sync_log") >= synced + 2)
        await settle(pilot)
        assert len([n for n in notes(app) if ref in n]) == 1 and app.bells == 1
        assert "synced" in app.status_text and "s ago" in app.status_text


async def test_an_unreachable_rt_is_offline_calmly_and_the_replica_still_works(live):
    server, wb = live
    app = CountingApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        server.stop()
        await _until(pilot, lambda: "offline since" in app.status_text)
        offline = [n for n in notes(app) if "unreachable" in n]
        synced = wb.replica.scalar("SELECT COUNT(*) FROM sync_log")
        await _until(pilot, lambda: wb.replica.scalar("SELECT COUNT(*) FROM sync_log") >= synced + 2)
        await settle(pilot)
        assert len([n for n in notes(app) if "unreachable" in n]) == len(offline) == 1  # said once
        assert len(app.screen.rows) == 3  # the replica still shows its rows


async def test_an_rt_that_still_answers_429_after_the_retries_is_busy_not_offline_and_said_once(proxied):
    proxy, wb = proxied
    app = CountingApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _until(pilot, lambda: "synced" in app.status_text)
        proxy.fail(lambda m, p: True, status=429, headers={"Retry-After": "0"})
        await _until(pilot, lambda: "upstream busy since" in app.status_text)
        assert "offline" not in app.status_text  # RT answered: it asks to wait, it is not gone
        busy = [n for n in app._notifications if "rate limited" in n.message]
        assert [n.title for n in busy] == ["upstream busy: working from the replica"]
        synced = wb.replica.scalar("SELECT COUNT(*) FROM sync_log")
        await _until(pilot, lambda: wb.replica.scalar("SELECT COUNT(*) FROM sync_log") >= synced + 2)
        await settle(pilot)
        assert len([n for n in notes(app) if "rate limited" in n]) == 1  # said once, when it began
        assert "upstream busy since" in app.status_text and len(app.screen.rows) == 3
        proxy.clear()  # RT takes requests again: the next sync is fresh
        await _until(pilot, lambda: "synced" in app.status_text and "busy" not in app.status_text)


def test_freshness_says_offline_or_busy_since_it_began_and_a_sync_that_reaches_upstream_clears_it():
    live = LiveState()
    assert live.freshness() is None and not live.held_off
    assert live.synced(offline=False) is False and live.freshness() == "synced 0 s ago"
    assert live.synced(offline=False, busy=True) is True  # began: said once
    assert live.synced(offline=False, busy=True) is False and live.held_off
    assert live.freshness().startswith("upstream busy since ")
    assert live.synced(offline=True) is True and live.freshness().startswith("offline since ")
    assert live.synced(offline=False) is False and live.freshness() == "synced 0 s ago" and not live.held_off


def test_news_is_each_record_once_and_the_first_look_only_takes_note():
    live = LiveState()
    assert live.news([{"ref": "A", "breaching": 0}]) == []  # there before: not news
    b = {"ref": "B", "breaching": 0}
    assert live.news([{"ref": "A", "breaching": 0}, b]) == [b]  # new
    a = {"ref": "A", "breaching": 1}
    assert live.news([a, b]) == [a]  # newly breaching
    assert live.news([a, {"ref": "B", "breaching": 1}]) == []  # B was announced already


@pytest.mark.jira
def test_an_upstream_not_reached_is_told_apart_from_one_that_refused(tmp_path, rt_server_factory):
    """What makes the live workbench say 'offline': a source not reached at all (here a Jira
    with nothing listening), not one that answered with a refusal (RT refusing a password)."""
    server = rt_server_factory()
    os.environ[PW] = "not alice's password"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{s.getsockname()[1]}"
    config = Config(me="alice", sources=[SourceConfig(name="rt", kind="rt", url=server.url, user="alice", password_env=PW),
                                         jira_source(nobody)])
    wb = Workbench.open(tmp_path / "r.db", config, Clock())
    try:
        result = wb.sync()
    finally:
        wb.close()
    assert [e.split(":")[0] for e in result.errors] == ["rt", "eng"]
    assert result.unreachable == [result.errors[1]]


async def test_a_record_open_in_detail_updates_when_a_sync_changes_it_and_says_what_changed(live):
    server, wb = live
    app = CountingApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        ref = app.screen._current_ref()
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert detail.ref == ref and detail.updated_note is None
        synced = wb.replica.scalar("SELECT COUNT(*) FROM sync_log")
        await _until(pilot, lambda: wb.replica.scalar("SELECT COUNT(*) FROM sync_log") >= synced + 1)
        await settle(pilot)
        assert detail.updated_note is None  # a sync that changed nothing says nothing
        with server.client("bob") as bob:
            tid = int(ref.split("#")[1])
            bob.correspond(tid, "Have you tried the other cable?")
            bob.update_ticket(tid, {"Status": "stalled"})
        await _until(pilot, lambda: detail.updated_note is not None)
        await settle(pilot)
        assert app.screen is detail  # still on the record, not thrown back to the list
        assert "status" in detail.updated_note and "1 new message" in detail.updated_note
        facts = str(detail.query_one("#detail-facts").render())
        assert "Updated" in facts and "by sync at" in facts
        thread = str(detail.query_one("#detail-thread").render())
        assert "other cable" in thread
        assert len([n for n in notes(app) if "updated by sync" in n]) == 1
