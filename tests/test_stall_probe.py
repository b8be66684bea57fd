"""The benchmarks' opt-in stall probe (backline_tui/stall_probe.py): with BACKLINE_STALL_PROBE
set it starts only once the first page is on screen, writes the longest hold of the event loop
to its file and says what held it; without the variable nothing starts."""

from __future__ import annotations

import json
import time

import pytest

from backline_tui import stall_probe
from backline_tui.app import BacklineApp
from tests.test_ui_support import settle


@pytest.fixture
def starts(monkeypatch):
    """What was on screen each time the app asked the probe to start."""
    monkeypatch.setattr(stall_probe, "_probe", None)
    seen: list[int] = []
    real = stall_probe.start

    def start(app) -> None:
        seen.append(len(getattr(app.screen, "rows", None) or []))
        real(app)

    monkeypatch.setattr(stall_probe, "start", start)
    yield seen
    stall_probe.stop()


async def test_the_probe_starts_after_the_first_page_and_records_a_held_loop(wb, tmp_path, monkeypatch, starts):
    out = tmp_path / "stalls.json"
    monkeypatch.setenv(stall_probe.ENV, str(out))
    app = BacklineApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert starts and starts[0] > 0  # rows were on screen when it started
        await pilot.pause(0.1)
        time.sleep(0.25)  # the test runs on the app's loop: this holds it as a slow handler would
        await pilot.pause(0.1)
    probe = stall_probe.stop()
    assert probe is not None and probe.ticks > 5
    report = json.loads(out.read_text())
    assert 240 <= report["worst_ms"] < 1000
    assert report["top"][0]["ms"] == report["worst_ms"]
    # a sleep holds the loop without using a CPU: the loop thread's own time says so
    assert 0 <= report["top"][0]["loop_ran_ms"] < 150 and report["top"][0]["loop_waited_ms"] >= 0
    assert report["worst_ms"] in [x["ms"] for x in report["over_50ms"]]  # kept with its time
    assert report["histogram_ms"]["<500"] >= 1  # the 200–500 ms bucket
    # the watchdog saw what held the loop: this test's own sleep
    loop_stacks = [h["threads"].get("loop", []) for h in report["held"]]
    assert any(any("test_the_probe_starts_after" in f for f in stack) for stack in loop_stacks)


async def test_without_the_variable_nothing_starts(wb, monkeypatch, starts):
    monkeypatch.delenv(stall_probe.ENV, raising=False)
    app = BacklineApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not starts and stall_probe._probe is None
        assert not any(t._name == "stall-probe" for t in app._timers)
