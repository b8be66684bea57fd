"""Knowledge in the flow of work: related knowledge of a request or case, and picker search.

The demo makes an article for every fifty cases (20,000 at a million). The issue asks for
100,000 articles next to a million cases, so this group works on a copy of the cached demo
database topped up with generated articles (same vocabulary and layout as the demo's, KCS states
in the demo's proportions) to ARTICLES, cached next to it.

Figures (thread CPU time, as in queries.py; wall clock in the note):
- related knowledge: `Workbench.related` (articles and answered requests) for help requests and
  cases picked evenly over the replica, one call each round;
- picker search: `Workbench.pick` for a bug (by ref, by number, by words), an article (words, ref)
  and a case (words, ref); it runs at every key typed in a picker, so its target is the pane
  filter's (10 ms).
"""

from __future__ import annotations

import random
import shutil
import time
from datetime import timedelta
from pathlib import Path

from common import DATA, Result, bench_now, config_path, db_key, percentile

ARTICLES = 100_000
P95_LIMIT_MS = 20.0  # related knowledge (the target)
PICK_LIMIT_MS = 10.0  # picker search, as the pane filter: it runs at every key
PICKS = [("bug", "proj-11"), ("bug", "1383"), ("bug", "PROJ-1383"), ("bug", "timeout retry"), ("article", "flux search"),
         ("article", "kb-1001"), ("case", "acme timeout"), ("case", "case-100123"),
         ("case", "a"), ("case", "ac")]  # the first keys typed


def knowledge_db(demo: Path, scale: int, seed: int, log=print) -> Path:
    """The demo database of `scale` with its articles topped up to ARTICLES (made once)."""
    path = DATA / f"{db_key(scale, seed)}-a{ARTICLES}.db"
    if path.exists():
        return path
    log(f"  topping the {scale:,}-case demo up to {ARTICLES:,} articles (cached in bench/.data) …")
    tmp = DATA / f"{path.stem}.tmp.db"
    shutil.copyfile(demo, tmp)
    _add_articles(tmp, seed)
    tmp.rename(path)
    return path


def _add_articles(db: Path, seed: int) -> None:
    from backline_tui.clock import parse_ts, to_ts
    from backline_tui.domain.vocabulary import KCS_STATES
    from backline_tui.storage import Replica
    from backline_tui.sync.demo import ANSWERS, ERRORS, PRODUCTS, PRODUCT_WEIGHTS, TRIGGERS, VERSIONS

    rnd = random.Random(seed * 7919)
    now = parse_ts(bench_now())
    r = Replica(db)
    have = r.scalar("SELECT COUNT(*) FROM articles")
    base = r.scalar("SELECT COALESCE(MAX(id), 0) FROM articles")
    rows = []
    for i in range(max(0, ARTICLES - have)):
        p = rnd.choices(list(PRODUCTS), weights=PRODUCT_WEIGHTS)[0]
        c = rnd.choice(PRODUCTS[p])
        v = rnd.choice(VERSIONS)
        title = f"{p} {c}: {rnd.choice(ERRORS)} {rnd.choice(TRIGGERS).format(v=v)}"
        body = (f"## Issue\n\n{title}.\n\n## Environment\n\n{p} {v}, {c}\n\n## Resolution\n\n"
                f"{rnd.choice(ANSWERS).format(p=p, c=c, e=rnd.choice(ERRORS), v=v)}\n\n## Cause\n\nUnder investigation.\n")
        state = rnd.choices(KCS_STATES, weights=[8, 10, 64, 18])[0]
        at = to_ts(now - timedelta(days=rnd.random() * 700))
        rows.append((f"KB-X{base + i + 1}", "demo", title, body, state, "alice", p, c, at, at))
    with r.transaction() as conn:
        conn.executemany(
            "INSERT INTO articles(ref, source, title, body, state, owner, product, component, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    r.conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
    r.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    r.close()


def _workbench(db: Path):
    from backline_tui.clock import Clock, parse_ts
    from backline_tui.config import load_config
    from backline_tui.workbench import Workbench

    return Workbench.open(db, load_config(config_path()), Clock(parse_ts(bench_now())))


def run(demo: Path, scale: int, seed: int, rounds: int = 40, log=print) -> list[Result]:
    db = knowledge_db(demo, scale, seed, log)
    wb = _workbench(db)
    conn = wb.replica.conn
    n_articles = wb.replica.scalar("SELECT COUNT(*) FROM articles")
    top_help = wb.replica.scalar("SELECT MAX(id) FROM help_requests")
    top_case = wb.replica.scalar("SELECT MAX(id) FROM cases")
    # records spread evenly over the replica (the newest and the oldest alike)
    helps = [conn.execute("SELECT ref FROM help_requests WHERE id >= ? ORDER BY id LIMIT 1",
                          (1 + k * top_help // rounds,)).fetchone()["ref"] for k in range(rounds)]
    cases = [conn.execute("SELECT ref FROM cases WHERE id >= ? ORDER BY id LIMIT 1",
                          (1 + k * top_case // rounds,)).fetchone()["ref"] for k in range(rounds)]
    figures = {
        "related knowledge of a help request": [lambda ref=ref: wb.related("help_request", ref) for ref in helps],
        "related knowledge of a case": [lambda ref=ref: wb.related("case", ref) for ref in cases],
        **{f"picker search {kind} “{text}”": [lambda k=kind, t=text: wb.pick(k, t)] * rounds for kind, text in PICKS},
    }
    for calls in figures.values():  # warm the page cache and the temp vocab tables
        calls[0]()
    cpu: dict[str, list[float]] = {k: [] for k in figures}
    wall: dict[str, list[float]] = {k: [] for k in figures}
    found: dict[str, int] = {k: 0 for k in figures}
    for i in range(rounds):
        for name, calls in figures.items():
            w0, c0 = time.perf_counter(), time.thread_time()
            out = calls[i]()
            cpu[name].append((time.thread_time() - c0) * 1000)
            wall[name].append((time.perf_counter() - w0) * 1000)
            found[name] += bool(out["articles"] if isinstance(out, dict) else out)
    wb.close()
    results = []
    for name in figures:
        p95 = percentile(cpu[name], 95)
        limit = PICK_LIMIT_MS if name.startswith("picker") else P95_LIMIT_MS
        note = (f"{n_articles:,} articles; thread CPU; wall p50 {percentile(wall[name], 50):.2f} ms, "
                f"p95 {percentile(wall[name], 95):.2f} ms; {found[name]}/{rounds} calls found something")
        results.append(Result(f"{name} (p95)", scale, p95, "ms", f"p95 ≤ {limit:g} ms at 1M",
                              p95 <= limit if scale >= 1_000_000 else None, note=note, samples=cpu[name]))
        log(f"    {name}: p95 {p95:.2f} ms ({note})")
    return results
