"""The `sync` group: Backline's RT connector against a real Request Tracker 5 on 127.0.0.1, next to
the upstream's own raw read rate measured in the same run.

- Volume: a filled RT (help requests, cases, bugs, articles, answers), made once through RT's
  REST API and cached in bench/.data/rt-<volume>/ (its SQLite database and marker files, as
  tests/rt_server.py's template); a run starts a private RT from a copy of it.
- Raw read: plain httpx, 4 requests at a time (the connector's WORKERS), reading what the
  connector reads: each stream's transaction feed (every page), the tickets with the connector's
  fields in 25-id searches, the text attachments (text types only) of Create/Correspond/Comment transactions in
  100-id searches, and the articles. Pages after the first of a feed are fetched in parallel
  (4 at a time, until an empty one: RT gives a non-superuser no page count there); then every
  search of every kind goes into one queue, 4 in flight, no kind waiting for another to end:
  the upstream's limit, not the connector's.
- First sync into an empty replica (`Workbench.sync()`), in records/s and as a ratio to raw;
  and when its open work is usable: the seconds until every open ticket of every kind (RT's
  ``Status = '__Active__'``) is in the replica, and their ratio to the raw read's seconds.
- Raw read and first sync alternate, `rounds` of each (3 by default, in the order raw, sync |
  sync, raw | raw, sync), each sync into a new empty replica: a figure is the median of its
  rounds, and the ratio is that of the medians. One of each varied 35–60 s on this 2-core
  machine from one run to the next (RT's own CPU is the wall, and it drifts).
- No-op sync (nothing changed).
- Change to replica: a ticket's subject changed through REST, then one sync; from the change
  request to the change readable in the replica.
- Profile: a second first sync into another empty replica, with a timer on every request the
  connector's client makes and the CPU time of this process; printed to stderr and kept in the
  result's note.

    .venv/bin/python bench/run.py --only sync
    .venv/bin/python bench/sync.py [--help-requests 1000 --cases 1500 --bugs 100 --articles 150]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from common import DATA, Result  # noqa: E402

FILL_VERSION = 2  # bump when fill() changes: the cached RT is keyed by it
#: of what fill() makes, the share closed (a help desk's history is mostly closed work): resolved
#: help requests and cases, fixed bugs; the rest is the open work a backliner needs first
CLOSED = {"help_requests": 0.8, "cases": 0.8, "bugs": 0.5}
WORKERS = 4
DEFAULT_VOLUME = {"help_requests": 1000, "cases": 1500, "bugs": 100, "articles": 150}
PRODUCTS = {"Widget": ("Editor", "Sync", "Export"), "Gadget": ("API", "Auth"), "Sprocket": ("Core", "UI")}


def _volume_key(v: dict[str, int]) -> str:
    return f"rt-h{v['help_requests']}-c{v['cases']}-b{v['bugs']}-a{v['articles']}-f{FILL_VERSION}"


def fill(server, v: dict[str, int], log=print) -> dict[str, int]:
    """Fill RT through REST, 4 requests at a time: bugs, cases (a third refer to a bug), help
    requests (linked to a case; 60% answered once, a quarter of those twice, a third of the
    answered resolved), validated and draft articles."""
    import random

    rnd = random.Random(1)
    clients = [server.client("alice") for _ in range(WORKERS)]
    pool = ThreadPoolExecutor(WORKERS)
    done = {"n": 0}
    lock = threading.Lock()

    def run(what, fn, n):
        started = time.perf_counter()

        def one(i):
            out = fn(clients[i % WORKERS], i)
            with lock:
                done["n"] += 1
            return out

        out = list(pool.map(one, range(n)))
        log(f"    {what}: {n:,} in {time.perf_counter() - started:.0f} s")
        return out

    prods = [(p, c) for p in PRODUCTS for c in PRODUCTS[p]]
    pick = [prods[rnd.randrange(len(prods))] for _ in range(max(v.values()))]
    bugs = run("bugs", lambda c, i: c.create_ticket(
        "Backline Bugs", f"{pick[i][0]} {pick[i][1]}: failure {i}", f"Steps for bug {i}.",
        {"Severity": f"S{1 + i % 4}", "Product": pick[i][0], "Component": pick[i][1]}), v["bugs"])
    cases = run("cases", lambda c, i: c.create_ticket(
        "Backline Cases", f"{pick[i][0]} {pick[i][1]} stops after upgrade ({i})", f"Customer report {i}: it stops.",
        {"Severity": f"S{1 + i % 4}", "Customer": f"Customer {i % 97}", "CustomerTier": ("enterprise", "business", "standard")[i % 3],
         "Product": pick[i][0], "Component": pick[i][1], "Version": f"2.{i % 5}"}, status="open",
        extra={"RefersTo": [bugs[i % len(bugs)]]} if bugs and i % 3 == 0 else None), v["cases"])
    helps = run("help requests", lambda c, i: c.create_ticket(
        "Backline Help", f"How do I recover {pick[i][1]} after a crash? ({i})", f"Question {i}: the customer asks how.",
        {"HelpPriority": f"P{1 + i % 4}", "Asker": f"fl.asker{i % 40}", "Product": pick[i][0], "Component": pick[i][1],
         **({"LinkedCase": str(cases[i % len(cases)])} if cases else {})}), v["help_requests"])
    answered = [h for i, h in enumerate(helps) if i % 5 < 3]
    run("answers", lambda c, i: c.correspond(answered[i], f"Answer {i}: restart the service, then resync."), len(answered))
    twice = answered[::4]
    run("second answers", lambda c, i: c.correspond(twice[i], f"Follow-up {i}: and clear the cache."), len(twice))
    resolved = answered[::3]
    run("resolutions", lambda c, i: c.update_ticket(resolved[i], {"Status": "resolved"}), len(resolved))
    run("articles", lambda c, i: c.create_article(
        "Backline KB", f"Recovering {pick[i][1]} after a crash ({i})", "", f"## Issue\n\nText {i}",
        {"KCSState": "validated" if i % 4 else "wip", "Flags": json.dumps([])}), v["articles"])
    pool.shutdown()
    for c in clients:
        c.close()
    made = {"tickets": len(bugs) + len(cases) + len(helps), "articles": v["articles"],
            "answers": len(answered) + len(twice), "resolved": len(resolved)}
    return made | close_history(server, {"bugs": bugs, "cases": cases, "help_requests": helps}, set(resolved), log)


def close_history(server, tickets: dict[str, list[int]], resolved: set[int], log=print) -> dict[str, int]:
    """Resolve the CLOSED share of each kind (spread evenly over it; those resolved already count),
    so that the open work is a fifth of the tickets, as in a help desk with a history."""
    todo = [t for kind, ids in tickets.items() for i, t in enumerate(ids) if (i % 10) < round(CLOSED[kind] * 10)]
    todo = [t for t in todo if t not in resolved]
    clients = [server.client("alice") for _ in range(WORKERS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda i: clients[i % WORKERS].update_ticket(todo[i], {"Status": "resolved"}), range(len(todo))))
    for c in clients:
        c.close()
    log(f"    closed history: {len(todo):,} more resolved in {time.perf_counter() - started:.0f} s")
    return {"resolved": len(resolved) + len(todo), "open": sum(len(ids) for ids in tickets.values()) - len(resolved) - len(todo)}


def rt_data(v: dict[str, int], log=print) -> Path:
    """The cached, filled RT data (made once: init + seed + fill, then the server stopped)."""
    from tests.rt_server import _TEMPLATE_FILES, RTServer, prepare_template

    cache = DATA / _volume_key(v)
    if all((cache / n).exists() for n in _TEMPLATE_FILES) and (cache / "fill.json").exists():
        return cache
    work = Path(tempfile.mkdtemp(prefix="backline-rt-fill-"))
    v1 = DATA / _volume_key(v).replace(f"-f{FILL_VERSION}", "-f1")
    if FILL_VERSION == 2 and (v1 / "fill.json").exists():  # fill 2 is fill 1 with most history closed
        log(f"  closing history in the cached {v1.name} (fill 2 = fill 1 + close_history) …")
        server = RTServer(work / "rt", template=v1)
        server.start()
        try:
            started = time.perf_counter()
            made = json.loads((v1 / "fill.json").read_text()) | _close_cached(server, log)
            seconds = made.pop("seconds") + time.perf_counter() - started
        finally:
            server.stop()
    else:
        log(f"  filling a Request Tracker ({', '.join(f'{n:,} {k}' for k, n in v.items())}); cached in "
            f"{cache.relative_to(BENCH.parent)} …")
        server = RTServer(work / "rt", template=prepare_template(work / "template"))
        server.start()
        try:
            started = time.perf_counter()
            made = fill(server, v, log)
            seconds = time.perf_counter() - started
        finally:
            server.stop()
    tmp = cache.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for n in _TEMPLATE_FILES:
        shutil.copy2(work / "rt" / n, tmp / n)
    (tmp / "fill.json").write_text(json.dumps({"seconds": round(seconds, 1), **made, **v}))
    shutil.rmtree(cache, ignore_errors=True)
    tmp.rename(cache)
    shutil.rmtree(work, ignore_errors=True)
    log(f"  filled in {seconds:.0f} s")
    return cache


def _close_cached(server, log=print) -> dict[str, int]:
    """close_history over an RT filled by fill 1: its tickets by kind in creation order."""
    queues = {"bugs": "Backline Bugs", "cases": "Backline Cases", "help_requests": "Backline Help"}
    with server.client("alice") as c:
        tickets = {kind: sorted(int(t["id"]) for t in c.search_tickets(f"Queue = '{q}'", fields="id", per_page=100))
                   for kind, q in queues.items()}
        resolved = {int(t["id"]) for t in c.search_tickets("Status = 'resolved'", fields="id", per_page=100)}
    return close_history(server, tickets, resolved, log)


# -- the upstream's raw read rate ---------------------------------------------------------------


def raw_read(url: str, user: str, password: str, queues: dict[str, str], kb_class: str) -> dict:
    """Everything the connector's first sync reads, with plain httpx, 4 requests at a time."""
    import httpx

    from backline_tui.sync.rt import pull as conn  # the field lists only: what the connector asks for

    local = threading.local()
    stats = {"requests": 0, "bytes": 0}
    lock = threading.Lock()

    def client() -> httpx.Client:
        c = getattr(local, "c", None)
        if c is None:
            c = local.c = httpx.Client(base_url=url.rstrip("/") + "/REST/2.0", auth=(user, password),
                                       headers={"Accept": "application/json"}, timeout=120)
        return c

    def call(method: str, path: str, params: dict, body=None) -> dict:
        r = client().request(method, path, params=params, json=body)
        r.raise_for_status()
        with lock:
            stats["requests"] += 1
            stats["bytes"] += len(r.content)
        return r.json()

    pool = ThreadPoolExecutor(WORKERS)

    def all_pages(method: str, path: str, params: dict, body=None, pool=None) -> list[dict]:
        """Every page. RT gives a non-superuser no page count on some collections (transactions):
        then pages are asked for 4 at a time until one comes back empty."""
        first = call(method, path, {**params, "page": 1}, body)
        items = list(first.get("items") or [])
        if first.get("pages") is not None or pool is None:
            pages = int(first.get("pages") or 1)
            for page in (pool.map if pool else map)(lambda p: call(method, path, {**params, "page": p}, body),
                                                     range(2, pages + 1)):
                items += page.get("items") or []
            return items
        page = 2
        while first.get("items"):
            got = list(pool.map(lambda p: call(method, path, {**params, "page": p}, body), range(page, page + WORKERS)))
            for g in got:
                items += g.get("items") or []
            if any(not g.get("items") for g in got):
                break
            page += WORKERS
        return items

    def feed(query: str, fields: str) -> list[dict]:
        return all_pages("GET", "/transactions", {"query": query, "fields": fields, "per_page": 100,
                                                  "orderby": "id", "order": "ASC"}, pool=pool)

    # The upstream's limit: the feeds first (their pages 4 at a time), then every ticket search,
    # attachment search and article search of every kind in one queue, 4 in flight, no kind
    # waiting for another to finish
    started = time.perf_counter()
    jobs = []
    for kind in ("bug", "case", "help_request"):
        txns = feed(f"ObjectType = 'RT::Ticket' AND TicketQueue = '{queues[kind]}' AND id > 0", conn.TXN_FIELDS)
        ids = sorted({int(t["ObjectId"]) for t in txns})
        msg_txns = [int(t["id"]) for t in txns if t.get("Type") in conn.MESSAGE_TYPES]
        fields = conn.TICKET_FIELDS + (",_hyperlinks" if kind in ("case", "help_request") else "")
        jobs += [("tickets", partial(all_pages, "GET", "/tickets", {
            "query": " OR ".join(f"id = {t}" for t in part), "fields": fields, "per_page": 100,
            "orderby": "id", "order": "ASC"})) for part in
            (ids[i : i + conn.PARALLEL_CHUNK] for i in range(0, len(ids), conn.PARALLEL_CHUNK))]
        jobs += [("attachments", partial(all_pages, "POST", "/attachments", {
            "fields": conn.ATT_FIELDS, "per_page": 100, "orderby": "id", "order": "ASC"},
            [{"field": "TransactionId", "operator": "=", "value": t, "entry_aggregator": "OR"} for t in chunk]
            + [{"field": "ContentType", "operator": "STARTSWITH", "value": "text/"}])) for chunk in
            (msg_txns[i : i + conn.CHUNK] for i in range(0, len(msg_txns), conn.CHUNK))]
    atxns = feed("ObjectType = 'RT::Article' AND id > 0", "Type,ObjectId,Created")
    aids = sorted({int(t["ObjectId"]) for t in atxns})
    jobs += [("articles", partial(all_pages, "POST", "/articles", {"fields": conn.ARTICLE_FIELDS, "per_page": 100},
                                  [{"field": "id", "operator": "=", "value": a, "entry_aggregator": "OR"} for a in part]))
             for part in (aids[i : i + conn.PARALLEL_CHUNK] for i in range(0, len(aids), conn.PARALLEL_CHUNK))]
    records = sum(len(items) for what, items in zip([w for w, _ in jobs], pool.map(lambda job: job[1](), jobs))
                  if what in ("tickets", "articles"))
    seconds = time.perf_counter() - started
    pool.shutdown()
    return {"seconds": seconds, "records": records, **stats, "kb_class": kb_class}


# -- profile of the connector's requests ----------------------------------------------------------


class RequestTimer:
    """Times every request RTClient makes (bench-side wrapper of its one request method)."""

    def __init__(self) -> None:
        self.by: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()

    def install(self):
        from backline_tui.sync.rt import client as rt_client

        original = rt_client.RTClient._request
        timer = self

        def timed(self, method, path, *args, **kwargs):
            t = time.perf_counter()
            try:
                return original(self, method, path, *args, **kwargs)
            finally:
                key = f"{method} /{path.strip('/').split('/')[0]}"
                with timer.lock:
                    timer.by[key].append(time.perf_counter() - t)

        rt_client.RTClient._request = timed
        return lambda: setattr(rt_client.RTClient, "_request", original)

    def summary(self) -> str:
        rows = sorted(self.by.items(), key=lambda kv: -sum(kv[1]))
        return "; ".join(f"{k}: {len(v)} requests, {sum(v):.1f} s in all, max {max(v) * 1000:.0f} ms"
                         for k, v in rows)


# -- the group --------------------------------------------------------------------------------------


def run(volume: dict[str, int] | None = None, log=print, rounds: int = 3) -> list[Result]:
    from backline_tui.clock import Clock
    from backline_tui.config import Config, SourceConfig
    from backline_tui.workbench import Workbench
    from tests.rt_server import RTServer, rt_missing_reason

    v = volume or DEFAULT_VOLUME
    reason = rt_missing_reason()
    if reason:
        return [Result("sync (RT not available)", 0, None, "", "—", None, note=reason.splitlines()[0][:200])]
    cache = rt_data(v, log)
    filled = json.loads((cache / "fill.json").read_text())
    scale = filled["tickets"] + filled["articles"]
    work = Path(tempfile.mkdtemp(prefix="backline-sync-bench-"))
    server = RTServer(work / "rt", template=cache)
    server.start()
    out: list[Result] = []
    try:
        os.environ["BACKLINE_BENCH_RT_PW"] = server.alice.password
        source = SourceConfig(name="rt", kind="rt", url=server.url, user="alice", password_env="BACKLINE_BENCH_RT_PW")
        config = Config(me="alice", sources=[source])
        queues = {"bug": "Backline Bugs", "case": "Backline Cases", "help_request": "Backline Help"}
        with server.client("alice") as c:  # every open record of every kind, as RT says
            open_refs = {f"RT#{t['id']}" for q in queues.values()
                         for t in c.search_tickets(f"Queue = '{q}' AND Status = '__Active__'", fields="id", per_page=100)}

        def raw_round() -> dict:
            log("    raw read (httpx, 4 at a time) …")
            raw = raw_read(server.url, "alice", server.alice.password, queues, server.article_class)
            log(f"    raw: {raw['records']:,} records, {raw['requests']:,} requests, {raw['bytes'] / 1e6:.1f} MB "
                f"in {raw['seconds']:.1f} s")
            return raw

        def sync_round(i: int) -> tuple[Workbench, dict]:
            log("    first sync into an empty replica …")
            wb = Workbench.open(work / f"replica-{i}.db", config, Clock())
            marks: dict[str, float] = {}

            def open_landed(stage: str, done: int, total: int | None) -> None:
                # open work is usable once every open record of every kind is in the replica
                if "open" in marks or stage not in ("pull", "open work"):
                    return
                have = {r["ref"] for table in ("help_requests", "cases", "bugs")
                        for r in wb.replica.conn.execute(f"SELECT ref FROM {table}").fetchall()}
                if open_refs <= have:
                    marks["open"] = time.perf_counter() - t

            cpu = time.process_time()
            t = time.perf_counter()
            first = wb.sync(progress=open_landed)
            seconds = time.perf_counter() - t
            cpu = time.process_time() - cpu
            if first.errors:
                raise RuntimeError(f"first sync failed: {first.errors[0]}")
            got = {"pulled": first.pulled, "seconds": seconds, "cpu": cpu, "open": marks.get("open", seconds)}
            log(f"    first sync: {first.pulled:,} records in {seconds:.1f} s ({first.pulled / seconds:.0f}/s; "
                f"Backline CPU {cpu:.1f} s); open work ({len(open_refs):,} records) usable after {got['open']:.1f} s")
            return wb, got

        raws: list[dict] = []
        syncs: list[dict] = []
        wb = None
        for i in range(max(1, rounds)):
            for what in (("raw", "sync") if i % 2 == 0 else ("sync", "raw")):
                if what == "raw":
                    raws.append(raw_round())
                else:
                    kept, got = sync_round(i)
                    syncs.append(got)
                    if wb is None:
                        wb = kept  # the no-op and change figures use the first replica
                    else:
                        kept.close()
        raw = sorted(raws, key=lambda r: r["seconds"])[len(raws) // 2]  # the median round
        raw_rate = raw["records"] / raw["seconds"]
        mid = sorted(syncs, key=lambda r: r["seconds"])[len(syncs) // 2]
        first_s, cpu = mid["seconds"], mid["cpu"]
        rate = mid["pulled"] / first_s
        open_s = sorted(r["open"] for r in syncs)[len(syncs) // 2]
        rounds_note = ("rounds (raw / first sync, s): "
                       + ", ".join(f"{r['seconds']:.1f} / {f['seconds']:.1f}" for r, f in zip(raws, syncs)))
        log(f"    median of {len(syncs)}: raw {raw['seconds']:.1f} s, first sync {first_s:.1f} s "
            f"({rate / raw_rate:.2f}×), open work {open_s:.1f} s; {rounds_note}")

        noop_timer = RequestTimer()  # how many requests a sync with nothing to do makes
        undo = noop_timer.install()
        try:
            t = time.perf_counter()
            noop = wb.sync()
            noop_s = time.perf_counter() - t
        finally:
            undo()

        with server.client("bob") as bob:
            ticket = next(iter(bob.search_tickets("Queue = 'Backline Help'", per_page=1)))
            tid = int(ticket["id"])
            t = time.perf_counter()
            bob.update_ticket(tid, {"Subject": "Changed for the latency figure"})
            changed = wb.sync()
            change_s = time.perf_counter() - t
        got = wb.replica.scalar("SELECT subject FROM help_requests WHERE ref = ?", (f"RT#{tid}",))
        wb.close()
        if got != "Changed for the latency figure":
            raise RuntimeError(f"the changed subject did not reach the replica (got {got!r})")

        log("    profile: a second first sync, every request timed …")
        timer = RequestTimer()
        undo = timer.install()
        try:
            wb2 = Workbench.open(work / "replica2.db", config, Clock())
            cpu2 = time.process_time()
            t = time.perf_counter()
            wb2.sync()
            prof_s = time.perf_counter() - t
            cpu2 = time.process_time() - cpu2
            wb2.close()
        finally:
            undo()
        profile = (f"profiled first sync {prof_s:.1f} s, Backline CPU {cpu2:.1f} s; " + timer.summary())
        log("    " + profile)

        fill_note = (f"RT holds {filled['tickets']:,} tickets ({v['help_requests']:,} help requests, {v['cases']:,} cases, "
                     f"{v['bugs']:,} bugs), {v['articles']:,} articles, {filled['answers']:,} answers; filled once in "
                     f"{filled['seconds']:.0f} s and cached")
        out += [
            Result("sync: upstream raw read", scale, round(raw_rate, 1), "rec/s", "—", None,
                   note=f"{raw['records']:,} records, {raw['requests']:,} requests, {raw['bytes'] / 1e6:.1f} MB in "
                        f"{raw['seconds']:.1f} s (median of {len(raws)}); {fill_note}"),
            Result("sync: first sync (empty replica)", scale, round(rate, 1), "rec/s", "≥ 0.95× raw",
                   rate >= 0.95 * raw_rate, reference=round(raw_rate, 1), ratio=round(rate / raw_rate, 2),
                   note=f"{mid['pulled']:,} records in {first_s:.1f} s (median of {len(syncs)}), Backline CPU "
                        f"{cpu:.1f} s; {rounds_note}; {profile}"),
            Result("sync: open work usable (empty replica)", scale, round(open_s, 1), "s", "≤ 60 s", open_s <= 60,
                   reference=round(first_s, 1), ratio=round(open_s / first_s, 2),
                   note=f"every open record of every kind ({len(open_refs):,}) in the replica after {open_s:.1f} s "
                        f"of the first sync (reference: the complete first sync, {first_s:.1f} s); the raw read of "
                        f"everything takes {raw['seconds']:.1f} s ({open_s / raw['seconds']:.2f}× of it)"),
            Result("sync: no-op sync", scale, round(noop_s * 1000, 1), "ms", "—", None,
                   note=f"pulled {noop.pulled}; {sum(len(v) for v in noop_timer.by.values())} requests "
                        f"for {len(queues) + 1} streams ({noop_timer.summary()})"),
            Result("sync: change in RT to replica", scale, round(change_s * 1000, 1), "ms", "—", None,
                   note=f"subject changed by REST, then one sync (pulled {changed.pulled})"),
        ]
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for k, n in DEFAULT_VOLUME.items():
        ap.add_argument(f"--{k.replace('_', '-')}", type=int, default=n)
    ap.add_argument("--rounds", type=int, default=3, help="raw reads and first syncs, alternated")
    args = ap.parse_args()
    v = {k: getattr(args, k) for k in DEFAULT_VOLUME}
    for r in run(v, log=lambda m: print(m, file=sys.stderr, flush=True), rounds=args.rounds):
        print(json.dumps(r.to_json()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
