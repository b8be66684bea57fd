"""Knowledge in the flow of work from the keyboard, on the hand-made world of
tests/knowledge_world.py: what the screen shows, and what the database holds after each action
(read back through a second Workbench on the same file)."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList, TextArea

from backline_tui.app import BacklineApp
from backline_tui.screens.compose import ArticleComposeScreen
from backline_tui.screens.detail import DetailScreen
from backline_tui.screens.dialogs import ConfirmScreen, PromptScreen
from backline_tui.screens.escalate import EscalateScreen
from backline_tui.screens.picker import PickerScreen
from backline_tui.workbench import Workbench
from tests.knowledge_world import kw  # noqa: F401 (fixture)
from tests.test_ui_support import notes, screen_text, settle

SIZE = (140, 45)


@pytest.fixture
def fresh(kw, config, clock):
    opened = []

    def open_() -> Workbench:
        w = Workbench.open(kw.replica.path, config, clock)
        opened.append(w)
        return w

    yield open_
    for w in opened:
        w.close()


async def keys(pilot, *pressed: str) -> None:
    """Press the keys, then wait for what they started."""
    await pilot.press(*pressed)
    await settle(pilot)


def options(app) -> list[str]:
    ol = app.screen.query_one(OptionList)
    return [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]


async def open_detail(pilot, kind: str, ref: str) -> None:
    await settle(pilot)
    pilot.app.open_record(kind, ref)
    await settle(pilot)
    assert isinstance(pilot.app.screen, DetailScreen)


async def test_related_articles_and_past_answers_appear_in_the_detail(kw):
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "help_request", "HELP-1")
        shown = screen_text(app)
        assert "Related knowledge · L links an article as the answer" in shown
        lines = [ln for ln in shown.splitlines() if ln.lstrip().startswith(("KB-", "HELP-2"))]
        assert lines[0].split()[:3] == ["KB-1", "validated", "0×"]
        assert "Raise search.timeout to 60 s and rebuild the index." in lines[0]
        assert lines[1].split()[:2] == ["KB-2", "wip"]
        assert not any(ln.split()[0] == "KB-3" for ln in lines)  # archived
        assert any("HELP-2" in ln and "alice: Raise search.timeout to 60 s, then rebuild" in ln for ln in lines)


async def test_l_links_a_prelisted_article_bumps_reuse_and_shows_documented_in_then_undo(kw, fresh):
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "help_request", "HELP-1")
        assert "not yet (d drafts an article)" in screen_text(app)
        await keys(pilot, "l")
        assert isinstance(app.screen, PickerScreen)
        assert options(app)[0].startswith("KB-1") and "related to this question" in screen_text(app)
        await keys(pilot, "enter")
        assert isinstance(app.screen, DetailScreen)
        assert "linked KB-1 to HELP-1 (reused 1×) · U to undo" in notes(app)
        db = fresh()
        art = db.article("KB-1")
        assert (art["reuse_count"], art["last_reused_at"]) == (1, "2026-11-23T09:00:00Z")
        assert db.help_request("HELP-1")["article"]["ref"] == "KB-1"
        assert [(o["op"], o["payload"]["article_ref"]) for o in db.outbox()] == [("link_article", "KB-1")]
        assert "Documented in KB-1 (validated) Flux Search: timeout on large indexes" in screen_text(app)

        await keys(pilot, "U")
        await keys(pilot, "y")  # undo names the action and asks first
        db = fresh()
        assert db.article("KB-1")["reuse_count"] == 0 and db.help_request("HELP-1")["article"] is None
        assert [o["op"] for o in db.outbox()] == ["link_article", "unlink_article"]


async def test_ctrl_f_in_the_picker_links_and_flags_the_reused_article(kw, fresh):
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "case", "CASE-1")
        await keys(pilot, "L")
        await keys(pilot, "ctrl+f")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"stale")
        await keys(pilot, "enter")
        db = fresh()
        art = db.article("KB-1")
        assert art["reuse_count"] == 1 and "CASE-1" in [c["ref"] for c in art["cases"]]
        assert [(f["who"], f["reason"]) for f in art["flags"]] == [("alice", "stale")]
        assert [o["op"] for o in db.outbox()] == ["link_article", "flag"]


async def test_d_on_a_covered_question_offers_the_existing_article(kw, fresh):
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "help_request", "HELP-3")
        await keys(pilot, "d")
        assert isinstance(app.screen, PickerScreen)
        assert "Document HELP-3: do these articles already cover it?" in screen_text(app)
        assert options(app)[0] == "→ none of these: draft a new article"
        assert options(app)[1].startswith("KB-4")
        await keys(pilot, "down", "enter")
        db = fresh()
        assert db.help_request("HELP-3")["article"]["ref"] == "KB-4"
        assert db.article("KB-4")["reuse_count"] == 1
        assert db.replica.scalar("SELECT COUNT(*) FROM articles") == 5  # no duplicate drafted


async def test_d_then_go_on_to_draft_and_validate_asks_while_a_placeholder_is_left(kw, fresh):
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "help_request", "HELP-2")
        await keys(pilot, "d")
        await pilot.press("enter")  # none of these: draft
        await settle(pilot)
        assert isinstance(app.screen, ArticleComposeScreen)
        await keys(pilot, "ctrl+s")
        db = fresh()
        ref = db.help_request("HELP-2")["article"]["ref"]
        assert db.article(ref)["reuse_count"] == 0  # its own request is its source, not a reuse
        app.open_record("article", ref)
        await settle(pilot)
        await keys(pilot, "v")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Cause still holds the draft's placeholder." in screen_text(app)
        await keys(pilot, "n")
        assert fresh().article(ref)["state"] == "wip"
        await keys(pilot, "v")
        await keys(pilot, "y")
        assert fresh().article(ref)["state"] == "validated"


async def test_escalate_shows_lookalikes_then_drafts_a_linked_bug_with_one_op(kw, fresh):
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "case", "CASE-1")
        await keys(pilot, "B")
        assert isinstance(app.screen, PickerScreen)
        assert options(app)[0] == "→ none of these: draft a new bug"
        assert options(app)[1].startswith("PROJ-11 ")
        await keys(pilot, "enter")
        assert isinstance(app.screen, EscalateScreen)
        screen = app.screen
        assert app.focused is screen.query_one("#compose-title", Input)
        assert screen.query_one("#compose-title", Input).value == "Flux search timeout for Acme"
        assert [screen.query_one(f"#bug-{f}", Input).value for f in ("product", "component", "severity")] == [
            "Flux", "Search", "S2"]
        body = screen.query_one(TextArea).text
        assert "Customer: Acme (enterprise), case CASE-1 at S2, open" in body and "Escalated from CASE-1" in body
        screen.query_one("#compose-title", Input).value = "Search times out on large indexes at Acme"
        await keys(pilot, "ctrl+s")
        assert isinstance(app.screen, DetailScreen)
        db = fresh()
        bug = db.replica.one("SELECT * FROM bugs WHERE ref LIKE 'NEW-BUG-%'")
        assert (bug["title"], bug["product"], bug["component"], bug["severity"], bug["status"]) == (
            "Search times out on large indexes at Acme", "Flux", "Search", "S2", "open")
        assert [c["ref"] for c in db.bug(bug["ref"])["cases"]] == ["CASE-1"]
        assert [(o["op"], o["record_ref"]) for o in db.outbox()] == [("escalate", bug["ref"])]
        assert any(n.startswith(f"escalated CASE-1: {bug['ref']}") for n in notes(app))
        # at once in the Sustaining bugs pane
        await keys(pilot, "escape")
        await keys(pilot, "3")
        assert bug["ref"] in [r["ref"] for r in app.screen.rows]


async def test_picker_finds_proj_11_and_1383_and_another_product_asks_first(kw, fresh):
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "case", "CASE-1")
        await keys(pilot, "l")
        assert isinstance(app.screen, PickerScreen)
        field = app.screen.query_one(Input)
        field.value = "proj-11"
        await settle(pilot)
        assert [o.split()[0] for o in options(app)] == ["PROJ-11", "PROJ-110"]
        field.value = "1383"
        await settle(pilot)
        assert [o.split()[0] for o in options(app)] == ["PROJ-1383"]
        await keys(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)  # a Widget bug on a Flux case
        assert "PROJ-1383 is a Widget bug and CASE-1 a Flux case." in screen_text(app)
        await keys(pilot, "y")
        assert "CASE-1" in [c["ref"] for c in fresh().bug("PROJ-1383")["cases"]]


async def test_unlink_with_delete_then_undo_restores_the_link(kw, fresh):
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "case", "CASE-1")
        links = app.screen.query_one("#links", OptionList)
        links.focus()
        links.highlighted = [ref for _, ref in app.screen.links].index("PROJ-11")
        await keys(pilot, "delete")
        assert "unlinked CASE-1 from PROJ-11 · U to undo" in notes(app)
        assert fresh().bug("PROJ-11")["cases"] == []
        assert "PROJ-11" not in [ref for _, ref in app.screen.links]
        await keys(pilot, "U")
        await keys(pilot, "y")  # undo names the action and asks first
        assert [c["ref"] for c in fresh().bug("PROJ-11")["cases"]] == ["CASE-1"]
        assert [o["op"] for o in fresh().outbox()] == ["unlink", "link"]


# ---------------------------------------------------------------- hostile text


def assert_inert_text(text) -> None:
    """A rich Text shown by a widget: no control characters, no link or click styles."""
    from rich.text import Text

    assert isinstance(text, Text)
    for bad in ("\x1b", "\x07", "\x9b", "\x9d", "\u202e"):
        assert bad not in text.plain
    for span in text.spans:
        assert "link" not in str(span.style) and "@click" not in str(span.style)


@pytest.fixture
def hostile_wb(tmp_path, config, clock):
    from tests import hostile

    wb = Workbench.open(tmp_path / "hostile.db", config, clock)
    hostile.store(wb.replica, wb.config, hostile.records(big=False))
    yield wb
    wb.close()


async def test_related_list_pickers_and_escalation_draft_keep_hostile_text_inert(hostile_wb):
    from backline_tui.widgets.related import RelatedKnowledge, related_text

    wb = hostile_wb
    related = wb.related("help_request", "HOST-H1")  # HX01: markup with [@click=app.quit]
    assert related["articles"], "the hostile articles share words with the question"
    assert_inert_text(related_text(related))
    app = BacklineApp(wb)
    async with app.run_test(size=SIZE) as pilot:
        for i in (1, 9, 12, 21):  # click markup, OSC title, CSI clear, bidi override
            await open_detail(pilot, "help_request", f"HOST-H{i}")
            panel = app.screen.query_one(RelatedKnowledge)
            assert "looking" not in panel.content.plain
            assert_inert_text(panel.content)
            shown = screen_text(app)
            assert "\x1b" not in shown and "\x07" not in shown
            # the article picker, pre-listed with the related articles, and searched
            await keys(pilot, "L")
            ol = app.screen.query_one(OptionList)
            assert ol.option_count >= 1
            for k in range(ol.option_count):
                assert_inert_text(ol.get_option_at_index(k).prompt)
            app.screen.query_one(Input).value = "HX01 click"
            await settle(pilot)
            for k in range(ol.option_count):
                assert_inert_text(ol.get_option_at_index(k).prompt)
            await keys(pilot, "escape")
            # the escalation draft quotes the hostile case: shown cleaned, nothing fires
            await keys(pilot, "B")
            if isinstance(app.screen, PickerScreen):
                ol = app.screen.query_one(OptionList)
                for k in range(ol.option_count):
                    assert_inert_text(ol.get_option_at_index(k).prompt)
                await keys(pilot, "enter")
            assert isinstance(app.screen, EscalateScreen)
            for field in app.screen.query(Input):
                assert "\x1b" not in field.value and "\x07" not in field.value
            assert "\x1b" not in app.screen.query_one(TextArea).text
            assert "\x1b" not in screen_text(app)
            app.screen.dismiss(None)
            await settle(pilot)
            await keys(pilot, "escape")
        assert app.is_running


async def test_the_reply_editor_inserts_an_article_and_links_it(kw, fresh):
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "help_request", "HELP-1")
        await keys(pilot, "r")
        await keys(pilot, "ctrl+o")
        assert isinstance(app.screen, PickerScreen) and options(app)[0].startswith("KB-1")
        await keys(pilot, "enter")
        await keys(pilot, "down", "enter")  # its Resolution text
        area = app.screen.query_one(TextArea)
        assert area.text == "Raise search.timeout to 60 s and rebuild the index.\n"
        assert "inserted KB-1 into the reply and linked it as the answer" in notes(app)
        assert fresh().help_request("HELP-1")["article"]["ref"] == "KB-1"
        await keys(pilot, "ctrl+o")
        await keys(pilot, "enter")
        await keys(pilot, "enter")  # its reference; already linked: no second link
        assert area.text.endswith("KB-1: Flux Search: timeout on large indexes\n")
        await keys(pilot, "ctrl+s")
        db = fresh()
        assert db.article("KB-1")["reuse_count"] == 1
        assert [o["op"] for o in db.outbox()] == ["link_article", "claim", "respond"]
        assert "Raise search.timeout" in db.help_request("HELP-1")["messages"][-1]["body"]


async def test_a_bugs_detail_explains_its_impact_and_what_an_override_changes(kw, fresh):
    kw.link_case_bug("CASE-1", "PROJ-110")  # one enterprise S2 case: 4 × 3 + 1 customer
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "bug", "PROJ-110")
        shown = screen_text(app)
        assert "Impact        13 = 12 from 1 open case (severity × tier) + 1 distinct customer" in shown
        assert "CASE-1 Acme · enterprise (3) × S2 (4) = 12" in shown
        assert "the bugs pane ranks by impact; priority from impact (P1 ≥ 40, P2 ≥ 15, P3 ≥ 5)" in shown
        await keys(pilot, "p")
        await keys(pilot, "home", "enter")  # P1
        assert fresh().bug("PROJ-110")["priority_override"] == "P1"
        assert "the override P1 (marked *) sets the priority, not the rank" in screen_text(app)


async def test_a_cases_detail_tells_the_whole_story_of_its_customer(kw, fresh):
    from tests import factories as F

    F.load(kw.replica, kw.config, cases=[
        F.case("CASE-2", subject="Acme export fails", customer="Acme", product="Flux", status="open"),
        F.case("CASE-3", subject="Acme login slow", customer="Acme", status="solved", last_activity_at=F.ago(days=10)),
        F.case("CASE-4", subject="Acme old thing", customer="Acme", status="closed", last_activity_at=F.ago(days=400)),
        F.case("CASE-5", subject="Other customer", customer="Globex")],
        help_requests=[F.help_request("HELP-9", subject="Acme export question", case_ref="CASE-2")],
        bugs=[F.bug("PROJ-77", title="Export drops rows", product="Flux")],
        links=[("case_bug", "CASE-2", "PROJ-77")])
    app = BacklineApp(kw)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, "case", "CASE-1")
        links = app.screen.links
        assert ("case", "CASE-2") in links and ("case", "CASE-3") in links  # open, and recent
        assert ("case", "CASE-4") not in links and ("case", "CASE-5") not in links  # old, another customer
        assert ("help_request", "HELP-9") in links and ("bug", "PROJ-77") in links
        assert "2 open cases · 2 other open or recent listed in links · 1 help request about them" in screen_text(app)
        # follow one: enter on the link opens it
        ol = app.screen.query_one("#links", OptionList)
        ol.focus()
        ol.highlighted = links.index(("bug", "PROJ-77"))
        await keys(pilot, "enter")
        assert isinstance(app.screen, DetailScreen) and app.screen.ref == "PROJ-77"
