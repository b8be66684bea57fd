"""The `backline` command. User errors end with one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Callable

from backline_tui import __version__

EXIT_USER = 1      # bad input, refused action, missing file
EXIT_INTERNAL = 70  # a bug of ours (EX_SOFTWARE)


class UserError(Exception):
    """Anything a user can fix; printed as one line."""


def _common(p: argparse.ArgumentParser, top: bool = False) -> None:
    # on subcommands SUPPRESS keeps a value given before the subcommand from being reset
    default = None if top else argparse.SUPPRESS
    p.add_argument("--db", metavar="PATH", default=default,
                   help="database file (env BACKLINE_DB; default: the user data dir)")
    p.add_argument("--config", metavar="PATH", default=default,
                   help="config file (env BACKLINE_CONFIG; default: the user config dir)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backline",
        description="Backline: a keyboard-driven workbench for backline support engineers.",
    )
    parser.add_argument("--version", action="version", version=f"backline {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="fill the database with deterministic demo data")
    _common(p)
    p.add_argument("--cases", type=int, default=2000, help="number of cases (default 2000; help requests, bugs and articles follow)")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed and time, same data)")
    p.add_argument("--replace", action="store_true", help="wipe the records already in the database first")

    p = sub.add_parser("import", help="import a JSONL interchange file (all or nothing)")
    _common(p)
    p.add_argument("file", help="JSONL file, or - for standard input")

    p = sub.add_parser("export", help="write the replica as JSONL")
    _common(p)
    p.add_argument("file", nargs="?", default="-", help="output file (default: standard output)")

    p = sub.add_parser("sync", help="push the outbox, then pull every configured source")
    _common(p)
    p.add_argument("--source", help="only this source")

    p = sub.add_parser("schema", help="print the JSON Schema of the interchange format")
    _common(p)

    p = sub.add_parser("report", help="print insights for people who never open the workbench")
    _common(p)
    p.add_argument("--format", choices=("md", "csv"), default="md")
    p.add_argument("--since", help="start date YYYY-MM-DD (default: 26 weeks ago)")

    p = sub.add_parser("status", help="who I am, pending outbox ops, last sync")
    _common(p)

    p = sub.add_parser("keys", help="every binding id and its key (as remapped in the config's [keys])")
    _common(p)
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    return parser


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    from backline_tui.config_file import default_config_path, default_db_path

    db = Path(args.db) if args.db else default_db_path()
    config = Path(args.config) if args.config else default_config_path()
    if args.config and not config.exists():
        # a config named on the command line that is not there is a typo, not "use the defaults"
        raise UserError(f"no config file at {config} (leave out --config to use {default_config_path()})")
    return db, config


def _load(args: argparse.Namespace):
    from backline_tui.config import load_config

    db, config_path = _paths(args)
    return db, load_config(config_path)


def _workbench(args: argparse.Namespace):
    from backline_tui.workbench import Workbench

    db, config = _load(args)
    return Workbench.open(db, config)


def cmd_open(args: argparse.Namespace) -> int:
    # No cyclic garbage collection while the workbench starts: it only walks the objects that
    # imports and the first screen create, all of which live as long as the app. The app
    # freezes them and turns collection back on once the first page is on screen (App.settle_heap).
    gc.disable()
    from backline_tui.startup import Startup

    startup = Startup(*_paths(args))  # the database thread opens the replica while Textual imports
    from backline_tui.app import run_app

    return run_app(startup)


def cmd_demo(args: argparse.Namespace) -> int:
    import time

    from backline_tui.clock import Clock
    from backline_tui.storage import Replica
    from backline_tui.sync.demo import generate, wipe_records

    if args.cases < 0:
        raise UserError("--cases must be zero or more")
    db, config = _load(args)
    replica = Replica(db)
    has_data = replica.scalar("SELECT EXISTS(SELECT 1 FROM cases) OR EXISTS(SELECT 1 FROM help_requests)")
    if has_data and not args.replace:
        raise UserError(f"{db} already holds records; use --replace to wipe them, or --db for another file")
    if has_data:
        wipe_records(replica)
    started = time.perf_counter()
    last = [0.0]

    def progress(what: str, done: int, total: int) -> None:
        if sys.stderr.isatty() and time.perf_counter() - last[0] > 0.2:
            last[0] = time.perf_counter()
            print(f"\r  {what}: {done:,}/{total:,}   ", end="", file=sys.stderr, flush=True)

    stats = generate(replica, config, Clock().now(), cases=args.cases, seed=args.seed, progress=progress)
    if sys.stderr.isatty():
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr)
    print(
        f"demo: {stats.cases:,} cases, {stats.help_requests:,} help requests, {stats.bugs:,} bugs, "
        f"{stats.articles:,} articles, {stats.messages:,} messages in {time.perf_counter() - started:.1f}s → {db}"
    )
    replica.close()
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from backline_tui.domain.models import interchange_schema

    print(json.dumps(interchange_schema(), indent=2))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    wb = _workbench(args)
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


def cmd_keys(args: argparse.Namespace) -> int:
    from backline_tui import keys

    _db, config = _load(args)
    print((keys.markdown_table if args.markdown else keys.plain_table)(dict(config.keys)), end="")
    return 0


def _not_yet(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise UserError(f"'backline {name}' is not available in this build yet")

    return run


def cmd_import(args: argparse.Namespace) -> int:
    try:
        from backline_tui.sync.jsonl import cli_import
    except ImportError:
        return _not_yet("import")(args)
    return cli_import(args)


def cmd_export(args: argparse.Namespace) -> int:
    try:
        from backline_tui.sync.jsonl import cli_export
    except ImportError:
        return _not_yet("export")(args)
    return cli_export(args)


def cmd_sync(args: argparse.Namespace) -> int:
    try:
        from backline_tui.sync.engine import cli_sync
    except ImportError:
        return _not_yet("sync")(args)
    return cli_sync(args)


def cmd_report(args: argparse.Namespace) -> int:
    try:
        from backline_tui.insights.report import cli_report
    except ImportError:
        return _not_yet("report")(args)
    return cli_report(args)


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_open,
    "demo": cmd_demo,
    "import": cmd_import,
    "export": cmd_export,
    "sync": cmd_sync,
    "schema": cmd_schema,
    "report": cmd_report,
    "status": cmd_status,
    "keys": cmd_keys,
}


def user_errors() -> tuple[type[BaseException], ...]:
    from backline_tui.config_file import ConfigError
    from backline_tui.storage.records import RecordError
    from backline_tui.storage.replica import StorageError
    from backline_tui.workbench import ActionError

    return (UserError, ConfigError, StorageError, ActionError, RecordError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        new_db = _new_database(args)
        code = COMMANDS[args.command](args) or 0
        if new_db is not None and code == 0 and new_db.exists():
            print(f"backline: there was no database at {new_db}: this started a new, empty one", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("backline: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `backline export | head`): not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 — the one place that turns errors into one line
        if isinstance(exc, user_errors()):
            say_error(str(exc))
            return EXIT_USER
        if isinstance(exc, OSError):
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            say_error(f"{exc.strerror or exc}{':' + where if where else ''}")
            return EXIT_USER
        if os.environ.get("BACKLINE_DEBUG"):
            raise
        say_error(f"internal error: {type(exc).__name__}: {exc} (set BACKLINE_DEBUG=1 for details)")
        return EXIT_INTERNAL


def _new_database(args: argparse.Namespace) -> Path | None:
    """A --db path (or BACKLINE_DB) that holds no database yet: the command makes one, and says
    so once it is done (a mistyped path should not quietly become a new, empty replica; the
    workbench itself shows the path on its welcome screen)."""
    if args.command in ("schema", "keys", "demo", "import", None):
        return None
    if not (getattr(args, "db", None) or os.environ.get("BACKLINE_DB")):
        return None
    from backline_tui.config_file import default_db_path

    db = Path(args.db) if getattr(args, "db", None) else default_db_path()
    return None if str(db) == ":memory:" or db.exists() else db


def say_error(message: str) -> None:
    """One line on stderr. Messages quote refs, names and server answers, which may hold control
    sequences: they go through the one sanitiser, folded onto one line."""
    from backline_tui.text import one_line

    print(f"backline: {one_line(message)}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
