"""Jira first sync against jira820 (the Jira Data Center 8.20 emulator the tests use), next to
the emulator's own read rate measured in the same run.

* **first sync**: `sync_all` of the whole project (`project = JIRA820`) into an empty replica,
  as records (issues) per second; once with remote links read (one extra request per issue, how
  case links come back) and once without (`options.links = false`).
* **reference**: the same JQL, the same fields, pages of the same size, the pages after the
  first fetched with the same concurrency, by plain httpx: what reading costs before any mapping
  or writing. ratio = reference rate / our rate (> 1: slower than the raw read).

    .venv/bin/python bench/run.py --only jira
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import Result, median  # noqa: E402

JQL = "project = JIRA820"
PAGE = 100
CONCURRENCY = 4
#: a bigger project than jira820's default (356 issues): ~1,900 issues
SHAPE = {"standalone_per_module": 150, "history_per_module": 100}


def _raw_read(url: str, fields: list[str]) -> int:
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": "Bearer bench"}, timeout=60,
                      limits=httpx.Limits(max_connections=CONCURRENCY)) as http, ThreadPoolExecutor(CONCURRENCY) as pool:
        def page(start: int) -> dict:
            r = http.get("/rest/api/2/search", params={"jql": JQL + " ORDER BY updated ASC, key ASC",
                                                       "fields": ",".join(fields), "startAt": start, "maxResults": PAGE})
            r.raise_for_status()
            return r.json()

        first = page(0)
        got = len(first["issues"])
        for p in pool.map(page, range(PAGE, first["total"], PAGE)):
            got += len(p["issues"])
        return got


def run(log=print, runs: int = 3) -> list[Result]:
    import os

    from backline_tui.clock import Clock, parse_ts
    from backline_tui.config import Config, SourceConfig
    from backline_tui.storage import Replica
    from backline_tui.sync.engine import sync_all
    from backline_tui.sync.jira import JiraConnector
    from tests.jira_server import start_jira

    os.environ.setdefault("BACKLINE_BENCH_JIRA_TOKEN", "bench")
    tmp = Path(tempfile.mkdtemp(prefix="backline-jira-bench-"))
    server = start_jira(tmp / "jira", shape=SHAPE)
    try:
        def config(links: bool) -> Config:
            mapping = {"bug": {"query": JQL, "queue": "JIRA820",
                               "fields": {"priority_override": {"from": "priority", "map": {"Highest": "P1", "High": "P2"}}},
                               "options": {"links": links}}}
            return Config(me="bench", sources=[SourceConfig(
                name="eng", kind="jira", url=server.url, deployment="datacenter", concurrency=CONCURRENCY,
                token_env="BACKLINE_BENCH_JIRA_TOKEN", mapping=mapping)])

        probe = JiraConnector(config(True).sources[0], config(True))
        fields = probe._fetch_fields(probe._maps("bug"))
        probe.close()
        raw_rates, counts = [], []
        ours: dict[bool, list[float]] = {True: [], False: []}
        for i in range(runs):  # interleaved, so that load on the machine hits both alike
            t = time.perf_counter()
            n = _raw_read(server.url, fields)
            raw_rates.append(n / (time.perf_counter() - t))
            counts.append(n)
            for links in (False, True):
                replica = Replica(tmp / f"r-{i}-{links}.db")
                try:
                    t = time.perf_counter()
                    result = sync_all(replica, config(links), clock=Clock(parse_ts("2026-11-23T09:00:00Z")))
                    seconds = time.perf_counter() - t
                finally:
                    replica.close()
                if result.errors:
                    raise RuntimeError(result.errors[0])
                ours[links].append(result.pulled / seconds)
            log(f"    run {i + 1}: raw {raw_rates[-1]:.0f}/s, sync {ours[False][-1]:.0f}/s, "
                f"with links {ours[True][-1]:.0f}/s ({counts[-1]} issues)")
        raw = median(raw_rates)
        n = counts[-1]
        out = []
        for links, label in ((False, "Jira first sync (no remote links)"), (True, "Jira first sync (remote links read)")):
            rate = median(ours[links])
            out.append(Result(label, n, round(rate, 1), "issues/s", "—", None, reference=round(raw, 1),
                              ratio=round(raw / rate, 2),
                              note=f"median of {runs}; reference: the same JQL paged by plain httpx, "
                                   f"{CONCURRENCY} at a time", samples=[round(r, 1) for r in ours[links]]))
        return out
    finally:
        server.stop()


if __name__ == "__main__":
    for r in run():
        print(r)
