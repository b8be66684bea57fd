"""Every action from the keyboard: the key, what the screen shows after, and what the database
holds after (read back through a fresh Workbench on the same file)."""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from backline_tui.app import BacklineApp
from backline_tui.screens.compose import ComposeScreen
from backline_tui.screens.detail import DetailScreen
from backline_tui.screens.dialogs import ChoiceScreen, ConfirmScreen, PromptScreen
from backline_tui.screens.main import MainScreen, PaneTable
from backline_tui.screens.picker import PickerScreen
from backline_tui.workbench import Workbench
from tests.test_ui_support import FakeEditor, notes, screen_text, settle

SIZE = (120, 40)


@pytest.fixture
def fresh(demo_db, config, clock):
    """Read the database as another process would."""
    opened: list[Workbench] = []

    def open_() -> Workbench:
        w = Workbench.open(demo_db, config, clock)
        opened.append(w)
        return w

    yield open_
    for w in opened:
        w.close()


def first(wb: Workbench, pane: str, pred) -> dict:
    for row in wb.pane(pane, limit=500):
        if pred(row):
            return row
    raise AssertionError(f"no row in {pane} matches")


async def select(pilot, ref: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    index = next(i for i, r in enumerate(screen.rows) if r["ref"] == ref)
    screen.query_one(PaneTable).move_cursor(row=index)
    await pilot.pause()
    assert screen.target()["ref"] == ref


def cell_texts(app: BacklineApp, ref: str) -> list[str]:
    screen = next(s for s in app.screen_stack if isinstance(s, MainScreen))
    table = screen.query_one(PaneTable)
    index = next(i for i, r in enumerate(screen.rows) if r["ref"] == ref)
    return [c.plain for c in table.get_row_at(index)]


async def type_text(pilot, text: str) -> None:
    """Type into the focused field: the first characters as key presses, the rest inserted
    (pressing every key of a long text only makes the test slow)."""
    head, tail = text[:3], text[3:]
    await pilot.press(*[{" ": "space", "\n": "enter"}.get(ch, ch) for ch in head])
    if tail:
        focused = pilot.app.focused
        if isinstance(focused, TextArea):
            focused.insert(tail)
        else:
            assert isinstance(focused, Input)
            focused.insert_text_at_cursor(tail)
        await pilot.pause()


# ---------------------------------------------------------------- help requests


async def test_claim_then_undo(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("c")
        await settle(pilot)
        assert f"claimed {row['ref']} · U to undo" in notes(app)
        assert cell_texts(app, row["ref"])[6] == "alice"
        assert fresh().help_request(row["ref"])["owner"] == "alice"
        assert "1 pending op" in screen_text(app)

        await pilot.press("U")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert f"undone: claim {row['ref']}" in notes(app)
        assert fresh().help_request(row["ref"])["owner"] is None
        assert [o["op"] for o in fresh().outbox()] == []  # the pending claim was taken back


async def test_unclaim_then_ctrl_z(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] == "alice" and r["status"] == "claimed")
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("u")
        await settle(pilot)
        assert fresh().help_request(row["ref"])["owner"] is None
        assert cell_texts(app, row["ref"])[6] == "—"
        await pilot.press("ctrl+z")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert fresh().help_request(row["ref"])["owner"] == "alice"


async def test_claiming_someone_elses_request_is_refused_with_a_notification(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] not in (None, "alice"))
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("c")
        await settle(pilot)
        assert f"{row['ref']} is already claimed by {row['owner']}" in notes(app)
        assert fresh().help_request(row["ref"])["owner"] == row["owner"]
        assert fresh().pending_ops() == 0


async def test_respond_on_someone_elses_request_is_refused_with_a_notification(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] not in (None, "alice"))
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("r")
        await settle(pilot)
        # said before anything is typed (tests/test_ui_trust.py: a refusal after typing keeps the text)
        assert isinstance(app.screen, MainScreen)
        assert any(f"{row['ref']} is claimed by {row['owner']}: a reply would be refused" in n for n in notes(app))
        assert fresh().help_request(row["ref"])["messages"] == wb.help_request(row["ref"])["messages"]
        assert fresh().pending_ops() == 0


async def test_respond_from_the_list(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        shown = screen_text(app)
        assert f"Reply to {row['ref']}" in shown and row["subject"][:30] in shown
        await type_text(pilot, "Restart the agent.")
        await pilot.press("enter")
        await type_text(pilot, "Then resync.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert f"reply sent to {row['ref']} (queued for sync)" in notes(app)
        hr = fresh().help_request(row["ref"])
        assert hr["status"] == "answered" and hr["owner"] == "alice"
        assert hr["messages"][-1]["body"] == "Restart the agent.\nThen resync."
        assert hr["messages"][-1]["kind"] == "reply"
        assert cell_texts(app, row["ref"])[0] == "answered"


async def test_empty_reply_is_not_sent_and_esc_with_text_asks_first(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "there is nothing to send yet" in notes(app)
        assert isinstance(app.screen, ComposeScreen)
        await type_text(pilot, "draft")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == "draft"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert fresh().pending_ops() == 0


async def test_note_on_a_help_request(wb, fresh):
    row = first(wb, "help", lambda r: True)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("n")
        await settle(pilot)
        assert "Internal note on" in screen_text(app)
        await type_text(pilot, "asked eng on chat")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert f"note added to {row['ref']}" in notes(app)
        msgs = fresh().help_request(row["ref"])["messages"]
        assert (msgs[-1]["kind"], msgs[-1]["body"], msgs[-1]["author"]) == ("note", "asked eng on chat", "alice")


async def test_resolve_asks_first(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] == "alice")
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Resolve {row['ref']}?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert fresh().help_request(row["ref"])["status"] != "resolved"
        await pilot.press("x", "y")
        await settle(pilot)
        assert f"resolved {row['ref']}" in notes(app)
        assert fresh().help_request(row["ref"])["status"] == "resolved"
        # a resolved request leaves the queue
        assert row["ref"] not in [r["ref"] for r in app.screen.rows]


async def test_document_from_the_detail_view(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] == "alice" and not r["article_id"])
    wb.respond(row["ref"], "Clear the cache, then restart the service.")
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert "not yet (d drafts an article)" in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        # the articles that already cover the question come first; the first row goes on to draft
        assert isinstance(app.screen, PickerScreen)
        assert "→ none of these: draft a new article" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        body = app.screen.query_one(TextArea).text
        assert body.startswith("## Issue") and "Clear the cache, then restart the service." in body
        assert app.screen.query_one("#compose-title", Input).value == row["subject"]
        area = app.screen.query_one(TextArea)
        area.load_text(body.replace("(to be confirmed)", "A stale cache after upgrade."))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        hr = fresh().help_request(row["ref"])
        art = fresh().article(hr["article"]["ref"])
        assert art["state"] == "wip" and art["title"] == row["subject"]
        assert "A stale cache after upgrade." in art["body"]
        assert f"documented {row['ref']} in {art['ref']} (work in progress article)" in notes(app)
        assert f"Documented in {art['ref']} (wip)" in screen_text(app)
        # documented twice is refused
        await pilot.press("d")
        await settle(pilot)
        assert f"{row['ref']} is already documented in {art['ref']}" in notes(app)


async def test_e_writes_the_reply_in_the_editor(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    editor = FakeEditor("Written in vim.\n")
    app = BacklineApp(wb, editor=editor)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("e")
        await settle(pilot)
        assert editor.calls == [""]
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == "Written in vim.\n"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert fresh().help_request(row["ref"])["messages"][-1]["body"] == "Written in vim.\n"


async def test_ctrl_e_in_compose_continues_in_the_editor_and_a_cancelled_editor_keeps_the_text(wb, fresh):
    row = first(wb, "help", lambda r: r["owner"] is None)
    editor = FakeEditor(lambda text: text + " and more from the editor")
    app = BacklineApp(wb, editor=editor)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, "typed")
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert editor.calls == ["typed"]
        assert app.screen.query_one(TextArea).text == "typed and more from the editor"
        editor.result = None  # the user quit the editor without saving
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert app.screen.query_one(TextArea).text == "typed and more from the editor"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert fresh().help_request(row["ref"])["messages"][-1]["body"] == "typed and more from the editor"


# ---------------------------------------------------------------- cases


async def test_offer_help_on_a_stale_case(wb, fresh):
    row = first(wb, "stale", lambda r: True)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        text = app.screen.query_one(TextArea).text
        assert text == wb.offer_text(row["ref"])
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert f"offered help on {row['ref']}" in notes(app)
        case = fresh().case(row["ref"])
        assert case["offered_by_me"] and case["messages"][-1]["kind"] == "offer"
        assert case["messages"][-1]["body"] == text
        # offering twice asks first: no keeps the one offer, yes sends a second
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"alice already offered help on {row['ref']}" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert [m["kind"] for m in fresh().case(row["ref"])["messages"]].count("offer") == 1
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [m["kind"] for m in fresh().case(row["ref"])["messages"]].count("offer") == 2
        # and the stale list says so (Why)
        stale = next(r for r in fresh().pane("stale", limit=500) if r["ref"] == row["ref"])
        assert "offered by alice" in stale["reasons"]
        assert any(c.startswith("offered") or ", offered" in c for c in cell_texts(app, row["ref"]))


async def test_note_on_a_case_from_the_detail(wb, fresh):
    row = first(wb, "stale", lambda r: True)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "called the owner")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        app.screen.query_one("#detail-body").scroll_end(animate=False)  # the thread ends the text
        await settle(pilot)
        assert "called the owner" in screen_text(app)
        assert fresh().case(row["ref"])["messages"][-1]["body"] == "called the owner"


# ---------------------------------------------------------------- bugs


async def test_bug_priority_override_and_undo(wb, fresh):
    row = first(wb, "bugs", lambda r: r["priority_override"] is None and r["priority"] != "P1")
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("home", "enter")  # P1
        await settle(pilot)
        assert fresh().bug(row["ref"])["priority_override"] == "P1"
        assert cell_texts(app, row["ref"])[0] == "P1*"
        await pilot.press("U")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert fresh().bug(row["ref"])["priority_override"] is None


async def test_bug_target_date(wb, fresh):
    row = first(wb, "bugs", lambda r: True)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = "not a date"
        await pilot.press("enter")
        await settle(pilot)
        assert "not a date: 'not a date' (use YYYY-MM-DD)" in notes(app)
        await pilot.press("t")
        await pilot.pause()
        app.screen.query_one(Input).value = "2027-01-15"
        await pilot.press("enter")
        await settle(pilot)
        assert fresh().bug(row["ref"])["target_at"] == "2027-01-15T00:00:00Z"
        assert cell_texts(app, row["ref"])[3].startswith("2027-01-15")


async def test_link_a_case_to_a_bug(wb, fresh):
    row = first(wb, "bugs", lambda r: True)
    linked = {c["ref"] for c in wb.bug(row["ref"], case_limit=1000)["cases"]}
    case_ref = next(r["ref"] for r in wb.replica.query(
        "SELECT ref FROM cases WHERE status = 'open' AND product = ? ORDER BY id", (row["product"],))
        if r["ref"] not in linked)
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await select(pilot, row["ref"])
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        await type_text(pilot, case_ref.lower())  # any case
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert f"linked {case_ref} to {row['ref']} · U to undo" in notes(app)
        assert case_ref in {c["ref"] for c in fresh().bug(row["ref"], case_limit=1000)["cases"]}
        await pilot.press("l")
        await settle(pilot)
        await type_text(pilot, "NOPE-1")
        await settle(pilot)
        assert "nothing found" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)  # nothing to pick: the picker stays
        await pilot.press("escape")


# ---------------------------------------------------------------- articles


async def test_validate_an_article(wb, fresh):
    wb.replica.conn.execute("UPDATE articles SET state = 'not_validated' WHERE ref = 'KB-1008'")
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await select(pilot, "KB-1008")
        await pilot.press("v")
        await settle(pilot)
        assert "validated KB-1008" in notes(app)
        assert fresh().article("KB-1008")["state"] == "validated"


async def test_flag_with_reason_then_undo(wb, fresh):
    app = BacklineApp(wb)
    before = wb.article("KB-1016")["open_flags"]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await select(pilot, "KB-1016")
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await type_text(pilot, "steps wrong for 3.2")
        await pilot.press("enter")
        await settle(pilot)
        assert "flagged KB-1016 · U to undo" in notes(app)
        art = fresh().article("KB-1016")
        assert art["open_flags"] == before + 1 and art["flags"][-1]["reason"] == "steps wrong for 3.2"
        await pilot.press("U")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert fresh().article("KB-1016")["open_flags"] == before


async def test_archive_asks_first(wb, fresh):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await select(pilot, "KB-1004")
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert fresh().article("KB-1004")["state"] != "archived"
        await pilot.press("a", "y")
        await settle(pilot)
        assert fresh().article("KB-1004")["state"] == "archived"
        assert "KB-1004" not in [r["ref"] for r in app.screen.rows]


async def test_mark_reviewed(wb, fresh, now):
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await select(pilot, "KB-1005")
        await pilot.press("m")
        await settle(pilot)
        art = fresh().article("KB-1005")
        assert art["last_reviewed_at"] == "2026-11-23T09:00:00Z" and art["open_flags"] == 0


async def test_edit_an_article_in_the_editor(wb, fresh):
    editor = FakeEditor(lambda text: text.replace("\n\n", "\n\nUpdated for 3.2.\n\n", 1))
    app = BacklineApp(wb, editor=editor)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await select(pilot, "KB-1021")
        await pilot.press("e")
        await settle(pilot)
        art = fresh().article("KB-1021")
        assert editor.calls[0].startswith(wb.article("KB-1021")["title"])
        assert art["body"].startswith("Updated for 3.2.")
        assert "saved KB-1021" in notes(app)
