"""A bulk action over 1,000 marked rows inside the real app (BacklineApp under run_test, 120×40).

`python bench/bulk_probe.py [--cases N]` builds a demo database in a temporary directory, adds
1,000 unclaimed help requests, opens the workbench, shows only the unclaimed (F), marks every row
shown page by page (A, then ]), claims them all (c, y) and prints one JSON object: the longest
event-loop stall from the confirmation to the claimed rows on screen (the heartbeat of
ui_probe.py: a task that sleeps 5 ms and records how late it wakes), the time that took, and
what the replica holds after (one transaction: 1,000 claim ops, every request mine).

Budget: a stall of at most 100 ms (the project's stall limit). Run by hand or from `make bench`
notes; never by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ui_probe import Heartbeat, _until  # noqa: E402

MARKED = 1000
NOW = "2026-11-23T09:00:00Z"


def build(db: Path, cases: int) -> None:
    from backline_tui.clock import parse_ts
    from backline_tui.config import Config
    from backline_tui.domain.models import HelpRequest
    from backline_tui.storage import Replica, records
    from backline_tui.sync.demo import generate

    r = Replica(db)
    generate(r, Config(me="alice"), parse_ts(NOW), cases=cases, seed=1)
    with r.transaction() as conn:
        records.upsert_help_requests(conn, [HelpRequest(
            ref=f"HELP-BULK-{i:04d}", subject=f"Bulk question {i}", asker="fl.bulk", priority="P3",
            created_at="2026-11-23T08:00:00Z", updated_at="2026-11-23T08:00:00Z").model_dump()
            for i in range(MARKED)], Config(me="alice"))
    r.close()


async def probe(db: Path) -> dict:
    from backline_tui.app import BacklineApp
    from backline_tui.clock import Clock, parse_ts
    from backline_tui.config import Config
    from backline_tui.workbench import Workbench

    wb = Workbench.open(db, Config(me="alice"), Clock(parse_ts(NOW)))
    app = BacklineApp(wb)
    hb = Heartbeat()
    out: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        hb.start()
        screen = lambda: app.screen  # noqa: E731
        await _until(lambda: getattr(screen(), "rows_pane", None) == "help" and bool(screen().rows))
        await pilot.press("F")
        await _until(lambda: screen().filters["help"].unclaimed and screen().totals.get("help") is not None)
        hb.phase = "mark"
        while len(screen().marks["help"]) < MARKED:
            s = screen()
            before = s.offsets["help"]
            await pilot.press("A")
            if s.offsets["help"] + len(s.rows) >= (s.totals.get("help") or 0):
                break
            await pilot.press("right_square_bracket")
            await _until(lambda b=before: screen().offsets["help"] != b and bool(screen().rows))
        refs = list(screen().marks["help"])[:MARKED]
        screen().marks["help"] = dict.fromkeys(refs)
        out["marked"] = len(refs)
        await pilot.press("c")
        await _until(lambda: type(screen()).__name__ == "ConfirmScreen")
        await pilot.pause(0.3)
        hb.phase = "bulk claim"
        started = time.perf_counter()
        await pilot.press("y")
        await _until(lambda: any(n.message.startswith(f"claimed {len(refs)} marked rows") for n in app._notifications),
                     timeout=120)
        # the unclaimed-only pane shows what is left once the reload is drawn
        await _until(lambda: not screen().marks["help"] and all(r["owner"] is None for r in screen().rows))
        out["bulk_ms"] = round((time.perf_counter() - started) * 1000, 1)
        await pilot.pause(0.3)
        hb.stop()
    out["stall_ms"] = {k: round(v, 1) for k, v in hb.worst.items()}
    check = Workbench.open(db, Config(me="alice"), Clock(parse_ts(NOW)))
    try:
        out["claim_ops"] = check.replica.scalar("SELECT COUNT(*) FROM outbox WHERE op = 'claim'")
        out["all_mine"] = all(check.help_request(ref)["owner"] == "alice" for ref in refs)
    finally:
        check.close()
    wb.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bulk.db"
        build(db, args.cases)
        result = asyncio.run(probe(db))
    result["cases"] = args.cases
    result["stall_budget_ms"] = 100
    result["within_budget"] = result["stall_ms"].get("bulk claim", 0) <= 100
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
