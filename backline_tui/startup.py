"""How `backline` opens: the config file is read (not yet validated), the database thread starts
and opens the replica and reads the help queue's first page while the main thread is still
importing Textual. The main screen shows that page as soon as it mounts, and the config models
are validated after it is drawn (App.ensure_config). Imports neither textual nor pydantic."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backline_tui.config_file import read_config

if TYPE_CHECKING:
    from backline_tui.config import Config
    from backline_tui.workbench import Workbench

FirstPage = tuple[list[dict], list[list[Any]], list[Any]]  # rows, their cells, their lines


class Startup:
    def __init__(self, db: Path, config_path: Path) -> None:
        self.db = db
        self.config_path = config_path
        self.raw_config = read_config(config_path)  # not TOML, or a secret others can read: stops here
        theme = (self.raw_config or {}).get("theme")
        self.theme: str | None = theme if isinstance(theme, str) else None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backline-db")
        self._workbench: Future[Workbench] = self.executor.submit(self._open)
        self.first_page: Future[FirstPage | None] | None = self.executor.submit(self._read_first_page)

    def _load_config(self) -> Config:
        from backline_tui.config import validate_config

        return validate_config(self.raw_config, self.config_path)

    def _open(self) -> Workbench:
        from backline_tui.workbench import Workbench

        return Workbench.open(self.db, config_loader=self._load_config)

    def _read_first_page(self) -> FirstPage | None:
        """The help queue's first page, unfiltered (None for an empty database: the screen
        shows its first-run guidance instead)."""
        from backline_tui.widgets.format import page_cells
        from backline_tui.workbench import PAGE, PaneFilter

        wb = self._workbench.result()
        if wb.is_empty():
            return None
        rows = wb.pane("help", PaneFilter(), 0, PAGE)
        return (rows, *page_cells("help", rows))

    def workbench(self) -> Workbench:
        """The opened workbench; a replica that cannot be opened raises its error here."""
        try:
            return self._workbench.result()
        except BaseException:
            self.executor.shutdown(wait=False, cancel_futures=True)
            raise
