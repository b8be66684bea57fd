"""`backline retry OP...`: ops the upstream refused go out again at the next sync, whatever
their back-off, also one that failed the same way too often and waits for the user."""

from __future__ import annotations

import argparse

from backline_tui.cli import UserError
from backline_tui.cli.paths import workbench


def cmd_retry(args: argparse.Namespace) -> int:
    wb = workbench(args)
    unknown = [n for n in args.ops if not wb.retry_op(n)]
    for n in args.ops:
        if n not in unknown:
            print(f"op {n} goes out at the next sync")
    if unknown:
        raise UserError(f"no refused op {', '.join(map(str, unknown))} (`backline status` lists them)")
    return 0
