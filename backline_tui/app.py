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
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from backline_tui import log
from backline_tui.config_file import ConfigError
from backline_tui.text import one_line
from backline_tui.widgets.search import SearchProvider
from backline_tui.workbench import ActionError, PaneFilter, Workbench

if TYPE_CHECKING:
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


class BacklineApp(App):
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

    def on_mount(self) -> None:
        from backline_tui.screens.main import MainScreen

        self.push_screen(MainScreen())
        if self.config_applied:
            self.refresh_status()  # otherwise once the config is (it says who I am)

    def on_unmount(self) -> None:
        self._db.shutdown(wait=False, cancel_futures=True)

    def say(self, message: str, *, title: str = "", severity: str = "information", timeout: float | None = None) -> None:
        """A notification; its text may quote upstream data, so it is cleaned and never markup."""
        self.notify(one_line(message, 400), title=one_line(title, 80), severity=severity, timeout=timeout, markup=False)

    def internal(self, what: str, exc: BaseException) -> str:
        """Log an unexpected error's traceback; the one line to show, which names the log."""
        return log.internal(_LOG, what, exc)

    def refresh_status(self) -> None:
        self.run_worker(self._load_status, group="status", exclusive=True)

    async def _load_status(self) -> None:
        try:
            st = await self.call_db(self.workbench.status)
        except Exception as exc:  # noqa: BLE001 — the status line must never end the app
            self.status_text = one_line(self.internal("status unavailable", exc), 160)
            return
        parts = [f"me: {st['me']}"]
        # every change not yet upstream, ops in error included; conflicts and errors need the user
        unsent = st["unsent"]
        parts.append(f"{unsent} pending op{'s' if unsent != 1 else ''}")
        if st.get("in_error"):
            parts.append(f"{st['in_error']} in error")
        if st["conflicts"]:
            parts.append(f"{st['conflicts']} conflict{'s' if st['conflicts'] != 1 else ''}")
        from backline_tui.widgets.format import local_time

        ok, failed = st.get("last_success"), st.get("last_failure")
        parts.append(self._live.freshness() or f"last sync: {local_time(ok) if ok else 'never'}")
        if failed and (not ok or failed > ok):
            parts.append(f"sync failed {local_time(failed)}")
        self.status_attention = bool(st.get("in_error") or st["conflicts"] or (failed and (not ok or failed > ok)))
        if st.get("in_error") or st["conflicts"]:
            parts.append(f"{self.key_of('outbox')} outbox")
        parts.append("sources: " + (", ".join(source_state(name, st["source_status"][name], local_time)
                                              for name in st["sources"]) if st["sources"] else "none configured"))
        if st.get("history"):
            parts.append(st["history"])
        if self.workbench.clock.fixed:
            parts.append(f"now pinned at {self.workbench.now().strftime('%Y-%m-%d %H:%M')}Z")
        self.status_text = " · ".join(one_line(p, 80) for p in parts)

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
        if self._live.started and self._live.offline_since is None:
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

    def reload_screens(self) -> None:
        for screen in self.screen_stack:
            reload = getattr(screen, "reload", None)
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

    # ------------------------------------------------------------------ sync

    def action_sync(self) -> None:
        sync = getattr(self.workbench, "sync", None)
        if sync is None:
            self.say("sync is not configured", severity="warning")
            return
        if not self.workbench.config.sources:
            from backline_tui.config import default_config_path

            self.say(f"sync is not configured: add a [[sources]] entry to {default_config_path()}",
                     severity="warning", timeout=10)
            return
        if self._syncing:
            self.say("a sync is already running")
            return
        self._syncing = True
        self.sync_progress = "sync: starting…"
        self.run_worker(partial(self._sync_thread, sync), thread=True, group="sync")

    def start_live(self) -> None:
        """Once the first page is on screen: sync in the background every `sync.interval`
        seconds of the config (0: never), keep the status line's freshness current, and note
        the urgent requests already there (only new ones are announced)."""
        cfg = self.workbench.config
        if self._live.started or not cfg.sources:
            return
        self._live.started = True
        self.set_interval(5, self.refresh_status)  # "synced 40 s ago"
        if cfg.sync.interval > 0:
            self.set_interval(cfg.sync.interval, self.sync_in_background)
        self.run_worker(self._announce_urgent, group="urgent")

    def sync_in_background(self) -> None:
        """A quiet sync in a worker: no toast unless something needs the user (an urgent
        request, a conflict, an op refused, going offline)."""
        if self._syncing or not self.workbench.config.sources:
            return
        self._syncing = True
        self.run_worker(partial(self._sync_thread, self.workbench.sync, True), thread=True, group="sync")

    async def _announce_urgent(self) -> None:
        """Ring the bell and toast, once per record, for P1/P2 help requests that are new or
        newly breach their OLA since the last look (the first look only takes note)."""
        try:
            rows = await self.call_db(self.workbench.urgent_help)
        except Exception:  # noqa: BLE001 — a busy database: the next sync looks again
            return
        news = self._live.news(rows)
        if news and self.workbench.config.sync.bell:
            self.bell()
        for r in news:
            what = "breaches its OLA" if r["breaching"] else "new"
            self.say(f"{r['ref']} ({r['priority']}) {what}: {r['subject']}", title=f"urgent {r['priority']}",
                     severity="warning", timeout=20)

    def _sync_thread(self, sync: Callable[..., Any], quiet: bool = False) -> None:
        def progress(*args: Any, **kwargs: Any) -> None:
            # the engine reports (stage, done, total or None)
            if len(args) == 3 and isinstance(args[1], int):
                stage, done, total = args
                words = f"{stage} {done:,}" + (f"/{total:,}" if isinstance(total, int) else "")
            else:
                words = " ".join([str(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()])
            self.call_from_thread(setattr, self, "sync_progress", "sync: " + one_line(words, 80) + "…")
            if args and args[0] == "open work":  # every open record is in: show it before the history lands
                self.call_from_thread(self._open_work_landed)

        try:
            result = sync(progress=None if quiet else progress)
        except Exception as exc:  # noqa: BLE001 — any failure is told, never a crash
            self.call_from_thread(self._sync_done, None, exc, quiet)
        else:
            self.call_from_thread(self._sync_done, result, None, quiet)

    def _open_work_landed(self) -> None:
        self.reload_screens()
        self.refresh_status()

    def _sync_done(self, result: Any, error: BaseException | None, quiet: bool = False) -> None:
        self._syncing = False
        # keys typed while a compose screen is on its way (see RecordActions.swallow_key)
        self.typeahead: list[str] | None = None
        self.sync_progress = ""
        # a failed sync says so in one line, never "done" beside it; an exception of ours (not an
        # upstream's answer) is logged with its traceback; a background sync stays quiet unless it
        # went offline or upstream refused something
        unreachable = set(getattr(result, "unreachable", None) or [])
        went_offline = self._live.synced(error is not None or bool(unreachable))
        if error is not None:
            errors = [self.internal("sync failed", error)]
            shown = errors if not quiet or went_offline else []
        else:
            errors = [str(e) for e in getattr(result, "errors", None) or []]
            shown = [e for e in errors if not quiet or went_offline or e not in unreachable]
        if shown:
            more = f" (and {len(shown) - 1} more: backline status)" if len(shown) > 1 else ""
            offline = quiet and all(e in unreachable for e in shown)  # a background sync that found no upstream
            title = "offline: working from the replica" if offline else "sync failed"
            self.say(f"{shown[0]}{more}", title=title, severity="error", timeout=15)
        elif not errors and not quiet:
            self.say(f"sync done: {getattr(result, 'pushed', 0)} pushed, {getattr(result, 'pulled', 0)} pulled")
        for sentence in (getattr(result, "conflicts", None) or []) if error is None else []:
            self.say(str(sentence), title="conflict", severity="warning", timeout=15)
        self.reload_screens()
        if self._live.started:
            self.run_worker(self._announce_urgent, group="urgent")


class LiveState:
    """What the live workbench remembers between syncs: when it last synced, since when it is
    offline, and which urgent requests it has seen and announced."""

    def __init__(self) -> None:
        self.started = False
        self.synced_at: float | None = None  # time.monotonic() of the last sync that reached upstream
        self.offline_since: datetime | None = None
        self.seen: dict[str, bool] | None = None  # urgent ref -> breaching, at the last look
        self.announced: set[str] = set()

    def synced(self, offline: bool) -> bool:
        """Note a finished sync; True if the workbench just went offline."""
        if not offline:
            self.synced_at, self.offline_since = time.monotonic(), None
            return False
        if self.offline_since is None:
            self.offline_since = datetime.now().astimezone()
            return True
        return False

    def freshness(self) -> str | None:
        if self.offline_since is not None:
            return f"offline since {self.offline_since:%H:%M}"
        if self.synced_at is None:
            return None
        age = int(time.monotonic() - self.synced_at)
        return f"synced {age} s ago" if age < 120 else f"synced {age // 60} min ago"

    def news(self, rows: list[dict]) -> list[dict]:
        """Urgent rows to announce: new since the last look, or breaching now and not before;
        never the same record twice. The first look only takes note."""
        first, seen = self.seen is None, self.seen or {}
        out = [r for r in rows if not first and r["ref"] not in self.announced
               and (r["ref"] not in seen or (r["breaching"] and not seen[r["ref"]]))]
        self.announced.update(r["ref"] for r in out)
        self.seen = {r["ref"]: bool(r["breaching"]) for r in rows}
        return out


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


def source_state(name: str, state: dict, when) -> str:
    """One source on the status line: "east ok 10:02", "west failed 10:03", "north never synced"."""
    if state.get("error"):
        return f"{name} failed {when(state['failed_at'])}"
    if state.get("ok_at"):
        return f"{name} ok {when(state['ok_at'])}"
    return f"{name} never synced"
