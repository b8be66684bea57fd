"""Side by side in one run: the upstream's raw read, and a first sync by the code of another
commit and by this tree, alternated round by round on one private RT (the cached fill of
bench/sync.py), each sync in its own process into an empty replica. Prints one JSON line per
measurement: seconds, records pulled, when every open record was in the replica ("open"), and
the no-op sync after it.

    .venv/bin/python bench/sync_compare.py --against <commit> [--rounds 2] [--help-requests 1000 ...]

On a shared machine the load moves between measurements: read the rounds side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from sync import DEFAULT_VOLUME, raw_read, rt_data  # noqa: E402

QUEUES = {"bug": "Backline Bugs", "case": "Backline Cases", "help_request": "Backline Help"}

ONE_SYNC = """
import json, sys, time
tree, url, db, env, wanted = sys.argv[1:6]
sys.path.insert(0, tree)
import backline_tui
assert backline_tui.__file__.startswith(tree), backline_tui.__file__
from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.workbench import Workbench
config = Config(me="alice", sources=[SourceConfig(name="rt", kind="rt", url=url, user="alice", password_env=env)])
wanted = set(json.loads(wanted))
wb = Workbench.open(db, config, Clock())
marks = {}
def progress(stage, done, total):
    if "open" in marks or stage not in ("pull", "open work"):
        return
    have = {r["ref"] for t in ("help_requests", "cases", "bugs") for r in wb.replica.conn.execute(f"SELECT ref FROM {t}").fetchall()}
    if wanted <= have:
        marks["open"] = time.perf_counter() - t0
t0 = time.perf_counter()
first = wb.sync(progress=progress)
seconds = time.perf_counter() - t0
assert not first.errors, first.errors
t1 = time.perf_counter()
wb.sync()
print(json.dumps({"seconds": round(seconds, 1), "pulled": first.pulled, "open": round(marks.get("open", seconds), 1),
                  "noop_ms": round((time.perf_counter() - t1) * 1000, 1)}))
"""


def main() -> int:
    from tests.rt_server import RTServer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", required=True, help="the commit to compare this tree with")
    ap.add_argument("--rounds", type=int, default=2)
    for k, n in DEFAULT_VOLUME.items():
        ap.add_argument(f"--{k.replace('_', '-')}", type=int, default=n)
    args = ap.parse_args()
    cache = rt_data({k: getattr(args, k) for k in DEFAULT_VOLUME}, log=lambda m: print(m, file=sys.stderr))
    work = Path(tempfile.mkdtemp(prefix="backline-sync-compare-"))
    other = work / "other"
    other.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.against], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(other)], input=archive, check=True)
    trees = {args.against: other, "this tree": ROOT}
    server = RTServer(work / "rt", template=cache)
    server.start()
    try:
        os.environ["BACKLINE_BENCH_RT_PW"] = server.alice.password
        with server.client("alice") as c:
            wanted = sorted({f"RT#{t['id']}" for q in QUEUES.values()
                             for t in c.search_tickets(f"Queue = '{q}' AND Status = '__Active__'", fields="id", per_page=100)})
        for i in range(args.rounds):
            raw = raw_read(server.url, "alice", server.alice.password, QUEUES, server.article_class)
            print(json.dumps({"round": i, "what": "raw read", "seconds": round(raw["seconds"], 1),
                              "records": raw["records"], "load": os.getloadavg()[0]}), flush=True)
            names = list(trees) if i % 2 == 0 else list(reversed(trees))
            for name in names:
                started = time.perf_counter()
                out = subprocess.run([sys.executable, "-c", ONE_SYNC, str(trees[name]), server.url,
                                      str(work / f"{i}-{len(name)}.db"), "BACKLINE_BENCH_RT_PW", json.dumps(wanted)],
                                     capture_output=True, text=True)
                if out.returncode:
                    print(out.stderr[-2000:], file=sys.stderr)
                    return 1
                print(json.dumps({"round": i, "what": name, **json.loads(out.stdout.strip().splitlines()[-1]),
                                  "process_s": round(time.perf_counter() - started, 1), "load": os.getloadavg()[0]}),
                      flush=True)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
