"""An opt-in stall probe for benchmarks: with BACKLINE_STALL_PROBE=<file> in the environment,
a 10 ms interval timer on the app's event loop records how late each of its ticks runs (the
longest wait a key press could have had). It keeps the worst, a histogram, the longest few with
their times and, over each gap, the loop thread's time on a CPU and waiting for one, the
garbage collections, and what every thread was running while the loop was held 50 ms or more.
A watchdog thread takes those stacks and writes it all as JSON to <file> every few seconds
(never the loop: a slow disk must not show up as a stall); it is written again when the process
exits, and SIGUSR1 writes every thread's stack to <file>.stacks. Without the variable nothing
is started.

The app starts it once the first page is on screen (App.start_live), so start-up is not in it.
"""

from __future__ import annotations

import atexit
import gc
import heapq
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

ENV = "BACKLINE_STALL_PROBE"
TICK = 0.010  # seconds between ticks
WRITE_EVERY = 5.0  # seconds between writes of the file while running
#: upper bounds (ms) of the histogram's buckets; the last bucket is everything longer
BUCKETS = (5, 10, 20, 50, 100, 200, 500)
LOGGED_MS = 50.0  # every stall this long is kept with its time (up to MAX_LOGGED)
MAX_LOGGED = 500
TOP = 10
WATCH_MS = 50.0  # a hold this long has every thread's stack taken (up to MAX_HELD), to say what held it
MAX_HELD = 20

_probe: StallProbe | None = None


def start(app: Any) -> None:
    """Start the probe on `app`'s loop if BACKLINE_STALL_PROBE names a file (once per process)."""
    global _probe
    path = os.environ.get(ENV)
    if not path or _probe is not None:
        return
    import faulthandler  # here: importing this module costs the app nothing it does not use

    _probe = StallProbe(Path(path))
    app.set_interval(TICK, _probe.tick, name="stall-probe")
    atexit.register(_probe.write)
    threading.Thread(target=_probe.watch, name="stall-probe-watch", daemon=True).start()
    # `kill -USR1` writes every thread's stack to <file>.stacks (a process that will not end)
    if hasattr(signal, "SIGUSR1") and threading.current_thread() is threading.main_thread():
        _probe.stacks = open(f"{path}.stacks", "w")  # noqa: SIM115 — open while the process lives
        faulthandler.register(signal.SIGUSR1, file=_probe.stacks, all_threads=True)


def stop() -> StallProbe | None:
    """Write the file now and take the probe out of the process (its timer ends with the app)."""
    global _probe
    probe, _probe = _probe, None
    if probe is not None:
        probe.write()
        probe.stopped = True
        atexit.unregister(probe.write)
        gc.callbacks.remove(probe._gc)
        if probe.stacks is not None:
            import faulthandler

            faulthandler.unregister(signal.SIGUSR1)
            probe.stacks.close()
    return probe


class StallProbe:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.time()
        self._last = time.perf_counter()
        self._written = self._last
        self._last_wall = self.started
        self.ticks = 0
        self.worst_ms = 0.0
        self.histogram = [0] * (len(BUCKETS) + 1)
        # (lateness ms, wall time the stall ended, then over the gap in ms: the loop thread's wait for
        # a CPU and its time on one (Linux schedstat; -1 elsewhere), and the whole process's CPU time)
        self.logged: list[tuple[float, ...]] = []
        self.top: list[tuple[float, ...]] = []  # the TOP longest, a min-heap
        self._sched_fd: int | None = None
        self._sched_prev = self._sched()
        self._cpu_prev = time.process_time()
        self.gc_ms = {0: 0.0, 1: 0.0, 2: 0.0}  # the longest collection of each generation
        self.gc_count = {0: 0, 1: 0, 2: 0}
        self._gc_began: float | None = None
        self.held: list[dict[str, Any]] = []  # the stacks during holds of WATCH_MS or more
        self.stopped = False
        self.stacks: Any = None
        self._loop_thread = threading.get_ident()
        self._write_lock = threading.Lock()  # the watchdog's writes and the one at exit
        gc.callbacks.append(self._gc)

    def tick(self) -> None:
        now = time.perf_counter()
        late = max(0.0, (now - self._last - TICK) * 1000)
        self._last = now
        self._last_wall = time.time()
        self.ticks += 1
        self.worst_ms = max(self.worst_ms, late)
        self.histogram[next((i for i, b in enumerate(BUCKETS) if late < b), len(BUCKETS))] += 1
        sched, cpu = self._sched(), time.process_time()
        ran, waited = ((sched[0] - self._sched_prev[0]) / 1e6, (sched[1] - self._sched_prev[1]) / 1e6) \
            if sched and self._sched_prev else (-1.0, -1.0)
        entry = (round(late, 1), round(self._last_wall, 3), round(waited, 1), round(ran, 1),
                 round((cpu - self._cpu_prev) * 1000, 1))
        self._sched_prev, self._cpu_prev = sched, cpu
        if late >= LOGGED_MS and len(self.logged) < MAX_LOGGED:
            self.logged.append(entry)
        if len(self.top) < TOP or late > self.top[0][0]:
            (heapq.heappush if len(self.top) < TOP else heapq.heapreplace)(self.top, entry)

    def _sched(self) -> tuple[int, int] | None:
        """The loop thread's time on a CPU and waiting for one (ns), from /proc (Linux)."""
        try:
            if self._sched_fd is None:
                self._sched_fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)  # this thread's
            ran, waited = os.pread(self._sched_fd, 100, 0).split()[:2]
            return int(ran), int(waited)
        except (OSError, ValueError):
            return None

    def watch(self) -> None:
        """A thread that looks every tick: while the loop is held WATCH_MS or more, it takes the
        stack of every thread once (it runs when the holder lets go of the GIL, at the latest at
        Python's switch interval; a hold inside one C call is seen just after it). It writes the
        file every WRITE_EVERY seconds, so that a slow disk never holds the loop."""
        sampled_for, current = None, None
        while not self.stopped:
            time.sleep(TICK)
            if time.perf_counter() - self._written >= WRITE_EVERY:
                self.write()
            last = self._last
            late = (time.perf_counter() - last - TICK) * 1000
            if current is not None and sampled_for != last:  # the hold ended: keep the longest MAX_HELD
                self._keep_held(current)
                current = None
            if late < WATCH_MS:
                continue
            if current is not None:  # the same hold goes on
                current["held_ms"] = round(late, 1)
                continue
            sampled_for = last
            names = {t.ident: t.name for t in threading.enumerate()}
            threads = {}
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                name = "loop" if ident == self._loop_thread else names.get(ident, str(ident))
                threads[name] = [f"{Path(f.filename).name}:{f.lineno} {f.name}"
                                 for f in traceback.extract_stack(frame)[-8:]]
            current = {"at": round(time.time(), 3), "held_ms": round(late, 1), "threads": threads}

    def _keep_held(self, hold: dict[str, Any]) -> None:
        """Keep a finished hold's stacks if it is among the MAX_HELD longest (under load many short
        holds come first; the one to explain is the longest)."""
        with self._write_lock:
            if len(self.held) < MAX_HELD:
                self.held.append(hold)
                return
            shortest = min(range(len(self.held)), key=lambda i: self.held[i]["held_ms"])
            if self.held[shortest]["held_ms"] < hold["held_ms"]:
                self.held[shortest] = hold

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        # collections run on whichever thread allocates; any of them holds the event loop
        if phase == "start":
            self._gc_began = time.perf_counter()
        elif self._gc_began is not None:
            gen = info.get("generation", 2)
            ms = (time.perf_counter() - self._gc_began) * 1000
            self.gc_ms[gen] = max(self.gc_ms[gen], ms)
            self.gc_count[gen] += 1
            self._gc_began = None

    def report(self) -> dict[str, Any]:
        labels = [f"<{b}" for b in BUCKETS] + [f">={BUCKETS[-1]}"]
        return {
            "tick_ms": TICK * 1000, "started": round(self.started, 3), "written": round(time.time(), 3),
            "ticks": self.ticks, "worst_ms": round(self.worst_ms, 1),
            "histogram_ms": dict(zip(labels, self.histogram)),
            "top": [_entry(e) for e in sorted(self.top, reverse=True)],
            f"over_{LOGGED_MS:g}ms": [_entry(e) for e in self.logged],
            "gc_longest_ms": {str(g): round(v, 1) for g, v in self.gc_ms.items()},
            "gc_count": {str(g): v for g, v in self.gc_count.items()},
            # a hold that no tick ended is the app shutting down (the timer stops first): not a stall
            "held": [h for h in self.held if h["at"] <= self._last_wall],
        }

    def write(self) -> None:
        with self._write_lock:
            self._written = time.perf_counter()
            tmp = self.path.with_name(self.path.name + ".tmp")
            try:
                tmp.write_text(json.dumps(self.report(), indent=1))
                tmp.replace(self.path)
            except OSError:
                pass  # a benchmark's file: never a reason for the app to fail


def _entry(e: tuple[float, ...]) -> dict[str, float]:
    return dict(zip(("ms", "at", "loop_waited_ms", "loop_ran_ms", "process_cpu_ms"), e))
