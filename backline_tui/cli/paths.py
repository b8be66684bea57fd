"""Where the database and the config are, resolved once for every subcommand: --db/--config,
else BACKLINE_DB/BACKLINE_CONFIG, else the user data and config dirs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def paths(args: argparse.Namespace) -> tuple[Path, Path]:
    from backline_tui.config_file import default_config_path, default_db_path

    db = getattr(args, "db", None)
    config = getattr(args, "config", None)
    if config and not Path(config).exists():
        from backline_tui.cli import UserError

        # a config named on the command line that is not there is a typo, not "use the defaults"
        raise UserError(f"no config file at {config} (leave out --config to use {default_config_path()})")
    return (Path(db) if db else default_db_path()), (Path(config) if config else default_config_path())


def load(args: argparse.Namespace):
    """(database path, validated Config)."""
    from backline_tui.config import load_config

    db, config_path = paths(args)
    config = load_config(config_path)
    if config.log_level and not os.environ.get("BACKLINE_LOG"):
        from backline_tui import log

        log.setup(config.log_level)
    return db, config


def workbench(args: argparse.Namespace):
    from backline_tui.workbench import Workbench

    db, config = load(args)
    return Workbench.open(db, config)
