"""`backline`: open the workbench."""

from __future__ import annotations

import argparse
import gc

from backline_tui.cli.paths import paths


def cmd_open(args: argparse.Namespace) -> int:
    # No cyclic garbage collection while the workbench starts: it only walks the objects that
    # imports and the first screen create, all of which live as long as the app. The app
    # freezes them and turns collection back on once the first page is on screen (App.settle_heap).
    gc.disable()
    from backline_tui.startup import Startup

    startup = Startup(*paths(args))  # the database thread opens the replica while Textual imports
    from backline_tui.app import run_app

    return run_app(startup)
