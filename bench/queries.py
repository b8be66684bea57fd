"""Pane queries and global search, timed through the Workbench facade the UI calls.

Times are the calling thread's CPU time (time.thread_time: user + system, the page cache
included), which other work on the machine does not inflate; the wall-clock p50/p95 are in the
note of each row.

Each figure is the first page of a pane (PAGE rows, as the workbench shows it) or its row
count, without and with a text filter, and global search. Calls are interleaved round-robin so
that a slow phase of the machine hits every figure alike; the reference is a bare indexed
top-PAGE read of the help queue (docs/architecture.md §7; ~0.2 ms at 1M rows), measured in the same loop.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from common import Result, bench_now, config_path, percentile

PAGE = 100  # what the main screen shows (screens/main.py PAGE)
TEXT = "timeout"  # a common word: it is in ~7% of subjects
SEARCH = ("timeout", "Replication ERR_LOCKED", "HELP-1001")
P95_LIMIT_MS = 10.0


def _workbench(db: Path):
    from backline_tui.clock import Clock, parse_ts
    from backline_tui.config import load_config
    from backline_tui.workbench import Workbench

    return Workbench.open(db, load_config(config_path()), Clock(parse_ts(bench_now())))


def figures(wb) -> dict[str, Callable[[], object]]:
    from backline_tui.workbench import PaneFilter

    text = PaneFilter(text=TEXT)
    out: dict[str, Callable[[], object]] = {}
    for pane in ("help", "stale", "bugs", "kb"):
        out[f"pane {pane}"] = lambda p=pane: wb.pane(p, limit=PAGE)
        out[f"pane {pane} /{TEXT}"] = lambda p=pane: wb.pane(p, text, limit=PAGE)
        out[f"count {pane} (uncached)"] = lambda p=pane: wb.pane_count(p)
        out[f"count {pane} /{TEXT} (uncached)"] = lambda p=pane: wb.pane_count(p, text)
    for q in SEARCH:
        out[f"search “{q}”"] = lambda q=q: wb.search(q)
    return out


def run(db: Path, scale: int, rounds: int = 40, log=print) -> list[Result]:
    wb = _workbench(db)
    conn = wb.replica.conn
    # reference: a top-PAGE read in index order (docs/architecture.md §7; ~0.2 ms at 1M rows)
    ref_sql = (
        "SELECT id, ref, subject, priority, ola_due_at FROM help_requests WHERE status IN ('new','claimed','answered') "
        "ORDER BY (first_response_at IS NOT NULL), ola_due_at, priority, created_at LIMIT ?"
    )
    fns = figures(wb)
    fns[f"reference: indexed top-{PAGE}"] = lambda: conn.execute(ref_sql, (PAGE,)).fetchall()
    times: dict[str, list[float]] = {k: [] for k in fns}
    walls: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():  # warm the page cache once
        fn()
    from backline_tui.storage.panes import forget_counts

    for _ in range(rounds):
        for name, fn in fns.items():
            forget_counts()  # time the counting, not the workbench's memory of it
            c, t = time.thread_time(), time.perf_counter()
            fn()
            walls[name].append((time.perf_counter() - t) * 1000)
            times[name].append((time.thread_time() - c) * 1000)
    wb.close()
    ref = times.pop(f"reference: indexed top-{PAGE}")
    walls.pop(f"reference: indexed top-{PAGE}")
    ref50 = percentile(ref, 50)
    results = []
    for name, ts in times.items():
        p50, p95 = percentile(ts, 50), percentile(ts, 95)
        w50, w95 = percentile(walls[name], 50), percentile(walls[name], 95)
        results.append(Result(
            figure=f"query {name} (p95)", scale=scale, value=round(p95, 3), unit="ms",
            reference=round(ref50, 3), ratio=round(p95 / ref50, 1) if ref50 else None,
            target=f"p95 ≤ {P95_LIMIT_MS:g} ms at 1M", passed=(p95 <= P95_LIMIT_MS) if scale >= 1_000_000 else None,
            note=f"p50 {p50:.2f} ms; wall clock p50 {w50:.2f} / p95 {w95:.2f} ms", samples=[round(t, 3) for t in ts],
        ))
    return results
