"""Issue 14: a workbench a backliner can trust. Each test here failed on the code before its fix:
typed text kept through refusals and quits, undo of the most recent action only, focus never in
a hidden field, insights keys after R, countdowns that tick, and config values only as
bound parameters."""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from backline_tui.app import BacklineApp
from backline_tui.screens.compose import ComposeScreen
from backline_tui.screens.dialogs import ConfirmScreen
from backline_tui.screens.main import MainScreen
from backline_tui.workbench import Workbench
from tests.test_ui_actions import first, fresh, select, type_text  # noqa: F401 — fresh is a fixture
from tests.test_ui_support import notes, screen_text, settle

SIZE = (120, 40)
LONG = "Checked the logs: the handle leak starts after the 3.2 upgrade. Workaround: restart the indexer nightly."


def body_of(app) -> str:
    return app.screen.query_one("#compose-body", TextArea).text


async def start_writing(pilot, ref: str, key: str = "r", text: str = LONG) -> None:
    """Select `ref` in the help queue, press `key` (reply, note) and type `text`."""
    await settle(pilot)
    await select(pilot, ref)
    await pilot.press(key)
    await settle(pilot)
    assert isinstance(pilot.app.screen, ComposeScreen)
    await type_text(pilot, text)


# ---------------------------------------------------------------- 1. typed text is never thrown away


async def test_a_refused_reply_keeps_its_text_with_the_reason_and_sends_as_a_note(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    ref = row["ref"]
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await start_writing(pilot, ref)
        # meanwhile bob takes it upstream (a pull, another process)
        other = fresh()
        with other.replica.transaction() as conn:
            conn.execute("UPDATE help_requests SET owner = 'bob', status = 'claimed' WHERE ref = ?", (ref,))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen), "the refused reply left the screen"
        assert body_of(app) == LONG
        shown = screen_text(app)
        assert f"not sent: {ref} is claimed by bob" in shown
        assert "ctrl+n sends it as an internal note" in shown
        assert fresh().draft("help_request", ref, "respond")["body"] == LONG

        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        msgs = fresh().help_request(ref)["messages"]
        assert msgs[-1]["kind"] == "note" and msgs[-1]["body"] == LONG
        assert fresh().draft("help_request", ref, "respond") is None


async def test_a_reply_that_would_be_refused_is_said_before_the_editor_opens(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] not in (None, "alice"))
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert any(f"{row['ref']} is claimed by {row['owner']}: a reply would be refused; n writes an internal note"
                   in n for n in notes(app))


async def test_quitting_with_a_reply_open_keeps_it_as_a_draft_that_r_reopens(wb, fresh, demo_db, config, clock):
    row = first(wb, "help", lambda r: r["owner"] is None)
    ref = row["ref"]
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await start_writing(pilot, ref)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert fresh().draft("help_request", ref, "respond")["body"] == LONG

    again = Workbench.open(demo_db, config, clock)
    app2 = BacklineApp(again)
    try:
        async with app2.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await select(pilot, ref)
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app2.screen, ComposeScreen)
            assert body_of(app2) == LONG
            assert "your unsent text from" in screen_text(app2)
    finally:
        again.close()


async def test_text_typed_survives_a_crash_of_the_app(wb, fresh):
    """Typing pauses, then the app ends without any clean-up (as a crash would): the text is kept."""
    row = first(wb, "help", lambda r: r["owner"] is None)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await start_writing(pilot, row["ref"], "n")
        await pilot.pause(ComposeScreen.AUTOSAVE_PAUSE + 0.5)
        await settle(pilot)
        app.exit(return_code=1)
    assert fresh().draft("help_request", row["ref"], "note")["body"] == LONG


async def test_an_empty_or_invalid_reply_stays_on_screen(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await start_writing(pilot, row["ref"], "r", "   ")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert body_of(app) == "   "


# ---------------------------------------------------------------- 2. undo: the most recent action only


async def test_undo_after_claim_and_reply_leaves_the_request_mine(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    ref = row["ref"]
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, ref)
        await pilot.press("c")
        await settle(pilot)
        await start_writing(pilot, ref, "r", "on it")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)
        if isinstance(app.screen, ConfirmScreen):
            await pilot.press("y")
            await settle(pilot)
        assert fresh().help_request(ref)["owner"] == "alice"
        assert any("nothing to undo: the last action (reply sent to" in n for n in notes(app))


async def test_undo_names_the_action_first_and_leaves_no_op_pair(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    ref = row["ref"]
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, ref)
        await pilot.press("c")
        await settle(pilot)
        assert fresh().help_request(ref)["owner"] == "alice"
        await pilot.press("U")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Undo claim {ref}?" in screen_text(app)
        assert fresh().help_request(ref)["owner"] == "alice"  # nothing happens before yes
        await pilot.press("y")
        await settle(pilot)
        assert fresh().help_request(ref)["owner"] is None
        assert [o for o in fresh().outbox() if o["record_ref"] == ref] == []
        await pilot.press("U")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)


def test_pending_ops_that_cancel_collapse(wb):
    bug = wb.pane("bugs")[0]
    art = next(r for r in wb.pane("kb", limit=500) if r["state"] != "archived")
    before = bug["priority_override"]
    new = "P1" if before != "P1" else "P2"
    wb.set_bug_priority(bug["ref"], new)
    wb.set_bug_priority(bug["ref"], before)
    wb.flag(art["ref"], "steps are wrong")
    wb.unflag(art["ref"])
    assert wb.outbox() == []
    assert wb.article(art["ref"])["open_flags"] == art["open_flags"]
    # a newer value replaces a pending older one: one op, from the first value to the last
    wb.set_bug_priority(bug["ref"], "P3" if before != "P3" else "P4")
    wb.set_bug_priority(bug["ref"], new)
    ops = wb.outbox()
    assert [(o["op"], o["payload"]["priority"], o["payload"]["before"]) for o in ops] == [("bug_priority", new, before)]


# ---------------------------------------------------------------- 3. focus never in a hidden field


async def test_keys_never_fall_into_a_hidden_filter(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("3", "M", "0", "enter", "escape", "0"):
            await pilot.press(key)
            await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert "text:" not in screen_text(app)
        filt = screen._filter
        assert filt is None or app.focused is not filt
        await pilot.press("3", "j", "q")
        await settle(pilot)
        assert app.return_code == 0  # q quit


# ---------------------------------------------------------------- 4. insights keys after R


async def test_insights_keys_answer_after_recompute(wb):
    from textual.widgets import TabbedContent

    from backline_tui.widgets.insights import InsightsPane

    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        pane = app.screen.query_one(InsightsPane)
        for _ in range(50):
            if pane.ready:
                break
            await pilot.pause(0.05)
        await pilot.press("R")
        await settle(pilot)
        for _ in range(50):
            if pane.ready:
                break
            await pilot.pause(0.05)
        await settle(pilot)
        tabs = app.screen.query_one(TabbedContent)
        before = tabs.active
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert tabs.active != before, "] did nothing after R"


# ---------------------------------------------------------------- 8. config values only as bound parameters


def test_hostile_config_keys_and_values_never_reach_sql_text(demo_db, clock):
    from backline_tui.config import Config

    hostile = {"S1": 8, "S2": 4, "S3": 2, "S4": 1, "it's": 5, "x' THEN 1 END); DROP TABLE bugs; --": 9}
    tiers = {"enterprise": 3, "business": 2, "standard": 1, "o'brien \"corp\"": 4}
    config = Config(me="it's me'; --", impact={"severity_weights": hostile, "tier_weights": tiers},
                    ola={"P1": 31, "P2": 121, "P3": 481, "P4": 1441})
    plain = Workbench.open(demo_db, Config(me="alice"), clock)
    expected = {b["ref"]: b["impact_score"] for b in plain.pane("bugs", limit=500)}
    plain.close()
    w = Workbench.open(demo_db, config, clock)
    try:
        got = {b["ref"]: b["impact_score"] for b in w.pane("bugs", limit=500)}
        assert got == expected  # the extra keys match no severity or tier
        hr = w.pane("help")[0]
        assert w.replica.scalar("SELECT COUNT(*) FROM bugs") > 0
        assert hr["ola_due_at"] > hr["created_at"]
    finally:
        w.close()


# ---------------------------------------------------------------- 5. countdowns tick while idle


async def test_the_ola_countdown_moves_within_61_seconds_with_no_key(wb, clock, monkeypatch):
    from tests.test_ui_actions import cell_texts

    monkeypatch.setattr(MainScreen, "TICK_SECONDS", 0.1)  # real seconds between ticks in this test
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = next(r for r in app.screen.rows if r["breach_seconds"] is not None)
        before = cell_texts(app, row["ref"])[0]
        queries = []
        wb.replica.conn.set_trace_callback(queries.append)
        clock.advance(61)
        await pilot.pause(0.4)
        await settle(pilot)
        wb.replica.conn.set_trace_callback(None)
        after = cell_texts(app, row["ref"])[0]
        assert after != before, f"the OLA cell still reads {before!r} 61 s later"
        assert not [q for q in queries if "FROM help_requests" in q]  # no row read again


# ---------------------------------------------------------------- 6. a failed sync says so, once


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_failed_sync_says_it_failed_in_one_line_and_status_keeps_it_apart(demo_db, tmp_path, monkeypatch):
    from backline_tui.config import load_config
    from tests.test_cli import run
    from tests.test_secrets import _rt_config

    url = f"http://127.0.0.1:{_free_port()}"
    cfg = _rt_config(tmp_path / "c.toml", url)
    monkeypatch.setenv("BACKLINE_SECRET_TEST_PW", "pw")
    w = Workbench.open(demo_db, load_config(cfg))
    app = BacklineApp(w)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("S")
            for _ in range(100):
                await settle(pilot)
                if not app._syncing:
                    break
                await pilot.pause(0.05)
            said = [(n.title, n.message) for n in app._notifications]
            assert len(said) == 1 and said[0][0] == "sync failed", said  # one notification: no "sync done"
            assert said[0][1].count("127.0.0.1") == 1 and "unreachable" in said[0][1], said
            assert "sync failed" in screen_text(app).splitlines()[-2]  # and the status line keeps it
    finally:
        w.close()
    p = run("sync", "--db", str(demo_db), "--config", str(cfg), env={"BACKLINE_SECRET_TEST_PW": "pw"})
    assert p.returncode == 1 and p.stdout.strip() == "" and len(p.stderr.strip().splitlines()) == 1, (p.stdout, p.stderr)
    assert p.stderr.count("127.0.0.1") == 1
    st = run("status", "--db", str(demo_db), "--config", str(cfg), env={"BACKLINE_SECRET_TEST_PW": "pw"})
    assert "last successful sync: never" in st.stdout
    assert "last failed sync: " in st.stdout and "unreachable" in st.stdout


# ---------------------------------------------------------------- 7. search: any order, partial refs, balanced


def test_search_words_in_any_order_partial_refs_and_kinds_balanced(replica, config):
    from backline_tui.storage import search
    from tests import factories as F

    F.load(replica, config, cases=[
        F.case(f"CASE-{500 + i}", subject=f"Flux search timeout at site {i}", body="handles leak after restart")
        for i in range(25)
    ], bugs=[F.bug("PROJ-117", title="Indexer leaks file handles", body="flux search timeout under load")],
        articles=[F.article("KB-1383", title="Tuning the indexer", body="When flux search times out (timeout) ...")])

    def refs(q: str) -> list[str]:
        return [h["ref"] for h in search.search(replica.conn, q, 20)]

    assert set(refs("handles leak")) == set(refs("leak handles")) and "PROJ-117" in refs("leak handles")
    assert "PROJ-117" in refs("handl leak")  # every word a prefix, not only the last
    assert refs("PROJ-11")[0] == "PROJ-117"
    assert refs("proj-117")[0] == "PROJ-117"
    assert refs("1383")[0] == "KB-1383"
    found = refs("flux search timeout")
    assert "PROJ-117" in found[:4] and "KB-1383" in found[:4], found  # not behind 20 cases


# ---------------------------------------------------------------- 9. smaller ones


async def test_in_a_detail_1_to_5_switch_panes_and_q_backs_out(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, MainScreen)
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.screen.pane == "bugs"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.return_code is None  # back, not quit


def test_small_ones_in_the_facade(wb):
    from backline_tui.widgets.format import cells

    # the Why column of a case stale by idle time alone says so
    row = next(r for r in wb.pane("stale", limit=500) if [x for x in r["reasons"] if x.startswith("idle")] == r["reasons"])
    assert "idle past" in cells("stale", row)[6].plain
    # a new draft has not been reused yet
    hr = next(r for r in wb.pane("help", limit=500) if not r.get("article_id"))
    art = wb.document(hr["ref"], "Title", "Body")
    assert art["reuse_count"] == 0
    # refs typed in any case
    case = wb.pane("stale")[0]["ref"]
    bug = wb.pane("bugs")[0]["ref"]
    assert wb.link_case_bug(case.lower(), bug.lower())["ref"] == bug


def test_the_editor_file_ends_with_a_newline(tmp_path, monkeypatch):
    import contextlib
    import sys

    from backline_tui.app import external_editor

    seen = tmp_path / "seen"
    script = tmp_path / "ed.py"
    script.write_text("import sys, pathlib\np = pathlib.Path(sys.argv[1])\nt = p.read_text()\n"
                      f"pathlib.Path({str(seen)!r}).write_text(repr(t))\np.write_text(t + 'more\\n')\n")
    monkeypatch.setenv("VISUAL", f"{sys.executable} {script}")

    class App:
        def suspend(self):
            return contextlib.nullcontext()

    assert external_editor(App(), "line one") == "line one\nmore"
    assert seen.read_text() == repr("line one\n")


def test_a_missing_config_file_or_a_new_database_is_said(tmp_path):
    from tests.test_cli import assert_one_line_error, run

    p = run("status", "--db", str(tmp_path / "x.db"), "--config", str(tmp_path / "typo.toml"))
    assert_one_line_error(p)
    assert "no config file at" in p.stderr and "typo.toml" in p.stderr
    (tmp_path / "c.toml").write_text("", encoding="utf-8")
    p = run("status", "--db", str(tmp_path / "new.db"), "--config", str(tmp_path / "c.toml"))
    assert p.returncode == 0 and "no database at" in p.stderr and "new, empty one" in p.stderr
    p = run("status", "--db", str(tmp_path / "new.db"), "--config", str(tmp_path / "c.toml"))
    assert p.stderr == ""


async def test_a_target_date_in_the_past_is_said(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("ctrl+u")
        await type_text(pilot, "2020-01-01")
        await pilot.press("enter")
        await settle(pilot)
        assert any("already past" in n for n in notes(app)), notes(app)


async def test_the_state_is_checked_before_asking_and_the_footer_leaves_out_what_it_refuses(wb):
    resolved = wb.replica.one("SELECT ref FROM help_requests WHERE status = 'resolved' LIMIT 1")["ref"]
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_record("help_request", resolved)
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Respond" not in footer and "Claim" not in footer and "Resolve" not in footer, footer
        assert "Note" in footer
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert f"{resolved} is already resolved" in notes(app)


# ---------------------------------------------------------------- the outbox view


async def test_the_outbox_shows_what_stopped_and_lets_the_user_act(wb, fresh):
    from textual.widgets import DataTable

    from backline_tui.screens.outbox import OutboxScreen
    from backline_tui.storage import outbox as OB

    free = [r["ref"] for r in wb.pane("help", limit=500) if r["owner"] is None]
    wb.respond(free[0], "first answer")  # claim + respond
    wb.respond(free[1], "second answer")
    ops = wb.outbox()
    refused = next(o for o in ops if o["op"] == "respond" and o["record_ref"] == free[0])
    other = next(o for o in ops if o["op"] == "respond" and o["record_ref"] == free[1])
    with wb.replica.transaction() as conn:
        OB.mark(conn, refused["id"], "error", "2026-11-23T08:00:00Z", "RT refused the reply: ticket is resolved")
        OB.mark(conn, other["id"], "conflict", "2026-11-23T08:00:00Z", "bob answered HELP first")
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = screen_text(app)
        assert "3 pending ops · 1 in error · 1 conflict" in status  # ops in error count as unsent
        assert app.status_attention
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        shown = screen_text(app)
        assert "RT refused the reply: ticket is resolved" in shown and "reply: first answer" in shown
        assert "2 need you" in shown
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=[o["id"] for o in app.screen.ops].index(refused["id"]))
        await pilot.pause()
        await pilot.press("n")  # the refused reply becomes a note
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        op = next(o for o in fresh().unsent_ops() if o["id"] == refused["id"])
        assert op["op"] == "note" and op["state"] == "pending"
        assert fresh().help_request(free[0])["messages"][-1]["kind"] == "note"
        table.move_cursor(row=[o["id"] for o in app.screen.ops].index(other["id"]))
        await pilot.pause()
        await pilot.press("r")
        await settle(pilot)
        assert next(o for o in fresh().unsent_ops() if o["id"] == other["id"])["state"] == "pending"
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert other["id"] not in [o["id"] for o in fresh().unsent_ops()]
        assert all(m["body"] != "second answer" for m in fresh().help_request(free[1])["messages"])


# ---------------------------------------------------------------- take over


async def test_take_over_names_the_owner_first_and_queues_a_reassignment(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] not in (None, "alice"))
    ref, owner = row["ref"], row["owner"]
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, ref)
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Take {ref} over from {owner}?" in screen_text(app)
        assert fresh().help_request(ref)["owner"] == owner
        await pilot.press("y")
        await settle(pilot)
        assert fresh().help_request(ref)["owner"] == "alice"
        ops = [o for o in fresh().outbox() if o["record_ref"] == ref]
        assert [(o["op"], o["payload"]["previous_owner"]) for o in ops] == [("take_over", owner)]


async def test_a_reply_refused_for_its_owner_can_take_over_and_send(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    ref = row["ref"]
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await start_writing(pilot, ref)
        other = fresh()
        with other.replica.transaction() as conn:
            conn.execute("UPDATE help_requests SET owner = 'bob', status = 'claimed' WHERE ref = ?", (ref,))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "ctrl+t = take over and send" in screen_text(app)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        hr = fresh().help_request(ref)
        assert hr["owner"] == "alice" and hr["messages"][-1]["body"] == LONG
        assert [o["op"] for o in fresh().outbox() if o["record_ref"] == ref] == ["take_over", "respond"]


# ---------------------------------------------------------------- navigation over the whole list


async def test_g_G_and_j_go_over_the_whole_list_not_just_the_page(wb, monkeypatch):
    import backline_tui.screens.main as main_mod
    import backline_tui.screens.pane_state as state_mod

    for module in (main_mod, state_mod):  # the screen reads pages, its state moves over them
        monkeypatch.setattr(module, "PAGE", 5)
    every = [r["ref"] for r in wb.pane("stale", limit=500)]
    assert len(every) > 10
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        await pilot.press("G")
        await settle(pilot)
        assert screen.target()["ref"] == every[-1]
        await pilot.press("g")
        await settle(pilot)
        assert screen.target()["ref"] == every[0]
        await pilot.press(*"jjjjj")  # past the page's last row: on to the next page
        await settle(pilot)
        assert screen.target()["ref"] == every[5]
        await pilot.press("k")
        await settle(pilot)
        assert screen.target()["ref"] == every[4]
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert screen.target()["ref"] != every[0]


# ---------------------------------------------------------------- copy and open


async def test_y_copies_the_ref_and_O_opens_the_upstream_page_or_says_there_is_none(wb, tmp_path, monkeypatch):
    import sys

    from backline_tui.config import SourceConfig

    row = wb.pane("help")[0]
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("y")
        await settle(pilot)
        assert app.clipboard == row["ref"]
        assert any(f"copied the ref {row['ref']}" in n for n in notes(app))
        await pilot.press("O")
        await settle(pilot)
        assert any(f"{row['ref']} has no upstream page" in n for n in notes(app))

    # a record from RT: Y copies its page, O opens it in the browser ($BROWSER here)
    with wb.replica.transaction() as conn:
        conn.execute("UPDATE help_requests SET ref = 'RT#4242', source = 'rt' WHERE id = ?", (row["id"],))
    opened = tmp_path / "opened"
    browser = tmp_path / "browser.py"
    browser.write_text(f"import sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    monkeypatch.setenv("BROWSER", f"{sys.executable} {browser} %s")
    import webbrowser

    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read $BROWSER again
    wb.config = wb.config.model_copy(update={"sources": [SourceConfig(name="rt", kind="rt", url="https://rt.example.com/")]})
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, "RT#4242")
        await pilot.press("Y")
        await settle(pilot)
        assert app.clipboard == "https://rt.example.com/Ticket/Display.html?id=4242"
        await pilot.press("O")
        await settle(pilot)
        for _ in range(50):
            if opened.exists():
                break
            await pilot.pause(0.05)
        assert opened.read_text() == "https://rt.example.com/Ticket/Display.html?id=4242"


# ---------------------------------------------------------------- marks and bulk actions


async def test_bulk_claim_over_marked_rows_is_all_or_nothing_with_one_op_each(wb, fresh):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("A")  # mark every row shown: some are someone else's
        await settle(pilot)
        shown = list(screen.rows)
        assert f"{len(shown)} marked" in screen_text(app)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Claim {len(shown)} marked rows?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert any(n.startswith("nothing done: ") for n in notes(app)), notes(app)
        assert fresh().outbox() == []  # nothing at all
        await pilot.press("X", "F")  # clear marks, unclaimed only
        await settle(pilot)
        await pilot.press("A", "c", "y")
        await settle(pilot)
        free = [r["ref"] for r in screen.rows] if screen.rows else []
        w = fresh()
        ops = w.outbox()
        assert len(ops) == len({o["record_ref"] for o in ops}) and {o["op"] for o in ops} == {"claim"}
        assert all(w.help_request(o["record_ref"])["owner"] == "alice" for o in ops)
        assert len(ops) == len([r for r in shown if r["owner"] is None]) and not free


async def test_space_marks_cases_and_l_links_them_all_to_one_bug(wb, fresh):
    bug = wb.pane("bugs")[0]["ref"]
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        cases = [r["ref"] for r in app.screen.rows[:3]]
        await pilot.press("space", "space", "space")
        await settle(pilot)
        assert "3 marked" in screen_text(app)
        await pilot.press("l")
        await settle(pilot)
        await type_text(pilot, bug.lower())
        await pilot.press("enter")
        await settle(pilot)
        assert "Link 3 marked rows?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        ops = fresh().outbox()
        assert sorted(o["record_ref"] for o in ops if o["op"] == "link") == sorted(cases)
        assert "marked" not in screen_text(app).splitlines()[1]  # marks cleared after


def test_a_bulk_action_over_1000_rows_is_one_transaction_with_one_op_each(wb, config):
    from backline_tui.domain.models import HelpRequest
    from backline_tui.storage import records

    with wb.replica.transaction() as conn:
        records.upsert_help_requests(conn, [HelpRequest(
            ref=f"HELP-BULK-{i:04d}", subject=f"Bulk {i}", asker="fl.bulk", priority="P3",
            created_at="2026-11-23T08:00:00Z", updated_at="2026-11-23T08:00:00Z").model_dump()
            for i in range(1000)], config)
    refs = [f"HELP-BULK-{i:04d}" for i in range(1000)]
    owned = next(r["ref"] for r in wb.pane("help", limit=500) if r["owner"] not in (None, "alice"))
    from backline_tui.workbench import ActionError

    with pytest.raises(ActionError, match=f"nothing done: {owned} is already claimed"):
        wb.bulk("claim", refs + [owned])
    assert wb.outbox() == [] and wb.help_request(refs[0])["owner"] is None  # all or nothing
    statements: list[str] = []
    wb.replica.conn.set_trace_callback(statements.append)
    assert wb.bulk("claim", refs) == 1000
    wb.replica.conn.set_trace_callback(None)
    assert sum(s.startswith("BEGIN") for s in statements) == 1 and sum(s == "COMMIT" for s in statements) == 1
    assert wb.replica.scalar("SELECT COUNT(*) FROM outbox WHERE op = 'claim'") == 1000
    assert wb.replica.scalar("SELECT COUNT(DISTINCT record_ref) FROM outbox") == 1000


async def test_columns_use_the_width_there_is(wb):
    for size in ((80, 24), (200, 40)):
        app = BacklineApp(wb)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            lines = screen_text(app).splitlines()
            header = next(x for x in lines if x.lstrip().startswith("OLA"))
            assert "Owner" in header and "Status" in header, (size, header)
            assert "5 Insights" in lines[0], (size, lines[0])
            if size[0] == 200:
                longest = max((r["subject"] for r in app.screen.rows), key=len)
                assert len(longest) > 40 and longest in screen_text(app)


# ---------------------------------------------------------------- sort by column


def test_every_sort_column_of_every_pane_orders_the_rows(wb):
    from dataclasses import replace as _replace

    from backline_tui.workbench import PaneFilter

    keys = {"Pri": "priority", "Ref": "ref", "Subject": "subject", "Asker": "asker", "Product": "product",
            "Owner": "owner", "Status": "status", "Idle": "last_activity_at", "Sev": "severity",
            "Customer": "customer", "Impact": "impact_score", "Cases": "case_count", "Title": "title",
            "Component": "component", "State": "state", "Reuse": "reuse_count", "Review due": "review_due_at"}
    for pane in ("help", "stale", "bugs", "kb"):
        base = PaneFilter()
        every = wb.pane_count(pane, base)
        for label in wb.sort_columns(pane):
            f = _replace(base, sort=label)
            rows = wb.pane(pane, f, 0, 500)
            assert len(rows) == every and wb.pane_count(pane, f) == every, (pane, label)
            values = [r[keys[label]] for r in rows]
            values = [v.casefold() if isinstance(v, str) and label in ("Subject", "Asker", "Customer", "Title") else v
                      for v in values]
            values = [(v is not None, v) for v in values]  # NULLs first, as SQLite sorts them
            descending = label in ("Impact", "Cases", "Reuse")
            assert values == sorted(values, reverse=descending), (pane, label)
            # paging a sorted pane neither repeats nor skips a row
            paged = wb.pane(pane, f, 0, 3) + wb.pane(pane, f, 3, 500)
            assert [r["ref"] for r in paged] == [r["ref"] for r in rows], (pane, label)


async def test_s_cycles_the_sort_and_the_header_says_so(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        shown = screen_text(app)
        assert "sorted by Pri" in shown and " Pr▾ " in shown  # the column header is marked
        await pilot.press("s")
        await settle(pilot)
        assert "sorted by Ref" in screen_text(app)
        refs = [r["ref"] for r in app.screen.rows]
        assert refs == sorted(refs)


async def test_an_unsaved_article_comes_back_on_d(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None and not r.get("article_id"))
    wb.save_draft("help_request", row["ref"], "document", "Issue: kept\n", "Kept title", "the app was closed")
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert body_of(app) == "Issue: kept\n" and app.screen.title_text == "Kept title"
