"""Backline benchmarks: the workbench measured the way people feel it, next to references
measured in the same run. `make bench` (or `python bench/run.py --help`).

Prints one table and writes it as JSON to bench/results/latest.json (and a Markdown copy,
bench/results/latest.md, for the README). Demo databases are generated once per
scale + seed + BACKLINE_NOW into bench/.data/ and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    PY, RESULTS, SCALES, BENCH, Result, bench_env, bench_now, config_path, demo_db, limit_check, scratch_copy,
)

GROUPS = ("startup", "queries", "ui", "ingest", "memory", "knowledge", "insights", "sync", "jira", "soak")
#: groups measured on each demo scale (sync, jira and soak bring their own data)
SCALED = ("startup", "queries", "ui", "ingest", "memory", "knowledge", "insights")
STALL_LIMIT_MS = 100.0
CLAIM_LIMIT_MS = 50.0


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import sqlite3

    import textual

    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": ram, "loadavg": os.getloadavg(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "textual": textual.__version__, "os": platform.platform()}


def ui(db, scale: int, runs: int, log=print) -> list[Result]:
    stalls: dict[str, list[float]] = {}
    claims: list[float] = []
    info: dict = {}
    for i in range(runs):
        copy = scratch_copy(db, f"ui-{scale}.db")  # the probe claims a request: work on a copy
        proc = subprocess.run([PY, str(BENCH / "ui_probe.py"), str(copy), str(config_path())],
                              env=bench_env(), capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            return [Result("longest event-loop stall", scale, None, "ms", f"≤ {STALL_LIMIT_MS:g} ms", False,
                           note=f"probe failed: {tail[:120]}")]
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        info = data
        for phase, ms in data["stall_ms"].items():
            stalls.setdefault(phase, []).append(ms)
        claims.append(data["claim_ms"])
    from common import median

    out = []
    for phase in ("switch panes", "scroll to the end", "filter", "claim"):
        vals = stalls.get(phase, [])
        m = median(vals) if vals else None
        note = f"median of {len(vals)} runs"
        if phase == "scroll to the end":
            note += f"; {info.get('biggest_pane')} pane, {info.get('biggest_rows') or 0:,} rows, {info.get('pages_turned')} pages"
        out.append(Result(f"longest stall: {phase}", scale, None if m is None else round(m, 1), "ms",
                          f"≤ {STALL_LIMIT_MS:g} ms", limit_check(m, STALL_LIMIT_MS), note=note, samples=vals))
    start = stalls.get("start", [])
    if start:
        out.append(Result("longest stall: start-up", scale, round(median(start), 1), "ms", f"≤ {STALL_LIMIT_MS:g} ms",
                          limit_check(median(start), STALL_LIMIT_MS), note="until the help rows show", samples=start))
    m = median(claims)
    out.append(Result("action: claim (c) to row updated", scale, round(m, 1), "ms", f"≤ {CLAIM_LIMIT_MS:g} ms",
                      limit_check(m, CLAIM_LIMIT_MS), note=f"median of {len(claims)} runs", samples=[round(c, 1) for c in claims]))
    return out


def fmt(v, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit == "rec/s":
        return f"{v:,.0f}"
    if isinstance(v, float) and v < 10:
        return f"{v:.2f}"
    return f"{v:,.1f}" if isinstance(v, float) else f"{v:,}"


def table(results: list[Result]) -> list[list[str]]:
    rows = [["figure", "scale", "median", "reference", "ratio", "target", "pass"]]
    for r in results:
        rows.append([
            r.figure, f"{r.scale:,}", f"{fmt(r.value, r.unit)} {r.unit}" if r.value is not None else "n/a",
            f"{fmt(r.reference, r.unit)} {r.unit}" if r.reference is not None else "—",
            f"{r.ratio:g}×" if r.ratio is not None else "—", r.target,
            {True: "pass", False: "FAIL", None: "—"}[r.passed],
        ])
    return rows


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) if i in (0, 5) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def markdown(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows[1:]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default=",".join(str(s) for s in SCALES), help="comma-separated case counts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups of {', '.join(GROUPS)}")
    ap.add_argument("--runs", type=int, default=15, help="start-up launches per program (interleaved)")
    ap.add_argument("--ui-runs", type=int, default=3, help="runs of the in-app probe")
    ap.add_argument("--rounds", type=int, default=40, help="timed calls per query figure")
    ap.add_argument("--sync-rounds", type=int, default=3, help="sync: raw reads and first syncs, alternated")
    ap.add_argument("--soak-seconds", type=int, default=180, help="soak: how long RT gets new help requests")
    ap.add_argument("--soak-interval", type=int, default=30, help="soak: the app's [sync] interval, seconds")
    ap.add_argument("--soak-every", type=float, default=20.0, help="soak: seconds between new help requests")
    ap.add_argument("--out", default=str(RESULTS / "latest.json"))
    args = ap.parse_args(argv)
    scales = [int(s.replace("_", "")) for s in args.scales.split(",") if s.strip()]
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        ap.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally blocks stop our tmux servers
    os.environ["BACKLINE_NOW"] = bench_now()
    os.environ.pop("BACKLINE_DB", None)
    os.environ.pop("BACKLINE_CONFIG", None)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results: list[Result] = []
    started = time.time()
    load_at_start = os.getloadavg()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def measure(group: str, scale: int, fn) -> None:
        """One group at one scale; a failure becomes a row of the table, not a lost run."""
        try:
            results.extend(fn())
        except Exception as exc:  # noqa: BLE001
            log(f"  {group} failed: {type(exc).__name__}: {exc}")
            results.append(Result(f"{group} (failed)", scale, None, "", "—", False, note=f"{type(exc).__name__}: {exc}"[:200]))
        # what is measured so far survives an interrupted run
        out.with_suffix(".partial.json").write_text(json.dumps([r.to_json() for r in results], indent=1))

    for scale in (scales if set(groups) & set(SCALED) else []):
        log(f"scale {scale:,} cases")
        db = demo_db(scale, args.seed, log)
        if "startup" in groups:
            import terminal

            log("  start-up (tmux) …")
            measure("start-up", scale, lambda: terminal.startup(db, scale, runs=args.runs, log=log))
        if "queries" in groups:
            import queries

            log("  pane queries …")
            measure("queries", scale, lambda: queries.run(db, scale, rounds=args.rounds, log=log))
        if "knowledge" in groups:
            import knowledge

            log("  related knowledge and pickers …")
            measure("knowledge", scale, lambda: knowledge.run(db, scale, args.seed, rounds=args.rounds, log=log))
        if "ui" in groups:
            log("  responsiveness and action latency (in-app probe) …")
            measure("in-app probe", scale, lambda: ui(db, scale, args.ui_runs, log))
        if "ingest" in groups:
            import ingest

            log("  ingest …")
            measure("ingest", scale, lambda: ingest.run(db, scale, args.seed, log))
        if "memory" in groups:
            import terminal

            log("  memory (tmux) …")
            measure("memory", scale, lambda: terminal.memory(db, scale, log))
        if "insights" in groups:
            import insights

            log("  insights (pane and report) …")
            measure("insights", scale, lambda: insights.run(db, scale, log=log))
    if "sync" in groups:  # one volume, independent of the demo scales
        import sync

        log("sync against a real Request Tracker …")
        measure("sync", 0, lambda: sync.run(log=log, rounds=args.sync_rounds))
    if "jira" in groups:
        import jira

        log("jira first sync against jira820 …")
        measure("jira", 0, lambda: jira.run(log))
    if "soak" in groups:
        import soak

        log(f"soak: the workbench open in tmux with live sync while RT gets new help requests ({args.soak_seconds} s) …")
        measure("soak", 0, lambda: soak.run(args.soak_seconds, args.soak_interval, args.soak_every, log=log))
    rows = table(results)
    print_table(rows)
    info = machine()
    info["loadavg_at_start"] = load_at_start
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "seconds": round(time.time() - started),
        "backline_now": bench_now(), "seed": args.seed, "scales": scales, "groups": groups, "machine": info,
        "results": [r.to_json() for r in results],
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")
    md = (f"Measured {doc['when']} on {info['nproc']} × {info['cpu']}, {info['ram_gb']} GB RAM "
          f"(Python {info['python']}, SQLite {info['sqlite']}, Textual {info['textual']}); "
          f"`BACKLINE_NOW={bench_now()}`, seed {args.seed}; load average "
          f"{load_at_start[0]:.1f} at the start, {info['loadavg'][0]:.1f} at the end "
          f"(other work on the machine slows every figure, the references alike).\n\n" + markdown(rows) + "\n")
    out.with_suffix(".md").write_text(md)
    failed = [r for r in results if r.passed is False]
    log(f"wrote {out} and {out.with_suffix('.md')} · {len(failed)} target(s) missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
