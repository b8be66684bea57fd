"""`backline status`: who I am, the outbox, the last sync, the panes' counts."""

from __future__ import annotations

import argparse

from backline_tui.cli.paths import workbench


def cmd_status(args: argparse.Namespace) -> int:
    wb = workbench(args)
    st = wb.status()
    print(f"me: {st['me']}")
    print(f"pending ops: {st['pending']}  conflicts: {st['conflicts']}")
    print(f"last sync: {st['last_sync'] or 'never'}")
    for name, n in wb.counts().items():
        print(f"{name}: {n}")
    return 0
