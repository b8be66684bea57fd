"""A very long body (1 MB from an upstream ticket) opens quickly as a capped view that says how
much is left out; the replica keeps every character."""

from __future__ import annotations

from textual.containers import VerticalScroll

from backline_tui.app import BacklineApp
from backline_tui.domain.models import Article, HelpRequest
from backline_tui.screens.detail import DetailScreen
from backline_tui.storage import records
from backline_tui.widgets.format import SHOW_MAX
from tests.test_ui_support import screen_text, settle

BODY = ("line of a very long log\n" * 45_000)[:1_000_000]


def _store(wb):
    t = "2026-11-23T08:00:00Z"
    with wb.replica.transaction() as conn:
        records.upsert_articles(conn, [Article(ref="KB-HUGE", title="Huge article", body="## Issue\n\n" + BODY,
                                               created_at=t, updated_at=t).model_dump()])
        records.upsert_help_requests(conn, [HelpRequest(ref="HELP-HUGE", subject="huge log", body=BODY, asker="ana",
                                                        priority="P1", created_at=t, updated_at=t).model_dump()],
                                     wb.config)


async def test_a_one_megabyte_body_is_shown_capped_with_the_rest_counted(wb):
    _store(wb)
    app = BacklineApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_record("help_request", "HELP-HUGE")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        body = app.screen.query_one("#detail-body", VerticalScroll)
        body.scroll_end(animate=False)
        await settle(pilot)
        shown = screen_text(app)
        assert f"{len(BODY) - SHOW_MAX:,} more characters not shown" in shown
        await pilot.press("escape")
        await settle(pilot)
        app.open_record("article", "KB-HUGE")
        await settle(pilot)
        app.screen.query_one("#detail-body", VerticalScroll).scroll_end(animate=False)
        await settle(pilot)
        assert "more characters not shown" in screen_text(app)
    # nothing was cut in the replica
    assert wb.help_request("HELP-HUGE")["body"] == BODY
