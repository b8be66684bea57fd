"""Sync against a real Request Tracker 5 on 127.0.0.1: first-sync time and records per second,
no-op sync time, and one incremental change.

    .venv/bin/python bench/sync_rt.py [--help-requests 100] [--cases 60] [--bugs 15] [--articles 100]

Starts a private RT (scripts/rt-server.sh, as the tests do), fills it through rt_client (not
timed), then times `Workbench.sync()` on an empty replica.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backline_tui.clock import Clock  # noqa: E402
from backline_tui.config import Config, SourceConfig  # noqa: E402
from backline_tui.workbench import Workbench  # noqa: E402
from tests.rt_server import RTServer, prepare_template  # noqa: E402


def fill(server: RTServer, n_help: int, n_cases: int, n_bugs: int, n_articles: int) -> None:
    clients = [server.client("alice") for _ in range(4)]
    pool = ThreadPoolExecutor(4)

    def run(fn, n):
        return list(pool.map(lambda i: fn(clients[i % 4], i), range(n)))

    bugs = run(lambda c, i: c.create_ticket("Backline Bugs", f"Bug {i}", f"body {i}", {"Severity": "S2"}), n_bugs)
    cases = run(lambda c, i: c.create_ticket(
        "Backline Cases", f"Case {i}", f"body {i}", {"Severity": "S3", "Customer": f"C{i % 9}"}, status="open",
        extra={"RefersTo": [bugs[i % len(bugs)]]} if bugs and i % 2 == 0 else None), n_cases)
    helps = run(lambda c, i: c.create_ticket(
        "Backline Help", f"Help {i}", f"question {i}", {"HelpPriority": "P2", "Asker": "fl.x",
                                                        **({"LinkedCase": str(cases[i % len(cases)])} if cases else {})}),
        n_help)
    run(lambda c, i: c.correspond(helps[i * 3], f"answer {i}"), len(helps) // 3)
    run(lambda c, i: c.create_article("Backline KB", f"Article {i}", "", f"text {i}",
                                      {"KCSState": "validated", "Flags": json.dumps([])}), n_articles)
    pool.shutdown()
    for c in clients:
        c.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--help-requests", type=int, default=100)
    ap.add_argument("--cases", type=int, default=60)
    ap.add_argument("--bugs", type=int, default=15)
    ap.add_argument("--articles", type=int, default=100)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="backline-sync-bench-"))
    server = RTServer(tmp / "rt", template=prepare_template(tmp / "template"))
    server.start()
    try:
        t = time.perf_counter()
        fill(server, args.help_requests, args.cases, args.bugs, args.articles)
        print(f"filled RT in {time.perf_counter() - t:.1f}s (not part of the figures)")
        os.environ["BACKLINE_BENCH_RT_PW"] = server.alice.password
        config = Config(me="alice", sources=[SourceConfig(name="rt", kind="rt", url=server.url, user="alice",
                                                          password_env="BACKLINE_BENCH_RT_PW")])
        wb = Workbench.open(tmp / "replica.db", config, Clock())
        first = wb.sync()
        noop = wb.sync()
        with server.client("bob") as bob:
            ticket = next(iter(bob.search_tickets("Queue = 'Backline Help'", per_page=1)))
            bob.take(int(ticket["id"]))
        incremental = wb.sync()
        wb.close()
        total = args.help_requests + args.cases + args.bugs + args.articles
        assert first.pulled == total and not first.errors, (first, total)
        print(f"first sync: {first.pulled} records in {first.seconds:.2f}s = {first.pulled / first.seconds:.0f} records/s")
        print(f"no-op sync: {noop.pulled} records in {noop.seconds:.3f}s")
        print(f"one change: {incremental.pulled} record in {incremental.seconds:.3f}s")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
