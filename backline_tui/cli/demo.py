"""`backline demo`: fill the database with deterministic demo data."""

from __future__ import annotations

import argparse
import sys

from backline_tui.cli import UserError
from backline_tui.cli.paths import load


def cmd_demo(args: argparse.Namespace) -> int:
    import time

    from backline_tui.clock import Clock
    from backline_tui.storage import Replica
    from backline_tui.sync.demo import generate, wipe_records

    if args.cases < 0:
        raise UserError("--cases must be zero or more")
    db, config = load(args)
    replica = Replica(db)
    has_data = replica.scalar("SELECT EXISTS(SELECT 1 FROM cases) OR EXISTS(SELECT 1 FROM help_requests)")
    if has_data and not args.replace:
        raise UserError(f"{db} already holds records; use --replace to wipe them, or --db for another file")
    if has_data:
        wipe_records(replica)
    started = time.perf_counter()
    last = [0.0]

    def progress(what: str, done: int, total: int) -> None:
        if sys.stderr.isatty() and time.perf_counter() - last[0] > 0.2:
            last[0] = time.perf_counter()
            print(f"\r  {what}: {done:,}/{total:,}   ", end="", file=sys.stderr, flush=True)

    stats = generate(replica, config, Clock().now(), cases=args.cases, seed=args.seed, progress=progress)
    if sys.stderr.isatty():
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr)
    print(
        f"demo: {stats.cases:,} cases, {stats.help_requests:,} help requests, {stats.bugs:,} bugs, "
        f"{stats.articles:,} articles, {stats.messages:,} messages in {time.perf_counter() - started:.1f}s → {db}"
    )
    replica.close()
    return 0
