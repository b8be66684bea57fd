"""Helpers shared by the UI tests (no tests here)."""

from __future__ import annotations

import html
import re

from textual.worker import WorkerCancelled

from backline_tui.app import BacklineApp


async def settle(pilot, rounds: int = 40) -> None:
    """Wait until every worker (page loads, actions, reloads they start) has finished."""
    app = pilot.app
    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # a worker cancelled on purpose (an exclusive reload, an autosave) is done too
            pass
        await pilot.pause()
        if not any(w.is_running or w.state.name == "PENDING" for w in app.workers):
            await pilot.pause()
            return
    busy = [w.name for w in app.workers if w.is_running or w.state.name == "PENDING"]
    raise AssertionError(f"workers still busy after {rounds} rounds: {busy}")


def notes(app: BacklineApp) -> list[str]:
    return [n.message for n in app._notifications]


def screen_text(app: BacklineApp) -> str:
    """What the terminal shows, as plain text (from the SVG screenshot)."""
    svg = app.export_screenshot()
    parts = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(parts)).replace("\xa0", " ")


class FakeEditor:
    """Stands in for $EDITOR (App.suspend cannot run under run_test): records what it was
    given and returns a fixed text, or applies a function to it."""

    def __init__(self, result=None) -> None:
        self.calls: list[str] = []
        self.result = result

    def __call__(self, text: str, suffix: str) -> str | None:
        self.calls.append(text)
        if callable(self.result):
            return self.result(text)
        return self.result
