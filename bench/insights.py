"""How long the Insights pane takes from mount to its figures on screen, and whether the UI stays
responsive meanwhile (the largest event-loop stall, sampled every 10 ms).

    .venv/bin/backline --db /tmp/d1m.db demo --cases 1000000      # once, ~40 s
    BACKLINE_NOW=<the demo's now> .venv/bin/python bench/insights.py /tmp/d1m.db [--runs 3]

Also times each Insights section computed alone (no UI), and the report command's rendering.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

from textual.app import App, ComposeResult

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.insights.report import render
from backline_tui.widgets.insights import SECTIONS, InsightsPane
from backline_tui.workbench import Workbench


class TimedPane(InsightsPane):
    """The pane, noting when it mounted and when each section reached the screen."""

    def on_mount(self) -> None:  # runs before InsightsPane.on_mount starts the workers
        self.mounted_at = time.perf_counter()
        self.shown: dict[str, float] = {}

    def _arrived(self, gen, section, result) -> None:
        super()._arrived(gen, section, result)
        self.shown[section] = time.perf_counter() - self.mounted_at


class BenchApp(App):
    def __init__(self, wb: Workbench) -> None:
        super().__init__()
        self.wb = wb
        self.done = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield TimedPane(self.wb)

    @property
    def shown(self) -> dict[str, float]:
        return self.query_one(TimedPane).shown

    def on_insights_pane_ready(self, _: InsightsPane.Ready) -> None:
        self.done.set()


async def one_run(wb: Workbench) -> tuple[dict[str, float], float]:
    app = BenchApp(wb)
    stall = 0.0
    async with app.run_test(size=(120, 40)) as pilot:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while not app.done.is_set():
            await asyncio.sleep(0.01)
            now = loop.time()
            stall = max(stall, now - last - 0.01)
            last = now
        await pilot.pause()
        shown = dict(app.shown)
    return shown, stall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    wb = Workbench.open(args.db, Config(me="alice"), Clock())
    cases = wb.replica.scalar("SELECT COUNT(*) FROM cases")
    helps = wb.replica.scalar("SELECT COUNT(*) FROM help_requests")
    print(f"{args.db}: {cases:,} cases, {helps:,} help requests; now = {wb.now():%Y-%m-%d %H:%M} UTC; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    ins = wb.insights()
    w = ins.window()
    for name, fn in (("drivers", lambda: ins.drivers(w)), ("bugs", lambda: ins.bugs()),
                     ("gaps", lambda: ins.gaps(w)), ("team", lambda: ins.team(w))):
        t = time.perf_counter()
        fn()
        print(f"  {name:8s} alone: {time.perf_counter() - t:6.2f} s")
    t = time.perf_counter()
    md = render(ins.snapshot(), "md")
    print(f"  report (md, {len(md.splitlines())} lines): {time.perf_counter() - t:6.2f} s")

    runs = []
    for i in range(args.runs):
        shown, stall = asyncio.run(one_run(wb))
        runs.append(shown)
        order = ", ".join(f"{s} {shown[s]:.2f}s" for s in sorted(shown, key=shown.get))
        print(f"  pane run {i + 1}: all shown after {max(shown.values()):.2f} s ({order}); "
              f"largest event-loop stall {stall * 1000:.0f} ms")
    first = statistics.median(min(r.values()) for r in runs)
    full = statistics.median(max(r.values()) for r in runs)
    print(f"pane, median of {args.runs}: first section on screen {first:.2f} s, every section {full:.2f} s "
          f"(sections: {', '.join(SECTIONS)})")
    wb.close()


if __name__ == "__main__":
    main()
