"""`backline sync [--source NAME]`: push the outbox, then pull, with a progress line."""

from __future__ import annotations

import argparse
import sys
import time

from backline_tui.cli.paths import paths


class ProgressBar:
    """A one-line progress display on stderr, only when it is a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if not self.tty or time.perf_counter() - self.last < 0.1:
            return
        self.last = time.perf_counter()
        if total:
            width = 30
            filled = int(width * done / max(total, 1))
            text = f"  {phase} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        else:
            text = f"  {phase}: {done} records"
        print(f"\r{text:<60}", end="", file=sys.stderr, flush=True)

    def clear(self) -> None:
        if self.tty:
            print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)


def cmd_sync(args: argparse.Namespace) -> int:
    from backline_tui.config import load_config
    from backline_tui.storage import Replica
    from backline_tui.sync.engine import sync_all
    from backline_tui.text import one_line  # sentences quote upstream names and answers

    db, config_path = paths(args)
    config = load_config(config_path)
    source = getattr(args, "source", None)
    if not config.sources and source is None:
        print("backline: no sources configured; add one under [[sources]] in " + str(config_path), file=sys.stderr)
        return 1
    replica = Replica(db)
    bar = ProgressBar()
    try:
        result = sync_all(replica, config, source=source, progress=bar)
    finally:
        bar.clear()
        replica.close()
    # a failed sync prints no summary that reads like success: one line per error, on stderr
    if result.ok:
        print(result.summary() + f" ({result.seconds:.1f}s)")
    for sentence in result.conflicts:
        print(f"  conflict: {one_line(sentence)}")
    for err in result.errors:
        print(f"backline: sync failed: {one_line(err)}", file=sys.stderr)
    return 0 if result.ok else 1
