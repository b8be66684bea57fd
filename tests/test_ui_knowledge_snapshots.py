"""What knowledge work looks like, on the hand-made world of tests/knowledge_world.py (120×40,
UTC): a request with its related knowledge, the article picker, the escalation form, a bug's
impact explained. Regenerate with `--snapshot-update`, then look at the SVGs."""

from __future__ import annotations

from backline_tui.app import BacklineApp
from tests.knowledge_world import kw  # noqa: F401 (fixture)
from tests.test_ui_snapshots import utc  # noqa: F401 (autouse fixture: times in UTC)
from tests.test_ui_support import settle

SIZE = (120, 40)


def shot(snap_compare, wb, kind: str, ref: str, *keys: str) -> bool:
    async def before(pilot):
        await settle(pilot)
        pilot.app.open_record(kind, ref)
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    return snap_compare(BacklineApp(wb), terminal_size=SIZE, run_before=before)


def test_request_with_related_knowledge(snap_compare, kw):
    assert shot(snap_compare, kw, "help_request", "HELP-1")


def test_article_picker(snap_compare, kw):
    assert shot(snap_compare, kw, "help_request", "HELP-1", "l")


def test_escalation_form(snap_compare, kw):
    assert shot(snap_compare, kw, "case", "CASE-1", "B", "enter")


def test_bug_impact_explained(snap_compare, kw):
    assert shot(snap_compare, kw, "bug", "PROJ-11")
