"""`backline keys [--markdown]`: every binding id and its key, as remapped in the config's [keys]."""

from __future__ import annotations

import argparse

from backline_tui.cli.paths import load


def cmd_keys(args: argparse.Namespace) -> int:
    from backline_tui import keys

    _db, config = load(args)
    print((keys.markdown_table if args.markdown else keys.plain_table)(dict(config.keys)), end="")
    return 0
