"""The workbench's live side: the status line, syncs in a worker (on demand and every
`sync.interval` seconds), the freshness of the replica, and urgent help requests announced once.

A mixin of BacklineApp (backline_tui.app): it uses the app's database thread (`call_db`),
notifications (`say`) and screens (`reload_screens`).
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from functools import partial
from typing import Any, Callable

from backline_tui.text import one_line


class LiveSync:
    """The status line and sync of BacklineApp."""

    # ------------------------------------------------------------------ status line

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
        if os.environ.get("BACKLINE_STALL_PROBE"):  # benchmarks only; otherwise nothing is even imported
            from backline_tui import stall_probe

            stall_probe.start(self)
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
            if args and args[0] == "open work":  # every open record is in: show it before the history lands
                self.call_from_thread(self._open_work_landed)
            if not quiet:
                self.call_from_thread(setattr, self, "sync_progress", "sync: " + one_line(words, 80) + "…")

        try:
            result = sync(progress=progress)
        except Exception as exc:  # noqa: BLE001 — any failure is told, never a crash
            self.call_from_thread(self._sync_done, None, exc, quiet)
        else:
            self.call_from_thread(self._sync_done, result, None, quiet)

    def _open_work_landed(self) -> None:
        self.reload_screens()
        self.refresh_status()

    def _sync_done(self, result: Any, error: BaseException | None, quiet: bool = False) -> None:
        self._syncing = False
        self.sync_progress = ""
        # a failed sync says so in one line, never "done" beside it; an exception of ours (not an
        # upstream's answer) is logged with its traceback; a background sync stays quiet unless it
        # went offline or upstream refused something
        unreachable = set(getattr(result, "unreachable", None) or [])
        busy = set(getattr(result, "busy", None) or [])  # reached, and still asked to wait
        calm = unreachable | busy  # said once, when it begins
        newly_held = self._live.synced(error is not None or bool(unreachable), busy=bool(busy))
        if error is not None:
            errors = [self.internal("sync failed", error)]
            shown = errors if not quiet or newly_held else []
        else:
            errors = [str(e) for e in getattr(result, "errors", None) or []]
            shown = [e for e in errors if not quiet or newly_held or e not in calm]
        if shown:
            more = f" (and {len(shown) - 1} more: backline status)" if len(shown) > 1 else ""
            # a background sync that found no upstream, or one that asks to wait: said once, calmly
            if quiet and all(e in unreachable for e in shown):
                title = "offline: working from the replica"
            elif quiet and all(e in calm for e in shown):
                title = "upstream busy: working from the replica"
            else:
                title = "sync failed"
            self.say(f"{shown[0]}{more}", title=title, severity="error", timeout=15)
        elif not errors and not quiet:
            self.say(f"sync done: {getattr(result, 'pushed', 0)} pushed, {getattr(result, 'pulled', 0)} pulled")
        for sentence in (getattr(result, "conflicts", None) or []) if error is None else []:
            self.say(str(sentence), title="conflict", severity="warning", timeout=15)
        self.reload_screens(after_sync=True)
        if self._live.started:
            self.run_worker(self._announce_urgent, group="urgent")


class LiveState:
    """What the live workbench remembers between syncs: when it last synced, since when it is
    offline (no upstream answered) or held off (an upstream answered 429/503 after the retries),
    and which urgent requests it has seen and announced."""

    def __init__(self) -> None:
        self.started = False
        self.synced_at: float | None = None  # time.monotonic() of the last sync that reached upstream
        self.offline_since: datetime | None = None
        self.busy_since: datetime | None = None
        self.seen: dict[str, bool] | None = None  # urgent ref -> breaching, at the last look
        self.announced: set[str] = set()

    @property
    def held_off(self) -> bool:
        """Offline or busy: no sync at once after each action (the interval's sync tries again)."""
        return self.offline_since is not None or self.busy_since is not None

    def synced(self, offline: bool, busy: bool = False) -> bool:
        """Note a finished sync; True if the workbench just went offline, or just found an
        upstream busy (each is said once, when it begins)."""
        if not offline and not busy:
            self.synced_at, self.offline_since, self.busy_since = time.monotonic(), None, None
            return False
        now = datetime.now().astimezone()
        if offline:
            self.busy_since = None
            began, self.offline_since = self.offline_since is None, self.offline_since or now
        else:
            self.offline_since = None
            began, self.busy_since = self.busy_since is None, self.busy_since or now
        return began

    def freshness(self) -> str | None:
        if self.offline_since is not None:
            return f"offline since {self.offline_since:%H:%M}"
        if self.busy_since is not None:
            return f"upstream busy since {self.busy_since:%H:%M}"
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


def source_state(name: str, state: dict, when) -> str:
    """One source on the status line: "east ok 10:02", "west failed 10:03", "north never synced"."""
    if state.get("error"):
        return f"{name} failed {when(state['failed_at'])}"
    if state.get("ok_at"):
        return f"{name} ok {when(state['ok_at'])}"
    return f"{name} never synced"
