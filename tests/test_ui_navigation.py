"""Moving around and finding things: panes and counts, filters, pages, detail links, the command
palette search, help, first run on an empty database, sync."""

from __future__ import annotations


import pytest
from textual.command import CommandPalette
from textual.widgets import Input, OptionList

from backline_tui.app import BacklineApp
from backline_tui.clock import to_ts
from backline_tui.config import SourceConfig
from backline_tui.screens.detail import DetailScreen
from backline_tui.screens.dialogs import ChoiceScreen, HelpScreen
from backline_tui.screens.main import PAGE, MainScreen, PaneTable
from backline_tui.storage import records
from backline_tui.sync.base import Batch, PushResult
from tests.test_ui_support import notes, screen_text, settle

SIZE = (120, 40)


async def test_panes_switch_with_1_to_4_and_show_their_counts(wb):
    counts = wb.counts()
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = screen_text(app).splitlines()[0]
        for label, name in (("1 Help queue", "help"), ("2 Stale cases", "stale"), ("3 Sustaining bugs", "bugs"),
                            ("4 KB review", "kb")):
            assert f"{label} {counts[name]}" in bar
        for key, name in (("2", "stale"), ("3", "bugs"), ("4", "kb"), ("1", "help")):
            await pilot.press(key)
            await settle(pilot)
            screen = app.screen
            assert screen.pane == name
            assert [r["ref"] for r in screen.rows] == [r["ref"] for r in wb.pane(name, limit=PAGE)]
            assert f"1–{counts[name]} of {counts[name]}" in screen_text(app)


async def test_help_rows_show_time_to_breach_red_when_breached(wb):
    rows = wb.pane("help")
    breached = next(r for r in rows if r["breached"])
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PaneTable)
        i = [r["ref"] for r in app.screen.rows].index(breached["ref"])
        cell = table.get_row_at(i)[0]
        assert cell.plain.startswith("-") and "red" in str(cell.style)
        j = next(k for k, r in enumerate(app.screen.rows) if r["breach_seconds"] and r["breach_seconds"] > 1800)
        assert "red" not in str(table.get_row_at(j)[0].style)


async def test_j_k_move_and_enter_opens_the_detail_and_links_are_followed(wb):
    hr = next(r for r in wb.pane("help", limit=500) if r["case_id"])
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        index = [r["ref"] for r in app.screen.rows].index(hr["ref"])
        await pilot.press(*["j"] * index)
        assert app.screen.target()["ref"] == hr["ref"]
        await pilot.press("j", "k")
        assert app.screen.target()["ref"] == hr["ref"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        detail = wb.help_request(hr["ref"])
        shown = screen_text(app)
        assert f"Help request {hr['ref']}" in shown and detail["body"][:60] in shown
        case_ref = detail["case"]["ref"]
        assert case_ref in shown
        # follow the first link: the case
        links = app.screen.query_one("#links", OptionList)
        assert app.screen.links[0] == ("case", case_ref)
        links.focus()
        links.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.kind == "case"
        assert f"Case {case_ref}" in screen_text(app)
        # and back: the case links to the request
        assert ("help_request", hr["ref"]) in app.screen.links
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.kind == "help_request"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_slash_filters_as_you_type_and_esc_clears(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        total = len(app.screen.rows)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"Gadget")
        await settle(pilot)
        rows = app.screen.rows
        assert 0 < len(rows) < total
        assert all("gadget" in (r["subject"] + r["product"] + r["component"]).lower() for r in rows)
        assert "filter: text: “Gadget”" in screen_text(app)
        await pilot.press("enter")
        assert isinstance(app.focused, PaneTable)
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.screen.rows) == total


async def test_filter_that_matches_nothing_says_so(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zzzqqq")
        await settle(pilot)
        assert app.screen.rows == []
        assert "No open help requests match the filter (text: “zzzqqq”)." in screen_text(app)
        # keys that act on a row do nothing when there is none
        await pilot.press("escape", "c")
        await settle(pilot)


async def test_mine_unclaimed_and_product_filters(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert app.screen.rows and all(r["owner"] == "alice" for r in app.screen.rows)
        assert "filter: mine" in screen_text(app)
        await pilot.press("F")
        await settle(pilot)
        assert app.screen.rows and all(r["owner"] is None for r in app.screen.rows)
        assert "filter: unclaimed" in screen_text(app)
        await pilot.press("0", "P")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        products = wb.products()
        app.screen.query_one(OptionList).highlighted = 1 + products.index("Gadget")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.rows and all(r["product"] == "Gadget" for r in app.screen.rows)
        assert len(app.screen.rows) == wb.pane_count("help", wb_filter(product="Gadget"))


def wb_filter(**kw):
    from backline_tui.workbench import PaneFilter

    return PaneFilter(**kw)


@pytest.fixture
def big_queue(wb, now):
    """450 more open help requests: more than two pages."""
    rows = [
        {"ref": f"BIG-{i:04d}", "subject": f"bulk question {i}", "asker": "fe", "priority": "P4", "status": "new",
         "created_at": to_ts(now), "updated_at": to_ts(now), "product": "Bulk"}
        for i in range(450)
    ]
    with wb.replica.transaction() as conn:
        records.upsert_help_requests(conn, rows, wb.config)
    return wb


async def test_long_panes_are_paged(big_queue):
    wb = big_queue
    total = wb.pane_count("help")
    pages = -(-total // PAGE)
    assert pages >= 3
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(app.screen.rows) == PAGE
        assert app.screen.query_one(PaneTable).row_count == PAGE
        assert f"1–{PAGE} of {total:,} · ] next page" in screen_text(app)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert [r["ref"] for r in app.screen.rows] == [r["ref"] for r in wb.pane("help", offset=PAGE, limit=PAGE)]
        assert f"{PAGE + 1}–{2 * PAGE} of {total:,}" in screen_text(app)
        for _ in range(pages - 2):
            await pilot.press("right_square_bracket")
            await settle(pilot)
        assert len(app.screen.rows) == total - (pages - 1) * PAGE
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "this is the last page" in notes(app)
        for _ in range(pages - 1):
            await pilot.press("left_square_bracket")
        await settle(pilot)
        assert f"1–{PAGE} of" in screen_text(app)


@pytest.mark.parametrize("how", ["words", "ref"])
async def test_palette_search_opens_the_record(wb, how):
    bug = wb.pane("bugs")[0]
    word = bug["title"].split()[0]
    query = bug["title"] if how == "words" else bug["ref"].lower()
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*[{" ": "space"}.get(c, c) for c in query])
        for _ in range(50):
            await pilot.pause(0.05)
            if app.screen.query_one(OptionList).option_count:
                break
        options = app.screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        index = next(i for i, p in enumerate(prompts) if bug["ref"] in p)
        assert bug["title"][:40] in prompts[index]
        await pilot.press(*["down"] * index)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert (app.screen.kind, app.screen.ref) == ("bug", bug["ref"])
        assert word in screen_text(app)


async def test_question_mark_lists_every_key(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        # every key is in the help (it scrolls when the terminal is short)
        shown = " ".join(str(w.render()) for w in app.screen.query(".help-column"))
        for words in ("claim", "unclaim", "respond", "document", "offer help", "priority override",
                      "resolution target", "validate", "flag with a reason", "archive", "mark reviewed",
                      "$EDITOR", "sync now", "filter as you type", "mine only"):
            assert words in shown, words
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_footer_shows_the_keys_of_the_pane(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Claim" in footer and "Respond" in footer and "Validate" not in footer
        await pilot.press("4")
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Flag" in footer and "Archive" in footer and "Claim" not in footer  # Validate only if not validated


async def test_first_run_on_an_empty_database_says_what_to_do(empty_wb):
    app = BacklineApp(empty_wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "Nothing here yet" in shown
        assert f"backline --db {empty_wb.replica.path} demo" in shown
        assert "press S to sync" in shown
        await pilot.press("2", "c")
        await settle(pilot)
        assert "the database is empty: run `backline demo` or configure a source" in notes(app)


async def test_status_line_shows_me_pending_ops_and_last_sync(wb):
    wb.claim(next(r["ref"] for r in wb.pane("help") if r["owner"] is None))
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = screen_text(app).splitlines()[-2]
        assert "me: alice · 1 pending op · last sync: never" in status


async def test_sync_without_a_sync_method_says_so(wb):
    wb.sync = None  # a build without sync
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await pilot.pause()
        assert "sync is not configured" in notes(app)


async def test_sync_without_sources_says_how_to_configure_one(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await pilot.pause()
        assert any(n.startswith("sync is not configured: add a [[sources]] entry to ") for n in notes(app))


class ScriptedDesk:
    """An upstream for the real sync engine: one new help request to pull, then someone else's
    claim (a conflict) and a refused note (an error) when our ops are pushed."""

    name = "desk"

    def __init__(self, now: str) -> None:
        self.pushed: list[str] = []
        from backline_tui.domain.models import RECORD_ADAPTER

        self.request = RECORD_ADAPTER.validate_python(  # as a connector hands records over
            {"type": "help_request", "ref": "DESK-1", "subject": "Printer on fire", "asker": "fl.jo",
             "priority": "P2", "source": "desk", "remote_version": "1", "created_at": now,
             "updated_at": now}).model_dump()

    def pull(self, cursors):
        if not cursors.get("help"):
            yield Batch("help", [self.request], "1")

    def push(self, op, *, resend=False):
        self.pushed.append(op["op"])
        if op["op"] == "claim":
            return PushResult("conflict", f"bob claimed {op['record_ref']} first")
        return PushResult("error", "the desk refused it")

    def close(self):
        pass


async def test_sync_reports_progress_conflicts_and_errors(wb, monkeypatch):
    """S runs the real sync engine (a scripted upstream stands in for the server): what it pulled
    shows, a conflict is said in words, and a refused op makes the sync say it failed, in one
    line, never "done" beside it."""
    import backline_tui.sync.engine as engine

    desk = ScriptedDesk(to_ts(wb.now()))
    monkeypatch.setattr(engine, "connector_for", lambda src, config: desk)
    config = wb.config.model_copy(update={"sources": [SourceConfig(name="desk", kind="jsonl", path="unused")]})
    app = BacklineApp(wb.__class__(wb.replica, config, wb.clock))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert "sync done: 0 pushed, 1 pulled" in notes(app)
        assert "DESK-1" in [r["ref"] for r in app.screen.rows]
        app.workbench.claim("DESK-1")
        app.workbench.note("help_request", "DESK-1", "checked the spool")
        app.clear_notifications()
        await pilot.press("S")
        await settle(pilot)
        assert desk.pushed == ["claim", "note"]
        assert "bob claimed DESK-1 first" in notes(app)
        failed = [n for n in app._notifications if n.title == "sync failed"]
        assert len(failed) == 1 and "DESK-1: the desk refused it" in failed[0].message
        assert not [n for n in notes(app) if n.startswith("sync done")]
        assert app.sync_progress == ""


async def test_insights_key_shows_the_insights_pane_and_back(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert app.screen.pane == "insights"
        assert "Top drivers" in screen_text(app)
        await pilot.press("1")
        await settle(pilot)
        assert app.screen.pane == "help" and app.screen.rows


async def test_keys_typed_right_after_slash_land_in_the_filter_not_in_commands(wb):
    """A terminal delivers '/dns' in one read: the letters must not run d (document) etc."""
    from textual import events

    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for ch in "/dns":
            app.post_message(events.Key("slash" if ch == "/" else ch, ch))
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one("#filter", Input).value == "dns"
        assert app.screen.filters["help"].text == "dns"
        assert wb.pending_ops() == 0


@pytest.mark.parametrize("sync_ends", [False, True], ids=["alone", "while-a-sync-ends"])
async def test_text_typed_right_after_r_goes_into_the_reply_not_into_commands(wb, sync_ends):
    from textual.widgets import TextArea

    from backline_tui.screens.compose import ComposeScreen
    from backline_tui.sync.engine import SyncResult

    row = next(r for r in wb.pane("help") if r["owner"] is None)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one(PaneTable).move_cursor(row=[r["ref"] for r in screen.rows].index(row["ref"]))
        await pilot.pause()
        if sync_ends:  # a quiet background sync ends while the reply is on its way: the text stays
            attempt = app.attempt

            async def sync_lands_first(fn, *args):
                app._sync_done(SyncResult(), None, True)
                return await attempt(fn, *args)

            app.attempt = sync_lands_first
        for ch in "rhello":  # e, l and o are commands on the list
            app.post_message(events_key(ch))
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == "hello"
        assert wb.pending_ops() == 0 and app.typeahead is None


def events_key(ch: str):
    from textual import events

    return events.Key(ch, ch)


async def test_keys_are_remapped_by_binding_id(wb):
    row = next(r for r in wb.pane("help") if r["owner"] is None)
    app = BacklineApp(wb, keymap={"claim": "C"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one(PaneTable).move_cursor(row=[r["ref"] for r in screen.rows].index(row["ref"]))
        await pilot.pause()
        assert "C Claim" in screen_text(app).splitlines()[-1]
        await pilot.press("c")
        await settle(pilot)
        assert wb.help_request(row["ref"])["owner"] is None
        await pilot.press("C")
        await settle(pilot)
        assert wb.help_request(row["ref"])["owner"] == "alice"


async def test_sync_key_runs_a_real_sync_with_the_demo_source(wb):
    """S pushes the outbox through the real engine (demo connector) and says what happened."""
    ref = next(r["ref"] for r in wb.pane("help") if r["owner"] is None)
    wb.claim(ref)
    config = wb.config.model_copy(update={"sources": [SourceConfig(name="demo", kind="demo")]})
    synced = wb.__class__(wb.replica, config, wb.clock)
    app = BacklineApp(synced)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "1 pending op" in screen_text(app)
        await pilot.press("S")
        await settle(pilot)
        done = [n for n in notes(app) if n.startswith("sync done")]
        assert done, notes(app)
        assert synced.pending_ops() == 0
        assert "0 pending ops" in screen_text(app) and "last sync: never" not in screen_text(app)


async def test_fast_typing_in_the_filter_reads_the_database_once(wb):
    """Each key does not start its own query: the filter runs when typing pauses."""
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        asked: list[str | None] = []
        real = app.pane_page

        def page(pane, f, offset, limit):
            asked.append(f.text)
            return real(pane, f, offset, limit)

        app.pane_page = page
        await pilot.press("slash", *"Gadget")
        await settle(pilot)
        assert asked == ["Gadget"]
        assert all("gadget" in (r["subject"] + r["product"] + r["component"]).lower() for r in app.screen.rows)


async def test_moving_the_cursor_keeps_the_footer_keys_of_the_record_kind(wb):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = screen_text(app).splitlines()[-1]
        assert "Claim" in before
        for _ in range(5):
            await pilot.press("j")
        await settle(pilot)
        assert screen_text(app).splitlines()[-1] == before
        await pilot.press("4")
        await settle(pilot)
        assert "Flag" in screen_text(app).splitlines()[-1]


async def test_keys_remapped_in_the_config_drive_the_app(demo_db, clock):
    from backline_tui.config import Config
    from backline_tui.workbench import Workbench

    config = Config(me="alice", keys={"claim": "C"})
    wb = Workbench.open(demo_db, config, clock)
    target = next(r for r in wb.pane("help", limit=PAGE) if r["owner"] is None)
    app = BacklineApp(wb)  # the keys of a config given up front apply at once
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = next(i for i, r in enumerate(app.screen.rows) if r["ref"] == target["ref"])
        app.screen.query_one(PaneTable).move_cursor(row=row)
        await pilot.press("c")
        await settle(pilot)
        assert wb.help_request(target["ref"])["owner"] is None  # c no longer claims
        await pilot.press("C")
        await settle(pilot)
        assert wb.help_request(target["ref"])["owner"] == "alice"
    wb.close()


async def test_keys_in_one_burst_act_on_the_row_the_moves_reached(wb):
    """A terminal delivers 'jjjjr' in one read (a fast typist, a paste): r must answer the row
    the four j's moved to, not the row the cursor was on when the burst arrived."""
    from textual import events

    from backline_tui.screens.compose import ComposeScreen

    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rows = app.screen.rows
        assert app.screen.query_one(PaneTable).cursor_row == 0
        n = next(i for i, r in enumerate(rows) if i >= 3 and r["owner"] is None and r["status"] != "resolved")
        for ch in "j" * n + "r":
            app.post_message(events.Key(ch, ch))
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen), notes(app)
        assert f"Reply to {rows[n]['ref']} " in screen_text(app)


async def test_leaving_a_detail_before_its_related_knowledge_arrives_does_not_end_the_app(wb):
    from backline_tui.screens.detail import DetailScreen

    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        # the related articles arrive as the screen is being taken down (escape): its widgets
        # are already gone when the answer lands
        await detail.query_one("#detail-related").remove()
        await detail._load_related()
        await settle(pilot)
        assert app.screen is detail and app.is_running
