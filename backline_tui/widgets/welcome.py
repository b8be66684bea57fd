"""The welcome view: what an empty database shows instead of a pane, with the two ways to fill
it (demo data, a source) and the keys that matter first. Paths are shown through the sanitiser."""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.widgets import Static

from backline_tui.text import one_line


class Welcome(Static):
    """Shown in place of the panes while the database holds no records."""

    DEFAULT_CSS = """
    Welcome {
        padding: 1 2;
    }
    """

    def show(self, db_path: str, config_path: str, key_of: Callable[[str], str]) -> None:
        text = Text()
        text.append("Nothing here yet: this database holds no help requests, cases, bugs or articles.\n\n",
                    style="bold")
        text.append(f"To look around with made-up data, quit ({key_of('quit')}) and run:\n\n")
        text.append(f"    backline --db {one_line(db_path, 200)} demo\n\n", style="bold")
        text.append("To work on real data, add a source to the config file\n")
        text.append(f"    {one_line(config_path, 200)}\n", style="bold")
        text.append("for example\n\n")
        text.append('    [[sources]]\n    name = "rt"\n    kind = "rt"\n    url = "https://rt.example.com"\n'
                    '    user = "me"\n    password_env = "RT_PASSWORD"\n\n', style="green4")
        text.append(f"then press {key_of('sync')} to sync (or run `backline sync`), or import a file with "
                    "`backline import FILE`.\n\n")
        text.append(f"{key_of('help')} lists every key · {key_of('quit')} quits", style="dim")
        self.update(text)
