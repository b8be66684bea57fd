"""How `backline` opens: the config file is read (not yet validated: a file that is not TOML,
or a secret others can read, stops here, before the screen), then the replica is opened. The
config models are validated on the database thread once the first page is drawn
(App.ensure_config): building them is ~100 ms, a third of the start-up. Imports neither textual
nor pydantic.

Measured side by side (bench/terminal.py's way, 12 launches each): reading the first page on a
thread while Textual imported made the start-up ~50 ms slower, not faster: both are Python work
under one GIL, and the switching between them cost more than the overlap won."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from backline_tui.config_file import read_config

if TYPE_CHECKING:
    from backline_tui.config import Config
    from backline_tui.workbench import Workbench


class Startup:
    def __init__(self, db: Path, config_path: Path) -> None:
        self.db = db
        self.config_path = config_path
        self.raw_config = read_config(config_path)
        theme = (self.raw_config or {}).get("theme")
        self.theme: str | None = theme if isinstance(theme, str) else None

    def load_config(self) -> Config:
        from backline_tui.config import validate_config

        return validate_config(self.raw_config, self.config_path)

    def workbench(self) -> Workbench:
        """The replica opened, the config not yet validated (raises the replica's errors)."""
        from backline_tui.workbench import Workbench

        return Workbench.open(self.db, config_loader=self.load_config)
