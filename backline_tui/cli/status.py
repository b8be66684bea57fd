"""`backline status`: who I am, the outbox (with each op the upstream refused: when it is tried
again, or that it waits for `backline retry`), the last sync, each source's last success or
failure (and sources no longer configured), the panes' counts."""

from __future__ import annotations

import argparse

from backline_tui.cli.paths import workbench
from backline_tui.text import one_line


def cmd_status(args: argparse.Namespace) -> int:
    wb = workbench(args)
    st = wb.status()
    print(f"me: {st['me']}")
    print(f"pending ops: {st['unsent']}  in error: {st['in_error']}  conflicts: {st['conflicts']}")
    for op in st["errors"]:
        then = (f"waits for you: backline retry {op['id']}" if op["next_attempt_at"] is None
                else f"next attempt {op['next_attempt_at']}")
        print(one_line(f"refused op {op['id']}: {op['op']} on {op['record_ref']}, {op['failures']}× in a row: "
                       f"{op['last_error']}", 200) + f" ({then})")
    print(f"last successful sync: {st['last_success'] or 'never'}")
    if st["last_failure"]:
        print(f"last failed sync: {st['last_failure']}: {one_line(st['last_failure_error'] or '', 300)}")
    for name, state in st["source_status"].items():
        if state["error"]:
            print(f"source {name}: failed at {state['failed_at']}: {one_line(state['error'])}"
                  + (f" (last ok {state['ok_at']})" if state["ok_at"] else ""))
        else:
            print(f"source {name}: " + (f"ok at {state['ok_at']}" if state["ok_at"] else "never synced"))
    for name in st["unconfigured_sources"]:
        print(f"source {one_line(name)}: not in the config; its records stay until `backline sources forget {one_line(name)}`")
    for name, n in wb.counts().items():
        print(f"{name}: {n}")
    return 0
