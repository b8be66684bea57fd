"""`backline sources check [NAME]` (what each source's mapping finds upstream; reads only) and
`backline sources forget NAME [--yes]` (remove a source's records after saying how many). The
checking and counting live in sync/sources.py; this module asks and prints."""

from __future__ import annotations

import argparse
import sys

from backline_tui.cli.paths import load


def cmd_sources(args: argparse.Namespace) -> int:
    from backline_tui.sync.sources import check_sources, report_lines
    from backline_tui.text import one_line

    db, config = load(args)
    if args.sources_command == "check":
        reports = check_sources(config, args.name)
        for report in reports:
            for line in report_lines(report, config.source(report.source)):
                print(line)
        bad = [(r.source, p) for r in reports for p in r.problems]
        for source, problem in bad:
            print(f"backline: {one_line(source)}: {one_line(problem)}", file=sys.stderr)
        return 1 if bad else 0
    return _forget(args, db, config)


def _forget(args: argparse.Namespace, db, config) -> int:
    from backline_tui.storage import Replica
    from backline_tui.storage import outbox as outbox_store
    from backline_tui.storage import records as record_store
    from backline_tui.sync.sources import forget_summary

    replica = Replica(db)
    try:
        counts = record_store.source_counts(replica.conn, args.name)
        total = sum(n for k, n in counts.items() if k in ("help_request", "case", "bug", "article"))
        if not any(counts.values()):
            print(f"source {args.name}: nothing in {db}")
            return 0
        note = " (it is still in the config: the next sync brings them back)" if any(
            s.name == args.name for s in config.sources) else ""
        question = f"forget {total} records of source {args.name} ({forget_summary(counts)}) in {db}{note}?"
        if not args.yes:
            if not sys.stdin.isatty():
                print(f"backline: {question} Not without --yes (no terminal to ask).", file=sys.stderr)
                return 1
            answer = input(f"{question} [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                print("nothing forgotten")
                return 1
        try:
            with outbox_store.sync_lock(replica.path), replica.transaction() as conn:
                done = record_store.forget_source(conn, config, args.name)
        except outbox_store.SyncBusy as exc:
            print(f"backline: {exc}", file=sys.stderr)
            return 1
        print(f"forgot {forget_summary(done)} of source {args.name}")
        return 0
    finally:
        replica.close()
