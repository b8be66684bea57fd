"""`backline status`: who I am, the outbox, the last sync, each source's last success or failure
(and sources no longer configured), the panes' counts."""

from __future__ import annotations

import argparse

from backline_tui.cli.paths import workbench


def cmd_status(args: argparse.Namespace) -> int:
    from backline_tui.text import one_line  # errors quote server answers

    wb = workbench(args)
    st = wb.status()
    print(f"me: {st['me']}")
    print(f"pending ops: {st['pending']}  conflicts: {st['conflicts']}")
    print(f"last sync: {st['last_sync'] or 'never'}")
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
