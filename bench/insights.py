"""How long the Insights pane takes from mount to its figures on screen, and whether the UI stays
responsive meanwhile (the largest event-loop stall, sampled every 10 ms).

    .venv/bin/python bench/run.py --only insights           # the `insights` group, from bench/run.py
    .venv/bin/backline --db /tmp/d1m.db demo --cases 1000000      # or by hand: once, ~60 s
    BACKLINE_NOW=<the demo's now> .venv/bin/python bench/insights.py /tmp/d1m.db [--runs 3]

Also times each Insights section computed alone (no UI), and the report command's rendering.
The group (run()) measures the pane in a fresh process per run (a first open, as a user gets it)
and `backline report` as a whole command.
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


FIRST_LIMIT_MS, ALL_LIMIT_MS, STALL_LIMIT_MS, REPORT_LIMIT_MS = 100.0, 1000.0, 100.0, 1000.0


def run(db: Path, scale: int, runs: int = 3, log=print) -> list:
    """The `insights` group: each run a fresh process opens the pane once (first section, every
    section, the longest stall while it loads); then `backline report` timed as a whole command."""
    import json
    import subprocess

    from common import BACKLINE, PY, Result, bench_env, config_path, limit_check, median

    first, full, stalls = [], [], []
    for _ in range(runs):
        proc = subprocess.run([PY, __file__, str(db), "--runs", "1", "--json"], env=bench_env(),
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            return [Result("insights (failed)", scale, None, "", "—", False, note=tail[:200])]
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        first.append(data["first_ms"])
        full.append(data["all_ms"])
        stalls.append(data["stall_ms"])
    reports = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([BACKLINE, "--db", str(db), "--config", str(config_path()), "report"], env=bench_env(),
                       check=True, stdout=subprocess.DEVNULL, timeout=900)
        reports.append((time.perf_counter() - t) * 1000)
    note = f"median of {runs} runs, each a fresh process"
    out = []
    for figure, vals, limit in (("insights: first section on screen", first, FIRST_LIMIT_MS),
                                ("insights: every section on screen", full, ALL_LIMIT_MS),
                                ("insights: longest stall while loading", stalls, STALL_LIMIT_MS),
                                ("insights: `backline report` (whole command)", reports, REPORT_LIMIT_MS)):
        m = round(median(vals), 1)
        out.append(Result(figure, scale, m, "ms", f"≤ {limit:g} ms", limit_check(m, limit), note=note,
                          samples=[round(v, 1) for v in vals]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="one pane run, its figures as a JSON line (for run())")
    args = ap.parse_args()
    if args.json:
        import json

        wb = Workbench.open(args.db, Config(me="alice"), Clock())
        shown, stall = asyncio.run(one_run(wb))
        wb.close()
        print(json.dumps({"first_ms": min(shown.values()) * 1000, "all_ms": max(shown.values()) * 1000,
                          "stall_ms": stall * 1000}))
        return
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
