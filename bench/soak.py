"""The `soak` group: the workbench open in a real terminal (tmux, 120×40) for 3 minutes with a
background sync every 30 s against a private Request Tracker 5 on 127.0.0.1, while help
requests are created in RT through REST every ~20 s.

- RT starts from the seeded test template (tests/rt_server.py; cached in bench/.data/), gets a
  few P3 help requests, and a fresh replica is synced from it once before the app opens, so the
  first page has rows. The config has that one RT source and `[sync] interval`.
- `backline` opens in tmux with BACKLINE_STALL_PROBE set: the app's stall probe
  (backline_tui/stall_probe.py, a 10 ms timer started once the first page is on screen)
  records how late each tick ran, and writes the worst, a histogram and the longest few with
  their times when the app exits.
- Every `--every` seconds for `--seconds` a P3 help request with a distinct subject is created
  (P3: no urgent toast can show its subject before the row does); `tmux capture-pane` is read
  ~4 times a second until each subject is on screen: the delay from its creation to the screen
  is bounded by the interval plus one sync. Then `q` quits the app; it must end on its own.
- Figures: rows created and seen, creation-to-screen delays (median, max), the longest stall
  (and the stalls ≥ 50 ms set against the syncs of the replica's sync_log), the time `q` took,
  and the resident memory at the first page and at the end.

    .venv/bin/python bench/run.py --only soak
    .venv/bin/python bench/soak.py --seconds 60 --interval 10 --every 15   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from common import BACKLINE, DATA, Result, bench_env, demo_db, median  # noqa: E402
from terminal import Tmux, _cpu_seconds, _vm  # noqa: E402

STALL_LIMIT_MS = 100.0
SLACK_S = 10.0  # a row may take the interval plus one sync and a reload to show
SEEDS = 3
PW_ENV = "BACKLINE_SOAK_RT_PW"
POLL = 0.25


def _config(path: Path, url: str, interval: int) -> None:
    path.write_text(
        'me = "alice"\n\n[sync]\n'
        f"interval = {interval}\nbell = false\n\n"
        '[[sources]]\nname = "rt"\nkind = "rt"\n'
        f'url = "{url}"\nuser = "alice"\npassword_env = "{PW_ENV}"\n',
        encoding="utf-8")


def _help(client, subject: str) -> int:
    return client.create_ticket("Backline Help", subject, "soak benchmark", {"HelpPriority": "P3", "Asker": "fl.soak"})


def _syncs(db: Path, since: float) -> list[tuple[float, float, str | None]]:
    """(start, end, error) of each sync the replica logged after `since` (epoch seconds)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT started_at, finished_at, error FROM sync_log ORDER BY id").fetchall()
    finally:
        con.close()

    def epoch(ts: str) -> float:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()

    out = [(epoch(s), epoch(f) if f else epoch(s), e) for s, f, e in rows]
    return [r for r in out if r[0] >= since]


def run(seconds: int = 180, interval: int = 30, every: float = 20.0, demo_cases: int = 10_000, log=print,
        keep: bool = False) -> list[Result]:
    from backline_tui.clock import Clock
    from backline_tui.config import load_config
    from backline_tui.workbench import Workbench
    from tests.rt_server import RTServer, prepare_template, rt_missing_reason

    reason = rt_missing_reason()
    if reason:
        return [Result("soak (RT not available)", 0, None, "", "—", None, note=reason.splitlines()[0][:200])]
    work = Path(tempfile.mkdtemp(prefix="backline-soak-"))
    server = RTServer(work / "rt", template=prepare_template(DATA / "rt-template"))
    server.start()
    tm: Tmux | None = None
    try:
        os.environ[PW_ENV] = server.alice.password
        config, db, probe = work / "config.toml", work / "replica.db", work / "stalls.json"
        _config(config, server.url, interval)
        # letters only: the filter typed below must match the soak's subjects and nothing of the demo
        tag = "".join(random.choices("bcdfghjklmnpqrstvwxz", k=6))
        if demo_cases:
            shutil.copyfile(demo_db(demo_cases, 1, log), db)
        with server.client("bob") as bob:
            for i in range(SEEDS):
                _help(bob, f"Soak seed {i} {tag}")
        wb = Workbench.open(db, load_config(config), Clock())
        try:
            first = wb.sync()
        finally:
            wb.close()
        if first.errors or first.pulled < SEEDS:
            raise RuntimeError(f"the first sync failed: {first.errors[:1] or first.pulled}")

        env = bench_env(TERM="xterm-256color", BACKLINE_STALL_PROBE=str(probe),
                        BACKLINE_LOG_FILE=str(work / "backline.log"), **{PW_ENV: server.alice.password})
        env["BACKLINE_NOW"] = ""  # the real clock: tickets are made now (an empty value pins nothing)
        tm = Tmux()
        name = f"soak-{uuid.uuid4().hex[:8]}"
        tm.start(name, [BACKLINE, "--db", str(db), "--config", str(config)], env)
        if tm.wait_for(name, "HELP-" if demo_cases else f"Soak seed 0 {tag}", timeout=60) is None:
            raise RuntimeError("the first page never showed:\n" + tm.screen(name)[-600:])
        opened = time.time()
        pid = tm.pid(name)
        # a filter on the soak's own rows, as someone watching a few requests would type it: it
        # stays through every background sync's reload
        tm.keys(name, "/")
        time.sleep(0.3)
        tm.keys(name, "-l", tag)
        tm.keys(name, "Enter")
        if tm.wait_for(name, f"Soak seed 0 {tag}", timeout=30) is None:
            raise RuntimeError(f"the filter {tag!r} never showed the seeded requests:\n" + tm.screen(name)[-600:])
        rss = {"the filtered first page": _vm(pid, "VmRSS")}
        cpu_start = _cpu_seconds(pid)
        log(f"    workbench open (pid {pid}); a help request every {every:g} s for {seconds} s, "
            f"background sync every {interval} s …")

        created: dict[str, float] = {}  # subject -> when its ticket existed (perf_counter)
        seen: dict[str, float] = {}  # subject -> delay to screen (s)
        bob = server.client("bob")
        began = time.perf_counter()
        last_made = began
        n = 0
        deadline = began + seconds
        try:
            while True:
                now = time.perf_counter()
                if now < deadline and now >= began + n * every:
                    subject = f"Soak {n + 1:02d} {tag}"
                    _help(bob, subject)
                    created[subject] = last_made = time.perf_counter()
                    n += 1
                screen = tm.screen(name)
                t = time.perf_counter()
                for s in created.keys() - seen.keys():
                    if s in screen:
                        seen[s] = t - created[s]
                        rss.setdefault("first new row", _vm(pid, "VmRSS"))  # the warm-up and a sync done
                        log(f"      {s}: on screen {seen[s]:.1f} s after it was created")
                if t >= deadline and len(seen) == len(created):
                    break
                if t >= max(deadline, last_made + interval + SLACK_S + 20):
                    break  # what is still missing never showed
                time.sleep(POLL)
        finally:
            bob.close()
        rss["end"], cpu_end = _vm(pid, "VmRSS"), _cpu_seconds(pid)
        soak_s = time.time() - opened

        t = time.perf_counter()
        tm.keys(name, "q")
        quit_s = None
        while time.perf_counter() - t < 15:
            if not _alive(pid):
                quit_s = time.perf_counter() - t
                break
            time.sleep(0.05)
        if quit_s is None:
            log("    the app did not end on `q` within 15 s; its screen, its threads, then their Python stacks:")
            log(tm.screen(name).rstrip()[-1200:])
            session = subprocess.run(["tmux", "-L", tm.socket, "has-session", "-t", name], capture_output=True).returncode
            log(f"    tmux session {'there' if session == 0 else 'gone'}; " + ", ".join(_threads(pid)))
            os.kill(pid, signal.SIGUSR1)  # the stall probe has faulthandler write the stacks
            time.sleep(1.0)
            stacks = Path(f"{probe}.stacks")
            log(stacks.read_text()[-4000:] if stacks.exists() else "    (no stacks written)")
            tm.kill(name)
            keep = True
        stalls = json.loads(probe.read_text()) if probe.exists() else None
        if stalls:
            for h in stalls.get("held", []):
                log(f"    loop held {h['held_ms']:g} ms at +{h['at'] - stalls['started']:.1f} s; the threads then "
                    "(innermost frame first):")
                for thread, frames in h["threads"].items():
                    log(f"      {thread}: " + " < ".join(reversed(frames[-4:])))
        syncs = _syncs(db, opened)
    finally:
        if tm is not None:
            tm.shutdown()
        server.stop()
    out = _results(demo_cases, created, seen, stalls, syncs, interval, every, soak_s, quit_s, rss,
                   None if cpu_start is None or cpu_end is None else (cpu_end - cpu_start) / soak_s * 100, log)
    if keep or any(r.passed is False for r in out):
        log(f"    kept {work} (the replica, the config, stalls.json, backline.log, RT's data)")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _threads(pid: int) -> list[str]:
    """Each thread of `pid`: its name, state and the kernel function it waits in."""
    out = []
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")):
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            out.append(f"{(task / 'comm').read_text().strip()} {state} {(task / 'wchan').read_text().strip() or '-'}")
        except OSError:
            continue
    return out or ["(no threads: the process is gone)"]


def _alive(pid: int) -> bool:
    """Still running: a zombie has ended (tmux may take its time to reap the pane's process)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _results(scale, created, seen, stalls, syncs, interval, every, soak_s, quit_s, rss, cpu_pct,
             log) -> list[Result]:
    delays = sorted(seen.values())
    missing = sorted(created.keys() - seen.keys())
    note = (f"{soak_s:.0f} s open, a help request every {every:g} s, sync every {interval} s, "
            f"replica: {f'{scale:,} demo cases + ' if scale else ''}RT; a filter on the soak's rows")
    out = [Result("soak: new RT rows on screen", scale, len(seen), "rows", f"all {len(created)}",
                  bool(created) and not missing, note=note + (f"; never shown: {', '.join(missing)}" if missing else ""))]
    limit = interval + SLACK_S
    out.append(Result("soak: RT ticket created to row on screen, median", scale,
                      round(median(delays), 1) if delays else None, "s", f"≤ {interval} s + one sync", None,
                      samples=[round(d, 1) for d in delays]))
    out.append(Result("soak: RT ticket created to row on screen, max", scale, round(delays[-1], 1) if delays else None,
                      "s", f"≤ {limit:g} s", bool(delays) and delays[-1] <= limit,
                      note=f"syncs during the soak: {len(syncs)}, "
                           f"{sum(1 for s in syncs if s[2])} failed, longest {max((e - s for s, e, _ in syncs), default=0):.0f} s "
                           "(sync_log holds whole seconds)"))
    if stalls is None:
        out.append(Result("soak: longest event-loop stall", scale, None, "ms", f"≤ {STALL_LIMIT_MS:g} ms", False,
                          note="the stall probe wrote nothing"))
    else:
        worst = stalls["worst_ms"]
        over = stalls.get("over_50ms", [])

        def during_sync(at: float) -> bool:  # sync_log holds whole seconds
            return any(s - 0.5 <= at <= e + 1.5 for s, e, _ in syncs)

        in_sync = sum(1 for x in over if during_sync(x["at"]))
        hist = ", ".join(f"{k}: {v}" for k, v in stalls["histogram_ms"].items() if v)
        def gap(x: dict) -> str:
            if x.get("loop_ran_ms", -1) < 0:
                return ""
            return (f" [loop thread ran {x['loop_ran_ms']:g}, waited for a CPU {x['loop_waited_ms']:g}; "
                    f"process CPU {x['process_cpu_ms']:g} ms]")

        top = ", ".join(f"{x['ms']:g} at +{x['at'] - stalls['started']:.0f} s" + (" (sync)" if during_sync(x["at"]) else "")
                        + gap(x) for x in stalls["top"][:5])
        # what the watchdog saw while the longest hold lasted (it samples once the loop is 50 ms late)
        worst_at = stalls["top"][0]["at"] if stalls["top"] else 0
        held = [h for h in stalls.get("held", []) if worst_at - worst / 1000 - 0.05 <= h["at"] <= worst_at + 0.05]
        if held:
            busy = {t: " < ".join(reversed(f[-3:])) for t, f in held[0]["threads"].items() if t == "loop" or "sync" in t}
            top += "; during the longest: " + "; ".join(f"{t}: {f}" for t, f in busy.items())
        gc_ms = stalls["gc_longest_ms"]
        out.append(Result(
            "soak: longest event-loop stall", scale, worst, "ms", f"≤ {STALL_LIMIT_MS:g} ms", worst <= STALL_LIMIT_MS,
            note=(f"{stalls['ticks']:,} ticks of {stalls['tick_ms']:g} ms; longest: {top}; histogram {hist}; "
                  f"{len(over)} ≥ 50 ms, {in_sync} of them during a sync; longest gc pause (gen 0/1/2) "
                  f"{gc_ms['0']}/{gc_ms['1']}/{gc_ms['2']} ms"),
            samples=[x["ms"] for x in stalls["top"]]))
    out.append(Result("soak: `q` to the process gone", scale, None if quit_s is None else round(quit_s, 2), "s", "≤ 5 s",
                      quit_s is not None and quit_s <= 5, note="killed after 15 s" if quit_s is None else ""))
    # from the first new row on screen (the warm-up imports and one sync behind it) to the end
    base = rss.get("first new row") or rss["the filtered first page"]
    growth = None if base is None or rss["end"] is None else round(rss["end"] - base, 1)
    cpu = "n/a" if cpu_pct is None else f"{cpu_pct:.1f} %"
    out.append(Result("soak: resident memory growth after the first sync", scale, growth, "MB", "—", None,
                      note="VmRSS " + ", ".join(f"{v:.1f} MB at {k}" for k, v in rss.items() if v is not None)
                           + f"; CPU {cpu} of a core over the soak"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=180, help="how long help requests are created")
    ap.add_argument("--interval", type=int, default=30, help="[sync] interval of the app, seconds")
    ap.add_argument("--every", type=float, default=20.0, help="seconds between new help requests")
    ap.add_argument("--demo-cases", type=int, default=10_000,
                    help="the replica starts as the cached demo of this many cases (0: only what RT holds)")
    ap.add_argument("--keep", action="store_true", help="keep the working folder (replica, probe file, logs)")
    args = ap.parse_args()
    os.environ.pop("BACKLINE_DB", None)
    os.environ.pop("BACKLINE_CONFIG", None)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    from run import print_table, table

    results = run(args.seconds, args.interval, args.every, args.demo_cases, log, keep=args.keep)
    print_table(table(results))
    for r in results:
        if r.note:
            print(f"{r.figure}: {r.note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
