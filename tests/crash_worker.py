"""A process the crash tests SIGKILL at random moments.

`python -m tests.crash_worker actions DB` works through the help queue (claim, respond, note,
resolve); after each action's transaction commits it prints `ACK <op> <ref>` and flushes, so
the parent knows exactly which actions were acknowledged before the kill.
`python -m tests.crash_worker demo DB N` generates a demo database of N cases.
"""

from __future__ import annotations

import sys

from backline_tui.clock import Clock, parse_ts
from backline_tui.config import Config
from backline_tui.workbench import ActionError, Workbench

NOW = parse_ts("2026-11-23T09:00:00Z")


def ack(*parts: str) -> None:
    sys.stdout.write("ACK " + " ".join(parts) + "\n")
    sys.stdout.flush()


def actions(db: str) -> None:
    wb = Workbench.open(db, Config(me="alice"), Clock(NOW))
    refs = [r["ref"] for r in wb.replica.query("SELECT ref FROM help_requests WHERE status != 'resolved' AND "
                                              "(owner IS NULL OR owner = 'alice') ORDER BY id")]
    for ref in refs:
        hr = wb.help_request(ref)
        if hr["owner"] is None:
            wb.claim(ref)
            ack("claim", ref)
        if not any(m["kind"] == "reply" and m["author"] == "alice" for m in hr["messages"]):
            wb.respond(ref, f"Answer for {ref}")
            ack("respond", ref)
        wb.note("help_request", ref, f"note for {ref}")
        ack("note", ref)
        try:
            wb.resolve(ref)
            ack("resolve", ref)
        except ActionError:
            pass
    print("DONE", flush=True)


def demo(db: str, cases: int) -> None:
    from backline_tui.storage import Replica
    from backline_tui.sync.demo import generate

    generate(Replica(db), Config(me="alice"), NOW, cases=cases, seed=3)
    print("DONE", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "actions":
        actions(sys.argv[2])
    elif mode == "demo":
        demo(sys.argv[2], int(sys.argv[3]))
