"""`backline status`: who I am, the outbox, the last sync, the panes' counts."""

from __future__ import annotations

import argparse

from backline_tui.cli.paths import workbench


def cmd_status(args: argparse.Namespace) -> int:
    wb = workbench(args)
    st = wb.status()
    print(f"me: {st['me']}")
    print(f"pending ops: {st['unsent']}  in error: {st['errors']}  conflicts: {st['conflicts']}")
    print(f"last successful sync: {st['last_success'] or 'never'}")
    if st["last_failure"]:
        from backline_tui.text import one_line

        print(f"last failed sync: {st['last_failure']}: {one_line(st['last_failure_error'] or '', 300)}")
    for name, n in wb.counts().items():
        print(f"{name}: {n}")
    return 0
