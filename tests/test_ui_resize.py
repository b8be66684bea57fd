"""The pane follows the terminal's width: after a resize the list is laid out as if the app had
started at the new size (columns fitted again, none cut off at the edge)."""

from __future__ import annotations

from backline_tui.app import BacklineApp
from tests.test_ui_support import screen_text, settle


async def _shown(wb, size: tuple[int, int], resize_to: tuple[int, int] | None = None) -> str:
    app = BacklineApp(wb)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        if resize_to is not None:
            await pilot.resize_terminal(*resize_to)
            await settle(pilot)
        return screen_text(app)


async def test_a_narrower_terminal_lays_the_list_out_again(wb):
    narrow = await _shown(wb, (90, 40))
    wide = await _shown(wb, (130, 40))
    assert wide != narrow  # the width matters to what shows
    assert await _shown(wb, (130, 40), resize_to=(90, 40)) == narrow
