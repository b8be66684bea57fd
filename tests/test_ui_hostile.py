"""Hostile upstream text (docs/architecture.md §8): markup actions, links, unbalanced brackets, escape sequences
and very long lines show as inert literal text in the list, the detail, the palette and
notifications; nothing fires, nothing crashes."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList

from backline_tui.app import BacklineApp
from backline_tui.domain.models import Article, Case, HelpRequest, Message
from backline_tui.screens.detail import DetailScreen
from backline_tui.screens.main import PaneTable
from backline_tui.storage import records
from backline_tui.text import one_line
from tests.test_ui_support import notes, screen_text, settle

SIZE = (120, 40)
CLICK = "[@click=app.quit]x[/]"
LINK = "[link=file:///etc/passwd]y[/link]"
BRACKETS = "x [/ y [INFO] [1/3]"
ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07"
HOSTILE = f"{CLICK} {LINK} {BRACKETS} {ESCAPES} end"
EVIL_REF = "HR-[@click=app.quit]q[/]"


def full(model, fields: dict) -> dict:
    """A record with the interchange model's defaults, exactly as import or sync would write it."""
    return model(**fields).model_dump()


@pytest.fixture
def evil_wb(wb):
    t = "2026-11-23T08:00:00Z"
    with wb.replica.transaction() as conn:
        records.upsert_cases(conn, [full(Case, {
            "ref": "CASE-EVIL", "subject": HOSTILE, "body": HOSTILE, "customer": f"{CLICK} Corp",
            "severity": "S1", "status": "open", "owner": "[b]eve[/b]", "created_at": "2026-11-01T00:00:00Z",
            "updated_at": t, "last_activity_at": "2026-11-01T00:00:00Z", "product": "Widget",
        })])
        records.upsert_help_requests(conn, [
            full(HelpRequest, {"ref": "HELP-EVIL", "subject": "passwd " + HOSTILE, "body": HOSTILE + "\n" + "A" * 5000,
             "asker": f"{LINK}", "priority": "P1", "status": "new", "created_at": t, "updated_at": t,
             "product": "Widget", "case_ref": "CASE-EVIL"}),
            full(HelpRequest, {"ref": EVIL_REF, "subject": "evil ref", "asker": "mallory", "priority": "P1", "status": "new",
             "created_at": t, "updated_at": t, "product": "Widget"}),
        ], wb.config)
        records.upsert_messages(conn, [full(Message, {
            "ref": "MSG-EVIL", "parent_type": "help_request", "parent_ref": "HELP-EVIL", "author": CLICK,
            "body": HOSTILE, "kind": "reply", "created_at": t,
        })])
        records.upsert_articles(conn, [full(Article, {
            "ref": "KB-EVIL", "title": HOSTILE, "state": "not_validated", "created_at": t, "updated_at": t,
            "body": f"## Issue\n\n{HOSTILE}\n\n[click me](file:///etc/passwd) {CLICK}\n",
        })])
    return wb


def assert_inert(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text


async def test_list_shows_hostile_text_literally_and_clicking_it_does_nothing(evil_wb):
    app = BacklineApp(evil_wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        index = [r["ref"] for r in screen.rows].index("HELP-EVIL")
        cells = screen.query_one(PaneTable).get_row_at(index)
        subject = cells[3]
        assert subject.plain == one_line("passwd " + HOSTILE, 120)  # the column cuts it to its width
        for cell in cells:
            assert_inert(cell.plain)
            assert all("link" not in str(span.style) and "@click" not in str(span.style) for span in cell.spans)
            assert not cell.style or "link" not in str(cell.style)
        shown = screen_text(app)
        assert f"passwd {CLICK} [link=file" in shown
        assert_inert(shown)
        # click on the subject cell of that row: a live [@click] would quit the app
        await pilot.click(PaneTable, offset=(40, 2 + index))
        await settle(pilot)
        assert app.is_running and app.return_code is None


async def test_detail_shows_hostile_text_literally(evil_wb):
    app = BacklineApp(evil_wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_record("help_request", "HELP-EVIL")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        shown = screen_text(app)
        for piece in (CLICK, LINK, BRACKETS, "\ufffd]0;pwned\ufffd"):
            assert piece in shown, piece
        assert_inert(shown)
        assert "AAAAAAAAAA" in shown  # the very long line wraps instead of breaking anything
        for y in range(1, 20):
            await pilot.click(offset=(30, y))
        await settle(pilot)
        assert app.is_running and app.return_code is None
        # follow the link to the hostile case, whose owner and customer are markup too
        app.open_record("case", "CASE-EVIL")
        await settle(pilot)
        shown = screen_text(app)
        assert "[b]eve[/b]" in shown and f"{CLICK} Corp" in shown
        assert_inert(shown)


async def test_article_markdown_preview_with_hostile_text(evil_wb):
    app = BacklineApp(evil_wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_record("article", "KB-EVIL")
        await settle(pilot)
        shown = screen_text(app)
        assert "click me" in shown and BRACKETS in shown
        assert_inert(shown)
        for y in range(1, 30):
            await pilot.click(offset=(10, y))
        await settle(pilot)
        assert app.is_running


async def test_palette_hits_are_literal(evil_wb):
    app = BacklineApp(evil_wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"passwd")
        for _ in range(50):
            await pilot.pause(0.05)
            if isinstance(app.screen, CommandPalette) and app.screen.query_one(OptionList).option_count:
                break
        options = app.screen.query_one(OptionList)
        prompts = [options.get_option_at_index(i).prompt for i in range(options.option_count)]
        index = next(i for i, p in enumerate(prompts) if "HELP-EVIL" in str(p))
        hit = prompts[index]
        assert f"passwd {CLICK} {LINK}" in str(hit)
        assert_inert(str(hit))
        shown = screen_text(app)
        assert "HELP-EVIL" in shown and f"passwd {CLICK}" in shown
        await pilot.press(*["down"] * index, "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.ref == "HELP-EVIL"


async def test_notifications_quote_hostile_refs_literally(evil_wb):
    app = BacklineApp(evil_wb)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        index = [r["ref"] for r in screen.rows].index(EVIL_REF)
        screen.query_one(PaneTable).move_cursor(row=index)
        await pilot.pause()
        await pilot.press("c")
        await settle(pilot)
        assert f"claimed {EVIL_REF} · U to undo" in notes(app)
        assert f"claimed {EVIL_REF}" in screen_text(app)
        assert evil_wb.help_request(EVIL_REF)["owner"] == "alice"
        # a refusal that quotes hostile text
        app.say(f"refused: {HOSTILE}")
        await pilot.pause()
        assert app.is_running
        assert_inert(notes(app)[-1])
        assert f"refused: {CLICK}" in screen_text(app)


async def test_outbox_shows_hostile_errors_and_text_literally(wb):
    from backline_tui.screens.outbox import OutboxScreen
    from backline_tui.storage import outbox as OB

    ref = next(r["ref"] for r in wb.pane("help", limit=500) if r["owner"] is None)
    wb.respond(ref, f"reply {HOSTILE}")
    op = next(o for o in wb.outbox() if o["op"] == "respond")
    with wb.replica.transaction() as conn:
        OB.mark(conn, op["id"], "error", "2026-11-23T08:00:00Z", f"upstream said {HOSTILE}")
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen)
        await pilot.press("down")  # the reply (after its claim): its text and error in full below
        await settle(pilot)
        shown = screen_text(app)
        for piece in (CLICK, LINK, BRACKETS, "\ufffd]0;pwned\ufffd"):
            assert piece in shown, piece
        assert_inert(shown)
        for y in range(1, 20):
            await pilot.click(offset=(30, y))
        await settle(pilot)
        assert app.is_running and app.return_code is None
