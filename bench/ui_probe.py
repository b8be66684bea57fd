"""Responsiveness and action latency inside the real app (BacklineApp under run_test, 120×40).

Run as a subprocess by run.py: `python bench/ui_probe.py DB` prints one JSON object.

A heartbeat task sleeps 5 ms at a time on the app's event loop and records how late it wakes:
the longest lateness during a phase is the longest stall the user could have felt (a key press
waits at most that long). Phases: start-up until the help rows show, switching panes, paging towards
the end of the biggest pane (End, then `]` up to MAX_PAGES times), typing a filter, and claiming a request. Action latency is the
time from the `c` key reaching the app (as the terminal driver delivers it) to the claimed row
holding the new owner in the table (drawn at the next refresh).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

HEARTBEAT = 0.005
MAX_PAGES = 30  # `]` pressed at most this often (the pane has no jump-to-last-page key)


class Heartbeat:
    def __init__(self) -> None:
        self.phase = "start"
        self.worst: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    async def _beat(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(HEARTBEAT)
            now = time.perf_counter()
            late = (now - last - HEARTBEAT) * 1000
            if late > self.worst.get(self.phase, 0.0):
                self.worst[self.phase] = late
            last = now

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._beat())

    def stop(self) -> None:
        if self._task:
            self._task.cancel()


async def _until(cond, timeout: float = 60.0, step: float = 0.001) -> float:
    started = time.perf_counter()
    while not cond():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the screen never showed what was expected")
        await asyncio.sleep(step)
    return time.perf_counter() - started


async def probe(db: Path, config_file: Path) -> dict:
    from backline_tui.app import BacklineApp
    from backline_tui.clock import Clock
    from backline_tui.config import load_config
    from backline_tui.workbench import Workbench

    wb = Workbench.open(db, load_config(config_file), Clock())
    app = BacklineApp(wb)
    hb = Heartbeat()
    out: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        hb.start()
        screen = lambda: app.screen  # noqa: E731

        def shows(pane: str) -> bool:
            s = screen()
            return getattr(s, "rows_pane", None) == pane and bool(getattr(s, "rows", None))

        await _until(lambda: shows("help"))
        await _until(lambda: all(v is not None for v in screen().counts.values()))
        await pilot.pause(0.3)

        hb.phase = "switch panes"
        for key, pane in (("2", "stale"), ("3", "bugs"), ("4", "kb"), ("1", "help"), ("2", "stale")):
            await pilot.press(key)
            await _until(lambda p=pane: shows(p))
        await pilot.pause(0.3)

        # the biggest pane at this scale
        counts = {p: n for p, n in screen().counts.items() if p in ("help", "stale", "bugs", "kb") and n is not None}
        biggest = max(counts, key=counts.get) if counts else "help"
        out["biggest_pane"] = biggest
        out["biggest_rows"] = counts.get(biggest)
        hb.phase = "scroll to the end"
        if biggest != "stale":
            await pilot.press({"help": "1", "bugs": "3", "kb": "4"}[biggest])
            await _until(lambda: shows(biggest))
        await _until(lambda: screen().totals.get(biggest) is not None)
        await pilot.press("end")
        pages = 0
        while pages < MAX_PAGES:
            s = screen()
            total = s.totals.get(biggest) or 0
            if s.offsets[biggest] + len(s.rows) >= total:
                break
            before = s.offsets[biggest]
            await pilot.press("right_square_bracket")
            await _until(lambda b=before: screen().offsets[biggest] != b and shows(biggest) and screen().totals.get(biggest) is not None)
            pages += 1
        await pilot.press("end")
        out["pages_turned"] = pages
        await pilot.pause(0.3)

        hb.phase = "filter"
        await pilot.press("1")
        await _until(lambda: shows("help"))
        await pilot.press("slash")
        for ch in "timeout":
            await pilot.press(ch)
            await pilot.pause(0.05)  # a fast typist
        await pilot.press("enter")
        await _until(lambda: screen().filters["help"].text == "timeout" and shows("help")
                     and all("timeout" in (r["subject"] + r["asker"] + r["ref"] + r["product"] + r["component"]).lower()
                             for r in screen().rows))
        await pilot.press("escape")
        await _until(lambda: screen().filters["help"].text is None and shows("help"))
        await pilot.pause(0.5)

        hb.phase = "claim"
        s = screen()
        me = wb.me
        index = next(i for i, r in enumerate(s.rows) if r["owner"] is None and r["status"] == "new")
        ref = s.rows[index]["ref"]
        from backline_tui.screens.main import PaneTable

        s.query_one(PaneTable).move_cursor(row=index)
        await pilot.pause(0.1)
        # the key goes in as the terminal driver would deliver it: Pilot.press would also wait for
        # the whole process to go idle, which is not part of what the user waits for
        from textual import events

        key = events.Key("c", "c")
        key.set_sender(app)
        t = time.perf_counter()
        app._driver.send_message(key)
        await _until(lambda: any(r["ref"] == ref and r["owner"] == me for r in screen().rows))
        out["claim_ms"] = (time.perf_counter() - t) * 1000
        await pilot.pause(0.5)
        hb.stop()
    wb.close()
    out["stall_ms"] = {k: round(v, 1) for k, v in hb.worst.items()}
    return out


def main() -> None:
    db, config_file = Path(sys.argv[1]), Path(sys.argv[2])
    print(json.dumps(asyncio.run(probe(db, config_file))))


if __name__ == "__main__":
    main()
