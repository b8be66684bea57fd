"""Start-up time and memory, measured the way a person meets them: in a real terminal (tmux,
120×40), from launching the command to the first help-queue rows on screen."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
import uuid
from pathlib import Path

from common import BACKLINE, BENCH, PY, Result, bench_env, config_path, median

COLS, ROWS = 120, 40
MARKER = "HELP-"
START_RATIO = 1.3
RSS_LIMIT_MB = 150.0


class Tmux:
    """One private tmux server (its own socket) so nothing touches the user's sessions."""

    def __init__(self) -> None:
        self.socket = f"backline-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        # a session that lives as long as we do: the server does not exit between launches
        self.tmux("new-session", "-d", "-s", "keep", "-x", str(COLS), "-y", str(ROWS), "sleep 86400")

    def tmux(self, *args: str, check: bool = True) -> str:
        # the server's environment is every session's: without PYTHONDONTWRITEBYTECODE, so that the
        # programs it runs cache bytecode as bench_env means them to (it stood in the app's
        # environment, and every launch compiled the workbench's modules again)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check, env=env)
        return out.stdout

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        # `exec` so that the pane's process is the program itself (its pid is the one we read)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(("BACKLINE_", "TERM", "COLORTERM")))
        cmd = f"env {exports} {' '.join(shlex.quote(c) for c in command)}" if exports else " ".join(map(shlex.quote, command))
        args = ("new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), f"exec {cmd}")
        try:
            self.tmux(*args)
        except subprocess.CalledProcessError:
            time.sleep(0.2)
            self.tmux(*args)

    def screen(self, name: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", name, check=False)

    def pid(self, name: str) -> int:
        return int(self.tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def keys(self, name: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", name, *keys, check=False)

    def kill(self, name: str) -> None:
        self.tmux("kill-session", "-t", name, check=False)

    def shutdown(self) -> None:
        self.tmux("kill-server", check=False)
        sock = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / self.socket
        sock.unlink(missing_ok=True)

    def wait_for(self, name: str, needle: str, timeout: float = 60.0, poll: float = 0.005) -> float | None:
        """Seconds until `needle` is on screen, or None on time-out."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if needle in self.screen(name):
                return time.perf_counter()
            time.sleep(poll)
        return None


def _launch_and_time(tm: Tmux, command: list[str], env: dict[str, str], needle: str) -> float | None:
    name = f"s{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    tm.start(name, command, env)
    seen = tm.wait_for(name, needle)
    tm.keys(name, "q")
    time.sleep(0.05)
    tm.kill(name)
    return None if seen is None else seen - started


def workbench_cmd(db: Path) -> list[str]:
    return [BACKLINE, "--db", str(db), "--config", str(config_path())]


def startup(db: Path, scale: int, runs: int = 5, log=print) -> list[Result]:
    env = bench_env(TERM="xterm-256color")
    tm = Tmux()
    ours: list[float] = []
    ref: list[float] = []
    try:
        # one untimed launch of each warms the OS page cache and Python's bytecode cache
        _launch_and_time(tm, [PY, str(BENCH / "minimal_app.py")], env, MARKER)
        _launch_and_time(tm, workbench_cmd(db), env, MARKER)
        for _ in range(runs):  # interleaved: a slow moment of the machine hits both alike
            r = _launch_and_time(tm, [PY, str(BENCH / "minimal_app.py")], env, MARKER)
            o = _launch_and_time(tm, workbench_cmd(db), env, MARKER)
            if r is not None:
                ref.append(r * 1000)
            if o is not None:
                ours.append(o * 1000)
    finally:
        tm.shutdown()
    if not ours or not ref:
        return [Result("start-up to first help rows", scale, None, "ms", f"≤ {START_RATIO}× minimal app", False,
                       note="the help queue never showed a HELP- row")]
    m, mr = median(ours), median(ref)
    return [Result(
        figure="start-up to first help rows", scale=scale, value=round(m, 1), unit="ms", reference=round(mr, 1),
        ratio=round(m / mr, 2), target=f"≤ {START_RATIO}× minimal app", passed=m <= START_RATIO * mr,
        note=f"median of {len(ours)}, tmux {COLS}×{ROWS}", samples=[round(x, 1) for x in ours],
    )]


IDLE_SECONDS = 3.0


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_while_idle(pid: int) -> float | None:
    before = _cpu_seconds(pid)
    time.sleep(IDLE_SECONDS)
    after = _cpu_seconds(pid)
    if before is None or after is None:
        return None
    return round((after - before) / IDLE_SECONDS * 100, 1)


def _vm(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def memory(db: Path, scale: int, log=print) -> list[Result]:
    """Peak RSS (VmHWM) of the running workbench after the help queue, every pane, a filter and
    scrolling; the minimal app's peak is the reference."""
    env = bench_env(TERM="xterm-256color")
    tm = Tmux()
    try:
        name = "mem"
        tm.start(name, workbench_cmd(db), env)
        if tm.wait_for(name, MARKER) is None:
            return [Result("peak RSS (VmHWM)", scale, None, "MB", f"≤ {RSS_LIMIT_MB:g} MB", False, note="no help rows")]
        pid = tm.pid(name)
        for key in ("2", "3", "4", "1"):
            tm.keys(name, key)
            time.sleep(1.5)
        tm.keys(name, "/")
        for ch in "timeout":
            tm.keys(name, ch)
            time.sleep(0.1)
        time.sleep(1.5)
        tm.keys(name, "Escape")
        tm.keys(name, "End")
        time.sleep(1.5)
        peak = _vm(pid, "VmHWM")
        idle = _cpu_while_idle(pid)
        tm.kill(name)
        tm.start("ref", [PY, str(BENCH / "minimal_app.py")], env)
        tm.wait_for("ref", MARKER)
        time.sleep(0.5)
        ref = _vm(tm.pid("ref"), "VmHWM")
        ref_idle = _cpu_while_idle(tm.pid("ref"))
        tm.kill("ref")
    finally:
        tm.shutdown()
    return [Result(
        figure="peak RSS (VmHWM)", scale=scale, value=None if peak is None else round(peak, 1), unit="MB",
        reference=None if ref is None else round(ref, 1),
        ratio=round(peak / ref, 2) if peak and ref else None, target=f"≤ {RSS_LIMIT_MB:g} MB",
        passed=None if peak is None else (peak <= RSS_LIMIT_MB if scale >= 1_000_000 else None),
        note="after panes 2,3,4,1, a filter and End",
    ), Result(
        figure="CPU while idle (help queue shown)", scale=scale, value=idle, unit="%", reference=ref_idle,
        ratio=None, target="—", passed=None, note=f"over {IDLE_SECONDS:g} s of no input, one core = 100 %",
    )]
