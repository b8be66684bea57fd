"""The `backline` command: the parser, the dispatch and the one place errors become one line.
Each subcommand lives in its own module here; paths are resolved once (paths.py). User errors
end with one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import os
import sys
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


def only_global_options(argv: list[str]) -> bool:
    """True if `argv` holds nothing but --db and --config: `backline` opening the workbench,
    which needs no subcommand's parser (building them all is ~3 ms of the start-up)."""
    args = iter(argv)
    for arg in args:
        if arg in ("--db", "--config"):
            next(args, None)
        elif not arg.startswith(("--db=", "--config=")):
            return False
    return True


def build_parser(commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backline",
        description="Backline: a keyboard-driven workbench for backline support engineers.",
    )
    parser.add_argument("--version", action="version", version=f"backline {__version__}")
    _common(parser, top=True)
    if not commands:
        parser.set_defaults(command=None)
        return parser
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

    p = sub.add_parser("status", help="who I am, pending outbox ops, ops the upstream refused, last sync")
    _common(p)

    p = sub.add_parser("sources", help="check a source's mapping upstream, or forget a source's records")
    _common(p)
    ssub = p.add_subparsers(dest="sources_command", metavar="ACTION", required=True)
    s = ssub.add_parser("check", help="connect and say what the mapping finds upstream (reads only)")
    _common(s)
    s.add_argument("name", nargs="?", help="only this source (default: every configured one)")
    s = ssub.add_parser("forget", help="remove a source's records from the replica (asks first)")
    _common(s)
    s.add_argument("name", help="the source whose records go")
    s.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    p = sub.add_parser("retry", help="send ops the upstream refused again at the next sync (ids from status)")
    _common(p)
    p.add_argument("ops", nargs="+", type=int, metavar="OP", help="op id, as `backline status` lists it")
    p = sub.add_parser("keys", help="every binding id and its key (as remapped in the config's [keys])")
    _common(p)
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    return parser


# subcommand -> "module:function" under backline_tui.cli, imported only when it runs (opening the
# workbench must not pay for the others' imports)
COMMANDS: dict[str | None, str] = {
    None: "open:cmd_open",
    "demo": "demo:cmd_demo",
    "import": "interchange:cmd_import",
    "export": "interchange:cmd_export",
    "sync": "sync:cmd_sync",
    "schema": "interchange:cmd_schema",
    "report": "report:cmd_report",
    "status": "status:cmd_status",
    "sources": "sources:cmd_sources",
    "retry": "retry:cmd_retry",
    "keys": "keys:cmd_keys",
}


def command(name: str | None) -> Callable[[argparse.Namespace], int]:
    import importlib

    module, func = COMMANDS[name].split(":")
    return getattr(importlib.import_module(f"backline_tui.cli.{module}"), func)


def user_errors() -> tuple[type[BaseException], ...]:
    from backline_tui.config_file import ConfigError
    from backline_tui.storage.records import RecordError
    from backline_tui.storage.replica import StorageError
    from backline_tui.workbench import ActionError

    return (UserError, ConfigError, StorageError, ActionError, RecordError)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(commands=not only_global_options(argv)).parse_args(argv)
    if os.environ.get("BACKLINE_LOG"):
        from backline_tui import log

        log.setup()
    try:
        new_db = _new_database(args)
        code = command(args.command)(args) or 0
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
        from backline_tui import log

        say_error(log.internal(log.get(__name__), "internal error", exc))
        return EXIT_INTERNAL


def _new_database(args: argparse.Namespace):
    """A --db path (or BACKLINE_DB) that holds no database yet: the command makes one, and says
    so once it is done (a mistyped path should not quietly become a new, empty replica; the
    workbench itself shows the path on its welcome screen)."""
    if args.command in ("schema", "keys", "demo", "import", None):
        return None
    if not (getattr(args, "db", None) or os.environ.get("BACKLINE_DB")):
        return None
    from backline_tui.cli.paths import paths

    db, _config = paths(args)
    return None if str(db) == ":memory:" or db.exists() else db


def say_error(message: str) -> None:
    """One line on stderr. Messages quote refs, names and server answers, which may hold control
    sequences: they go through the one sanitiser, folded onto one line."""
    from backline_tui.text import one_line

    print(f"backline: {one_line(message)}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
