"""Deterministic demo data: the same seed and the same `now` give the same records.

Everything is laid out relative to `now`, so a demo made today has requests about to breach
today and cases going stale today. Scale follows the number of cases: help requests are a
fifth of them, bugs a hundredth, articles a fiftieth. The words it draws from are demo_words.py.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from backline_tui.config import Config
from backline_tui.domain.vocabulary import KCS_STATES, PRIORITIES, SEVERITIES, TIERS
from backline_tui.storage import Replica
from backline_tui.storage import rollups
from backline_tui.storage import rows as row_store
from backline_tui.storage.derived import refresh_derived
from backline_tui.storage.replica import bulk_load, rollback_journal
from backline_tui.sync.demo_words import (
    ANSWERS,
    BACKLINERS,
    BUG_TITLES,
    CASE_SUBJECTS,
    COMPANY_A,
    COMPANY_B,
    ENGINEERS,
    ERRORS,
    FIRST,
    HELP_SUBJECTS,
    LAST,
    PRODUCTS,
    PRODUCT_WEIGHTS,
    TRIGGERS,
    VERSIONS,
)


@dataclass
class DemoStats:
    cases: int = 0
    help_requests: int = 0
    bugs: int = 0
    articles: int = 0
    messages: int = 0
    links: int = 0
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return self.cases + self.help_requests + self.bugs + self.articles + self.messages + self.links


def _pick_product(rnd: random.Random) -> tuple[str, str]:
    p = rnd.choices(list(PRODUCTS), weights=PRODUCT_WEIGHTS)[0]
    return p, rnd.choice(PRODUCTS[p])


def _fmt(rnd: random.Random, templates: list[str], p: str, c: str, version: str | None = None) -> str:
    v = version or rnd.choice(VERSIONS)
    t = rnd.choice(TRIGGERS).format(v=v)
    return rnd.choice(templates).format(p=p, c=c, e=rnd.choice(ERRORS), t=t, v=v)


def generate(
    replica: Replica,
    config: Config,
    now: datetime,
    cases: int = 2000,
    seed: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
    batch: int = 20000,
) -> DemoStats:
    """Fill an empty replica. One transaction: an interrupted demo leaves nothing behind."""
    started = time.perf_counter()
    rnd = random.Random(seed)
    stats = DemoStats()
    me = config.me
    backliners = [me] + [b for b in BACKLINERS if b != me]
    n_customers = max(40, cases // 150)
    customers = []
    for i in range(n_customers):
        name = f"{COMPANY_A[i % len(COMPANY_A)]} {COMPANY_B[(i // len(COMPANY_A)) % len(COMPANY_B)]}"
        if i >= len(COMPANY_A) * len(COMPANY_B):
            name += f" {i}"
        tier = rnd.choices(TIERS, weights=[15, 35, 50])[0]
        customers.append((name, tier))
    askers = [f"{f}.{l}".lower() for f in FIRST for l in LAST[:3]][: max(20, min(72, cases // 50))]
    say = progress or (lambda what, done, total: None)
    day = 86400.0

    with rollback_journal(replica.conn), replica.transaction() as conn, bulk_load(conn):
        # -- cases: two years of history, recent ones still open ------------------------------
        case_meta: list[tuple[str, str, str, str, bool]] = []  # product, component, severity, tier, open
        case_env: list[tuple[str, str]] = []  # customer, version: what a question about the case quotes
        rows: list[dict[str, Any]] = []
        R = rnd.random
        now_s = now.timestamp()
        pc_table = _weighted([(pc, PRODUCT_WEIGHTS[list(PRODUCTS).index(pc[0])]) for pc in
                              [(p, c) for p in PRODUCTS for c in PRODUCTS[p]]])
        sev_table = _weighted([("S1", 5), ("S2", 20), ("S3", 45), ("S4", 30)])
        open_table = _weighted([("open", 70), ("pending", 20), ("on_hold", 10)])
        reopen_open = _weighted([(0, 80), (1, 12), (2, 6), (3, 2)])
        reopen_done = _weighted([(0, 90), (1, 8), (2, 2)])
        impacts = ["one team blocked", "all users affected", "intermittent", "workaround in place"]
        # sorted: iterating a set of strings follows the per-process hash seed, and the same seed
        # must give the same data in every process
        subjects = {pc: [_fmt(rnd, CASE_SUBJECTS, *pc) for _ in range(24)] for pc in sorted(set(pc_table))}
        cust_idx = [int(rnd.paretovariate(1.2) * 3) % n_customers for _ in range(4096)]
        for i in range(cases):
            p, c = pc = pc_table[int(R() * 100)]
            cust, tier = customers[cust_idx[int(R() * 4096)]]
            age = R() ** 1.6 * 730 * day
            created = now_s - age
            severity = sev_table[int(R() * 100)]
            if age < 45 * day and R() < 0.55 or R() < 0.01:
                status = open_table[int(R() * 100)]
                idle = R() ** 1.3 * min(age, 40 * day)
                last = now_s - idle
                cust_upd = _ts(last + R() * idle) if R() < 0.15 else None
                reopen = reopen_open[int(R() * 100)]
            else:
                status = "closed" if R() < 0.7 else "solved"
                last = created + R() * min(age, 20 * day)
                cust_upd = None
                reopen = reopen_done[int(R() * 100)]
            is_open = status in ("open", "pending", "on_hold")
            v = VERSIONS[int(R() * len(VERSIONS))]
            subject = subjects[pc][int(R() * 24)]
            last_ts = _ts(last)
            # a complete row in rows.COLUMNS["cases"] order (the bulk path takes tuples)
            rows.append((
                f"CASE-{100001 + i}", "demo", None, None, None, subject,
                f"{cust} reports: {subject}. Running {p} {v}. Impact: {impacts[int(R() * 4)]}.",
                cust, tier, p, c, v, severity, status, askers[int(R() * len(askers))], _ts(created), last_ts,
                last_ts, cust_upd, reopen,
            ))
            case_meta.append((p, c, severity, tier, is_open))
            case_env.append((cust, v))
            if len(rows) >= batch:
                row_store.upsert_case_rows(conn, rows)
                stats.cases += len(rows)
                rows = []
                say("cases", stats.cases, cases)
        row_store.upsert_case_rows(conn, rows)
        stats.cases += len(rows)
        say("cases", stats.cases, cases)

        # -- bugs -------------------------------------------------------------------------------
        n_bugs = max(15, cases // 100)
        bug_rows = []
        for i in range(n_bugs):
            p, c = _pick_product(rnd)
            created = now - timedelta(seconds=rnd.random() ** 1.2 * 240 * day)
            status = rnd.choices(["open", "in_progress", "fixed", "closed"], weights=[55, 20, 10, 15])[0]
            override = rnd.choice(["P1", "P2"]) if rnd.random() < 0.05 else None
            target = _tsd(created + timedelta(days=rnd.choice([20, 45, 75]))) if rnd.random() < 0.1 else None
            bug_rows.append({
                "ref": f"PROJ-{101 + i}", "source": "demo", "title": _fmt(rnd, BUG_TITLES, p, c),
                "body": f"Seen in {p} {rnd.choice(VERSIONS)}. Steps attached to the linked cases.",
                "product": p, "component": c, "severity": rnd.choices(SEVERITIES, weights=[8, 27, 45, 20])[0],
                "status": status, "eng_owner": rnd.choice(ENGINEERS) if rnd.random() < 0.8 else None,
                "created_at": _tsd(created), "updated_at": _tsd(created + timedelta(days=rnd.random() * 10)),
                "target_at": target, "priority_override": override,
                "fix_version": rnd.choice(VERSIONS[3:]) if status in ("fixed", "closed") else None,
            })
        row_store.upsert_bugs(conn, bug_rows)
        stats.bugs = n_bugs
        say("bugs", n_bugs, n_bugs)

        # links: about a fifth of the cases hang on a bug of the same product (a few bugs carry many)
        by_product: dict[str, list[int]] = {}
        for b, row in enumerate(bug_rows):
            by_product.setdefault(row["product"], []).append(b + 1)
        first_case_id = conn.execute("SELECT MIN(id) AS m FROM cases").fetchone()["m"] or 1
        first_bug_id = conn.execute("SELECT MIN(id) AS m FROM bugs").fetchone()["m"] or 1
        link_rows = []
        for i, (p, c, sev, tier, is_open) in enumerate(case_meta):
            if rnd.random() < (0.35 if is_open else 0.15) and p in by_product:
                choices = by_product[p]
                b = choices[min(int(rnd.paretovariate(1.1)) - 1, len(choices) - 1)]
                link_rows.append((first_case_id + i, first_bug_id + b - 1, rows_created(now, rnd)))
        conn.executemany("INSERT OR IGNORE INTO case_bugs(case_id, bug_id, created_at) VALUES (?, ?, ?)", link_rows)
        stats.links += len(link_rows)

        # -- articles ------------------------------------------------------------------------------
        n_articles = max(25, cases // 50)
        art_rows = []
        for i in range(n_articles):
            p, c = _pick_product(rnd)
            created = now - timedelta(seconds=rnd.random() ** 0.8 * 700 * day)
            state = rnd.choices(KCS_STATES, weights=[8, 10, 64, 18])[0]
            reviewed = created + timedelta(seconds=rnd.random() * max((now - created).total_seconds(), 1))
            due = reviewed + timedelta(days=config.kb.review_interval_days) if state == "validated" else None
            flags = []
            if state != "archived" and rnd.random() < 0.06:
                flags.append({"who": rnd.choice(askers), "at": _tsd(now - timedelta(days=rnd.random() * 20)),
                              "reason": rnd.choice(["Steps no longer match the UI", "Workaround fails on 3.x",
                                                    "Link to download is broken", "Missing the Windows case"])})
            title = f"{p} {c}: {rnd.choice(ERRORS)} {rnd.choice(TRIGGERS).format(v=rnd.choice(VERSIONS))}"
            art_rows.append({
                "ref": f"KB-{1001 + i}", "source": "demo", "title": title,
                "body": (f"## Issue\n\n{title}.\n\n## Environment\n\n{p} {rnd.choice(VERSIONS)}, {c}\n\n"
                         f"## Resolution\n\n{rnd.choice(ANSWERS).format(p=p, c=c, e=rnd.choice(ERRORS), v=rnd.choice(VERSIONS))}\n\n"
                         "## Cause\n\nUnder investigation.\n"),
                "state": state, "owner": rnd.choice(backliners), "product": p, "component": c,
                "created_at": _tsd(created), "updated_at": _tsd(reviewed),
                "last_reviewed_at": _tsd(reviewed) if state in ("validated", "archived") else None,
                "review_due_at": _tsd(due) if due else None, "flags": flags,
            })
        row_store.upsert_articles(conn, art_rows)
        stats.articles = n_articles
        first_art_id = conn.execute("SELECT MIN(id) AS m FROM articles").fetchone()["m"] or 1
        # reuse: articles linked to cases; a third of the validated ones not reused lately
        reuse = []
        for a, row in enumerate(art_rows):
            if row["state"] == "archived" or rnd.random() < 0.3:
                continue
            for _ in range(rnd.choice([1, 1, 2, 3, 5])):
                case_idx = rnd.randrange(cases) if cases else 0
                at = now - timedelta(days=rnd.random() * 400)
                if at < datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")):
                    at = now - timedelta(days=rnd.random() * 30)
                reuse.append((first_art_id + a, "case", first_case_id + case_idx, _tsd(at)))
        conn.executemany(
            "INSERT OR IGNORE INTO article_links(article_id, target_type, target_id, created_at) VALUES (?, ?, ?, ?)",
            reuse,
        )
        stats.links += len(reuse)
        validated = [first_art_id + a for a, r in enumerate(art_rows) if r["state"] == "validated"]
        # answers get documented in the popular articles; the rest age towards archiving
        popular = validated[: max(1, len(validated) * 2 // 3)]

        # -- help requests: a year of questions; the last few days still open --------------------
        n_help = max(30, cases // 5)
        help_rows: list[dict[str, Any]] = []
        msg_rows: list[dict[str, Any]] = []
        cases_by_pc: dict[object, list[int]] = {}
        for idx, (cp, cc, *_rest) in enumerate(case_meta):
            cases_by_pc.setdefault((cp, cc), []).append(idx)
            cases_by_pc.setdefault(cp, []).append(idx)
        for i in range(n_help):
            p, c = _pick_product(rnd)
            age = rnd.random() ** 2.2 * 365 * day
            created = now - timedelta(seconds=age)
            priority = rnd.choices(PRIORITIES, weights=[6, 20, 44, 30])[0]
            ola_s = config.ola.minutes(priority) * 60
            ref = f"HELP-{1001 + i}"
            asker = rnd.choice(askers)
            answer = rnd.choice(ANSWERS).format(p=p, c=c, e=rnd.choice(ERRORS), v=rnd.choice(VERSIONS))
            first_resp = resolved = owner = None
            article_ref = None
            if age > 5 * day or rnd.random() < 0.25:
                status = "resolved"
                owner = rnd.choice(backliners)
                first_resp = created + timedelta(seconds=rnd.random() ** 2 * ola_s * 1.4)
                resolved = first_resp + timedelta(seconds=rnd.random() * 3 * day)
                if rnd.random() < 0.45 and popular:
                    art = rnd.choice(popular)
                    article_ref = f"KB-{1001 + art - first_art_id}"
            else:
                # the open queue is mostly today's: some breached, most still within their OLA
                age = rnd.random() ** 1.5 * 2 * day
                created = now - timedelta(seconds=age)
                status = rnd.choices(["new", "claimed", "answered"], weights=[50, 30, 20])[0]
                if status == "new" and age > ola_s and rnd.random() < 0.5:
                    status = "claimed"
                if status != "new":
                    owner = me if rnd.random() < 0.35 else rnd.choice(backliners)
                if status == "answered":
                    first_resp = created + timedelta(seconds=rnd.random() * min(age, ola_s))
            # most questions are about a customer case of the same product (and component if any)
            pool = cases_by_pc.get((p, c)) or cases_by_pc.get(p) or []
            case_idx = pool[int(rnd.random() * len(pool))] if pool and rnd.random() < 0.7 else None
            cust, v = case_env[case_idx] if case_idx is not None else (None, rnd.choice(VERSIONS))
            subject = _fmt(rnd, HELP_SUBJECTS, p, c, v)
            who = f"{cust} runs {p} {v}" if cust else f"The customer runs {p} {v}"
            help_rows.append({
                "ref": ref, "source": "demo", "subject": subject,
                "body": f"{who} and hit this in {c}. The customer is "
                        f"{rnd.choice(['waiting on a call', 'escalating', 'blocked', 'asking for an ETA'])}. "
                        + ("Logs attached to the case. " if cust else "No case opened yet. ")
                        + f"Tried: {rnd.choice(['restart', 'reinstall', 'clearing the cache', 'nothing yet'])}.",
                "asker": asker, "case_ref": f"CASE-{100001 + case_idx}" if case_idx is not None else None,
                "product": p, "component": c, "priority": priority, "status": status, "owner": owner,
                "created_at": _tsd(created),
                "updated_at": _tsd(resolved or first_resp or created),
                "first_response_at": _tsd(first_resp) if first_resp else None,
                "resolved_at": _tsd(resolved) if resolved else None,
                "article_ref": article_ref,
            })
            if first_resp:
                msg_rows.append({"ref": f"{ref}/m1", "source": "demo", "parent_type": "help_request",
                                 "parent_ref": ref, "author": owner or me, "body": answer, "kind": "reply",
                                 "created_at": _tsd(first_resp)})
            if len(help_rows) >= batch:
                stats.help_requests += _flush_help(conn, config, help_rows, msg_rows, stats)
        stats.help_requests += _flush_help(conn, config, help_rows, msg_rows, stats)
        say("help requests", stats.help_requests, n_help)
        conn.execute(
            "INSERT OR IGNORE INTO article_links(article_id, target_type, target_id, created_at) "
            "SELECT article_id, 'help_request', id, resolved_at FROM help_requests WHERE article_id IS NOT NULL"
        )
        stats.links += conn.execute("SELECT changes() AS n").fetchone()["n"]
        replica.set_meta("demo_seed", str(seed))
        replica.set_meta("demo_now", _tsd(now))
        replica.set_meta("demo_cases", str(cases))
    # derived values (impact, reuse, OLA) once the indexes are back
    with replica.transaction() as conn:
        refresh_derived(conn, config, ola=False)  # upsert_help_requests computed OLA due
    stats.seconds = time.perf_counter() - started
    return stats


def _weighted(pairs: list[tuple[Any, int]]) -> list[Any]:
    """A 100-slot table: picking slot int(random() * 100) follows the weights."""
    total = sum(w for _, w in pairs)
    table: list[Any] = []
    for value, w in pairs:
        table += [value] * round(w * 100 / total)
    while len(table) < 100:
        table.append(pairs[-1][0])
    return table[:100]


_DAYS: dict[int, str] = {}


def _tsd(dt: datetime) -> str:
    """clock.to_ts for the aware UTC datetimes made here, through _ts (the same text, faster)."""
    return _ts(dt.timestamp())


def _ts(epoch: float) -> str:
    """Storage form of a (positive) epoch, as time.strftime would give it, at a third of the cost:
    a million cases need three million of these."""
    day, secs = divmod(int(epoch), 86400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
    h, secs = divmod(secs, 3600)
    m, secs = divmod(secs, 60)
    return f"{date}T{h:02d}:{m:02d}:{secs:02d}Z"


def rows_created(now: datetime, rnd: random.Random) -> str:
    return _tsd(now - timedelta(days=rnd.random() * 200))


def _flush_help(conn, config: Config, help_rows: list, msg_rows: list, stats: DemoStats) -> int:
    n = len(help_rows)
    row_store.upsert_help_requests(conn, help_rows, config)
    row_store.upsert_messages(conn, msg_rows)
    stats.messages += len(msg_rows)
    help_rows.clear()
    msg_rows.clear()
    return n


def wipe_records(replica: Replica) -> None:
    """Remove every record (not the schema); for `backline demo --replace`."""
    with replica.transaction() as conn, rollups.paused(conn):
        for table in ("messages", "case_bugs", "article_links", "article_flags", "help_requests", "bugs",
                      "cases", "articles", "outbox", "sync_cursors", "pending_links", "sync_log"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM meta WHERE key LIKE 'demo_%' OR key = 'derived_config'")
