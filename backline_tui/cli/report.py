"""`backline report [--format md|csv] [--since DATE]`: insights for people who never open the
workbench."""

from __future__ import annotations

import argparse
import sys

from backline_tui.cli.paths import load


#: sections computed side by side (one SQLite connection each). One: read from the rollups, each
#: takes tens of ms, and a second thread (its own connection and schema, the GIL) cost more than
#: it saved (at 1M cases, alternated runs: 0.45 s one, 0.53 s two, medians of four)
REPORT_WORKERS = 1


def cmd_report(args: argparse.Namespace) -> int:
    from backline_tui.clock import Clock
    from backline_tui.insights.report import render
    from backline_tui.storage.replica import StorageError
    from backline_tui.workbench import ActionError, Workbench

    db, config = load(args)
    if not db.exists():
        raise StorageError(f"no database at {db}: run 'backline sync' or 'backline demo' first")
    wb = Workbench.open(db, config, Clock())
    try:
        try:
            snapshot = wb.insights().snapshot(getattr(args, "since", None), workers=REPORT_WORKERS)
        except ValueError as exc:
            raise ActionError(str(exc)) from None
        sys.stdout.write(render(snapshot, getattr(args, "format", None) or "md"))
        sys.stdout.flush()
    finally:
        wb.close()
    return 0
