"""Run the real `backline` in a pseudo-terminal and read what it writes to the terminal.

`Term` starts a command on the slave side of a pty (size 120×40 by default, TERM=xterm-256color),
keeps every byte the program writes (`raw`), and feeds them to a pyte screen so a test can wait
for text to appear, find where it is and click on it. Keys are written to the master side as a
terminal would send them.

Waiting is by condition with a generous deadline (`wait_for`), never by sleeping a fixed time:
the deadline only decides how long a broken build takes to fail.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from typing import Callable

import pyte

KEYS = {
    "enter": b"\r",
    "escape": b"\x1b",
    "tab": b"\t",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "ctrl+p": b"\x10",
    "ctrl+c": b"\x03",
    "backspace": b"\x7f",
    "pagedown": b"\x1b[6~",
    "end": b"\x1b[F",
}

QUERY_SYNC = b"\x1b[?2026$p"
SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"

DEADLINE = float(os.environ.get("BACKLINE_PTY_DEADLINE", "90"))  # a loaded 2-core CI machine is slow, not stuck


class TermError(AssertionError):
    pass


class _Screen(pyte.Screen):
    """pyte stops drawing a chunk at the first zero-width character that is not combining (ZWSP,
    ZWJ, LRM, U+2028…), which garbles its copy of the screen; a terminal skips them instead.
    The character after a ZWJ joins the emoji before it (one cluster, as Textual counts it)."""

    def draw(self, data: str) -> None:
        if not data.isascii():
            data = _ZERO_WIDTH.sub("", _JOINED.sub("", data))
        if data:
            super().draw(data)


# a ZWJ and the character it joins to the one before; zero-width characters pyte would stop at
_JOINED = re.compile("\u200d.", re.S)
_ZERO_WIDTH = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                         "\ufe00-\ufe0f\ufeff\ufff9-\ufffb]")


def _controlling_tty() -> None:
    """In the child: a session of its own with the pty as its controlling terminal, as in a real
    terminal window (so closing our side hangs it up instead of leaving it running)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Term:
    def __init__(self, argv: list[str], env: dict[str, str] | None = None, cols: int = 120, rows: int = 40,
                 cwd: str | None = None) -> None:
        self.cols, self.rows = cols, rows
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = dict(os.environ)
        full_env.update({"TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows),
                         "TEXTUAL_ANIMATIONS": "none"})
        full_env.pop("TEXTUAL", None)
        full_env.pop("NO_COLOR", None)
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=cwd,
                                     preexec_fn=_controlling_tty, close_fds=True)
        os.close(slave)
        self.master = master
        self.raw = bytearray()
        self.screen = _Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closed = False
        self._in_frame = False
        self._complete = 0  # raw[:_complete] ends on a frame boundary
        self._fed = 0  # raw[:_fed] went to pyte
        self._display: list[str] = list(self.screen.display)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- output -----------------------------------------------------------------------------

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.2)
            except (OSError, ValueError):
                break
            if not ready:
                if self.proc.poll() is not None and not self._drain_possible():
                    break
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the slave side
                break
            if not data:
                break
            with self._changed:
                window = bytes(self.raw[-16:]) + data
                self.raw += data
                if QUERY_SYNC in window:
                    # answer like a modern terminal: synchronized output is supported, so Textual
                    # wraps each frame in SYNC_START/SYNC_END and a test never sees half a frame
                    try:
                        os.write(self.master, b"\x1b[?2026;2$y")
                    except OSError:
                        pass
                # bytes up to the end of the last complete frame can be shown; the rest waits
                base = len(self.raw) - len(window)
                start, end = window.rfind(SYNC_START), window.rfind(SYNC_END)
                if end >= 0:
                    self._complete = base + end + len(SYNC_END)
                    self._in_frame = start > end
                elif start >= 0:
                    self._in_frame = True
                elif not self._in_frame:
                    self._complete = len(self.raw)
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _drain_possible(self) -> bool:
        try:
            ready, _, _ = select.select([self.master], [], [], 0)
        except (OSError, ValueError):
            return False
        return bool(ready)

    def _catch_up(self) -> None:
        """Feed pyte (slow: pure Python) only when someone looks, up to the last complete frame."""
        with self._lock:
            if self._fed < self._complete:
                try:
                    self.stream.feed(bytes(self.raw[self._fed:self._complete]))
                except Exception:  # noqa: BLE001 — pyte is only our eyes; raw keeps the truth
                    pass
                self._fed = self._complete
                self._display = list(self.screen.display)

    def text(self) -> str:
        """The screen as of the last complete frame."""
        self._catch_up()
        with self._lock:
            return "\n".join(self._display)

    def lines(self) -> list[str]:
        self._catch_up()
        with self._lock:
            return list(self._display)

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = DEADLINE) -> str:
        """Wait until the screen shows `what` (or the predicate on the screen text holds)."""
        check = (lambda s: what in s) if isinstance(what, str) else what
        end = time.monotonic() + timeout
        with self._changed:
            while True:
                self._catch_up()
                screen = "\n".join(self._display)
                if check(screen):
                    return screen
                if self._closed:
                    raise TermError(f"the program ended (exit {self.proc.poll()}) before the screen showed "
                                    f"{what!r}; last screen:\n{screen}")
                left = end - time.monotonic()
                if left <= 0:
                    raise TermError(f"the screen never showed {what!r}; last screen:\n{screen}")
                self._changed.wait(min(left, 0.5))

    def wait_quiet(self, rounds: int = 3) -> None:
        """Wait until output has stopped changing for a few reader wake-ups (best effort)."""
        last = -1
        same = 0
        end = time.monotonic() + DEADLINE
        while same < rounds and time.monotonic() < end:
            with self._changed:
                self._changed.wait(0.3)
                n = len(self.raw)
            same = same + 1 if n == last else 0
            last = n

    def highlighted(self, needle: str) -> str | None:
        """The one screen line containing `needle` drawn on a background no other such line has:
        the cursor row of a zebra-striped table (None while that is ambiguous)."""
        self._catch_up()
        with self._lock:
            rows = []
            for y, line in enumerate(self._display):
                x = line.find(needle)
                if x >= 0:
                    rows.append((line, self.screen.buffer[y][x].bg))
        counts: dict[str, int] = {}
        for _, bg in rows:
            counts[bg] = counts.get(bg, 0) + 1
        unique = [line for line, bg in rows if counts[bg] == 1]
        return unique[0] if len(rows) >= 3 and len(unique) == 1 else None

    def find(self, needle: str) -> tuple[int, int] | None:
        """(row, col) of the first cell where `needle` starts on screen, or None."""
        for y, line in enumerate(self.lines()):
            x = line.find(needle)
            if x >= 0:
                return y, x
        return None

    # -- input ------------------------------------------------------------------------------

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        os.write(self.master, data)

    def press(self, *keys: str) -> None:
        for key in keys:
            self.send(KEYS.get(key, key.encode("utf-8")))

    def click(self, row: int, col: int) -> None:
        """A left click at a screen cell (SGR mouse protocol, 1-based on the wire)."""
        self.send(f"\x1b[<0;{col + 1};{row + 1}M\x1b[<0;{col + 1};{row + 1}m")

    # -- life ---------------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_exit(self, timeout: float = DEADLINE) -> int:
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return rc

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        try:
            os.close(self.master)
        except OSError:
            pass

    def __enter__(self) -> "Term":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def backline(*args: str, env: dict[str, str] | None = None, **kw) -> Term:
    """`backline ARGS` in a pty, run from this checkout's interpreter."""
    return Term([sys.executable, "-m", "backline_tui", *args], env=env, **kw)
