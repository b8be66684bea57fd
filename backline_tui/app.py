"""The Textual workbench: panes over the replica, details, actions, search.

The app talks only to the Workbench facade, and every facade call runs on one database thread
(`call_db`), never on the event loop. Untrusted text reaches widgets only through
backline_tui.text and is rendered without markup.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shlex
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from backline_tui import log
from backline_tui.config_file import ConfigError
from backline_tui.live import LiveState, LiveSync
from backline_tui.text import one_line
from backline_tui.widgets.search import SearchProvider
from backline_tui.workbench import ActionError, PaneFilter, Workbench

if TYPE_CHECKING:
    from textual.screen import Screen

    from backline_tui.config import Config
    from backline_tui.startup import Startup

_LOG = log.get(__name__)

# editor(text, suffix) -> edited text, or None when the user gave up
Editor = Callable[[str, str], "str | None"]


def external_editor(app: App, text: str, suffix: str = ".md") -> str | None:
    """Edit `text` in $VISUAL / $EDITOR (vi by default) with the app suspended."""
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix="backline-", suffix=suffix)
    try:
        added = not text.endswith("\n")  # a text file ends with a newline; editors expect it
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + ("\n" if added else ""))
        with app.suspend():
            rc = subprocess.call([*shlex.split(command), name])
        if rc != 0:
            return None
        edited = Path(name).read_text(encoding="utf-8")
        return edited[:-1] if added and edited.endswith("\n") else edited
    finally:
        os.unlink(name)


class BacklineApp(LiveSync, App):
    TITLE = "Backline"
    # absolute, so that subclasses defined elsewhere (benchmarks, tests) find it too
    CSS_PATH = Path(__file__).parent / "styles" / "app.tcss"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("S", "sync", "Sync", id="sync"),
        Binding("U,ctrl+z", "undo", "Undo", id="undo", show=False),
        Binding("b", "outbox", "Outbox", id="outbox", show=False),
    ]

    COMMANDS = App.COMMANDS | {SearchProvider}

    status_text: reactive[str] = reactive("")
    sync_progress: reactive[str] = reactive("")
    status_attention: reactive[bool] = reactive(False)  # something unsent needs the user

    def __init__(self, workbench: Workbench, editor: Editor | None = None, keymap: dict[str, str] | None = None,
                 theme: str | None = None) -> None:
        super().__init__()
        self.workbench = workbench
        self.first_frame = asyncio.Event()  # set once the first frame is on its way to the terminal
        self._editor = editor
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backline-db")
        # the undo of the most recent action only (None when that action cannot be undone),
        # and what that action was, to say so
        self._undo: tuple[str, Callable[[], Any]] | None = None
        self._last_action: str | None = None
        self._syncing = False
        self._live = LiveState()
        # keys typed while a compose screen is on its way (see RecordActions.swallow_key)
        self.typeahead: list[str] | None = None
        self.config_error: str | None = None  # a config that failed validation after start-up
        # the config's theme and keys are in use (at once for a config given up front)
        self.config_applied = workbench.config_loaded
        if keymap:
            self.set_keymap(keymap)
        if theme in self.available_themes:
            self.theme = theme
        if workbench.config_loaded:
            self._use_config(workbench.config)

    async def ensure_config(self) -> bool:
        """Validate the config on the database thread if the workbench started without it, then
        use its theme and keys. True if stored values (OLA due) were recomputed for a changed
        config: what is on screen is out of date. A bad config ends the app with its one line."""
        wb = self.workbench
        if self.config_applied:
            self.start_live()
            return False
        self.config_applied = True
        try:
            config = await self.call_db(wb.load_config)
        except asyncio.CancelledError:  # a newer page load (a key, a filter) took over: it applies it
            self.config_applied = False
            raise
        except ConfigError as exc:
            self.config_error = str(exc)
            self.exit(return_code=1)
            return False
        self._use_config(config)
        self.refresh_status()
        self.start_live()
        return wb.config_refreshed

    def _use_config(self, config: Config) -> None:
        """The config's remapped keys and theme."""
        if config.keys:
            self.set_keymap(dict(config.keys))
        if config.theme in self.available_themes and config.theme != self.theme:
            self.theme = config.theme

    # ------------------------------------------------------------------ plumbing

    def settle_heap(self) -> None:
        """Move every object alive now (modules, styles, widgets: they live as long as the app)
        out of the cyclic garbage collector's way, and turn collection on. A full collection
        over them held the event loop 45–70 ms at 100k cases, the longest stalls we measured
        while switching panes, paging and filtering; over what is left it takes ~1 ms. Called
        once the first page is on screen and again after the warm-up imports; safe to repeat."""
        gc.freeze()
        gc.enable()

    def call_db_now(self, fn: Callable[[], Any]) -> Any:
        """Run a facade call on the database thread and wait for it, holding up the event loop.
        Only for the first page, before the first frame (see MainScreen._show_first_page)."""
        return self._db.submit(fn).result()

    async def call_db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a facade call on the database thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, partial(fn, *args, **kwargs))

    def pane_page(self, pane: str, f: PaneFilter, offset: int, limit: int) -> list[dict]:
        """A page of a pane (runs on the database thread)."""
        return self.workbench.pane(pane, f, offset, limit)

    def pane_total(self, pane: str, f: PaneFilter) -> int:
        return self.workbench.pane_count(pane, f)

    async def attempt(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """call_db, with a refusal (ActionError) told to the user instead of raised."""
        try:
            return True, await self.call_db(fn, *args)
        except ActionError as exc:
            self.say(str(exc), severity="warning")
            return False, None
        except Exception as exc:  # noqa: BLE001 — a locked or broken database: say so, keep running
            self.say(self.internal("database error", exc), severity="error", timeout=10)
            return False, None

    def get_default_screen(self) -> Screen:
        # the pane screen is the first screen itself: a blank default screen under it would be
        # composed, styled and drawn first, on the way to the first page
        from backline_tui.screens.main import MainScreen

        return MainScreen()

    def on_mount(self) -> None:
        if self.config_applied:
            self.refresh_status()  # otherwise once the config is (it says who I am)

    def on_ready(self) -> None:
        # Textual's Ready: the first frame has been drawn
        self.first_frame.set()

    def on_unmount(self) -> None:
        self._db.shutdown(wait=False, cancel_futures=True)

    def say(self, message: str, *, title: str = "", severity: str = "information", timeout: float | None = None) -> None:
        """A notification; its text may quote upstream data, so it is cleaned and never markup."""
        self.notify(one_line(message, 400), title=one_line(title, 80), severity=severity, timeout=timeout, markup=False)

    def internal(self, what: str, exc: BaseException) -> str:
        """Log an unexpected error's traceback; the one line to show, which names the log."""
        return log.internal(_LOG, what, exc)


    def edit_text(self, text: str, suffix: str = ".md") -> str | None:
        """Run the injected editor, or $EDITOR with the app suspended."""
        if self._editor is not None:
            return self._editor(text, suffix)
        try:
            return external_editor(self, text, suffix)
        except Exception as exc:  # noqa: BLE001 — SuspendNotSupported, editor not found
            self.say(self.internal("cannot start the editor", exc), severity="error")
            return None

    # ------------------------------------------------------------------ actions run by screens

    def perform(
        self,
        fn: Callable[[], Any],
        done: str | Callable[[Any], str],
        undo: tuple[str, Callable[[], Any]] | None = None,
        after: Callable[[Any], None] | None = None,
    ) -> None:
        """Run a facade action on the database thread; say what happened (or why not), offer
        an undo, then reload what is on screen."""
        self.run_worker(self._perform(fn, done, undo, after), group="action")

    async def _perform(self, fn, done, undo, after) -> None:
        try:
            result = await self.call_db(fn)
        except ActionError as exc:
            self.say(str(exc), severity="warning")
            return
        except Exception as exc:  # noqa: BLE001 — e.g. the database is locked by a long sync
            self.say(self.internal("not done, database error", exc), severity="error", timeout=10)
            return
        message = done(result) if callable(done) else done
        # only the most recent action can be undone: any other action ends the older one's undo
        self._undo = undo
        self._last_action = message
        if undo is not None:
            message += f" · {self.key_of('undo')} to undo"
        self.say(message)
        if after is not None:
            after(result)
        self.reload_screens()
        if self._live.started and not self._live.held_off:
            self.sync_in_background()  # the change goes upstream at once

    def action_done(self, message: str) -> None:
        """An action done by a screen itself (a sent reply): it cannot be undone, and it ends the
        undo of whatever came before it."""
        self._undo = None
        self._last_action = message
        self.say(message)
        self.reload_screens()

    def key_of(self, binding_id: str, default: str = "") -> str:
        """The key the user has for a binding (after [keys] remapping), as hints show it."""
        from backline_tui.keys import BY_ID, display_key, key_list

        keymap = getattr(self, "_keymap", None) or {}
        known = BY_ID.get(binding_id)
        keys = key_list(keymap.get(binding_id) or (known.keys if known else default))
        return display_key(keys[0]) if keys else default

    @property
    def binding_keys(self) -> dict[str, str]:
        from backline_tui.keys import BY_ID

        return {bid: self.key_of(bid) for bid in BY_ID}

    async def action_quit(self) -> None:
        """Quit, keeping the text of every compose screen still open as a draft."""
        from backline_tui.screens.compose import ComposeScreen

        for screen in self.screen_stack:
            if isinstance(screen, ComposeScreen):
                await screen.keep_draft("the app was closed before it was sent")
        self.exit()

    def reload_screens(self, after_sync: bool = False) -> None:
        for screen in self.screen_stack:
            reload = getattr(screen, "sync_landed" if after_sync else "reload", None) or getattr(screen, "reload", None)
            if reload is not None:
                reload()
        self.refresh_status()

    def action_undo(self) -> None:
        """Undo the most recent action, named first; nothing older."""
        if self._undo is None:
            if self._last_action:
                self.say(f"nothing to undo: the last action ({self._last_action}) cannot be undone",
                         severity="warning")
            else:
                self.say("nothing to undo")
            return
        from backline_tui.screens.dialogs import ConfirmScreen

        undo = self._undo
        label, fn = undo

        def confirmed(yes: bool | None) -> None:
            if yes and self._undo is undo:
                self.perform(fn, f"undone: {label}")

        self.push_screen(ConfirmScreen(
            f"Undo {label}?", "the most recent action", "Undo",
            note=f"{self.key_of('confirm.yes')} = undo it, {self.key_of('confirm.no')} = keep it"), confirmed)

    def action_outbox(self) -> None:
        """Every change not yet upstream, and what to do about the ones that stopped."""
        from backline_tui.screens.outbox import OutboxScreen

        if not isinstance(self.screen, OutboxScreen):
            self.push_screen(OutboxScreen())

    def action_help(self) -> None:
        from backline_tui.screens.dialogs import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def open_record(self, kind: str, ref: str) -> None:
        from backline_tui.screens.detail import DetailScreen

        self.push_screen(DetailScreen(kind, ref))


def run_app(startup: Startup) -> int:
    """Run the workbench that `startup` is opening (see backline_tui.startup)."""
    wb = startup.workbench()
    try:
        app = BacklineApp(wb, theme=startup.theme)
        app.run()
    finally:
        wb.close()
    if app.config_error:
        raise ConfigError(app.config_error)
    return 0
