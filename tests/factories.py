"""Hand-made records for tests whose right answers are known."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from backline_tui.clock import parse_ts, to_ts  # noqa: F401 (re-exported for tests)
from backline_tui.config import Config
from backline_tui.storage import Replica
from backline_tui.storage import records as record_store
from backline_tui.storage.derived import refresh_derived

NOW = parse_ts("2026-11-23T09:00:00Z")
_seq = count(1)


def ago(now: datetime = NOW, **delta: float) -> str:
    return to_ts(now - timedelta(**delta))


def case(ref: str | None = None, **kw: Any) -> dict:
    n = next(_seq)
    base = dict(ref=ref or f"CASE-{n}", subject=f"Case {n}", customer="Acme", tier="standard", product="Widget",
                component="Editor", version="2.3", severity="S3", status="open", owner="fl.ana",
                created_at=ago(days=30), updated_at=ago(days=1), last_activity_at=ago(days=1))
    return base | kw


def help_request(ref: str | None = None, **kw: Any) -> dict:
    n = next(_seq)
    base = dict(ref=ref or f"HELP-{n}", subject=f"Question {n}", body=f"Body {n}", asker="fl.ben",
                product="Widget", component="Editor", priority="P3", status="new",
                created_at=ago(hours=1), updated_at=ago(hours=1))
    return base | kw


def bug(ref: str | None = None, **kw: Any) -> dict:
    n = next(_seq)
    base = dict(ref=ref or f"PROJ-{n}", title=f"Bug {n}", product="Widget", component="Editor", severity="S2",
                status="open", created_at=ago(days=10), updated_at=ago(days=10))
    return base | kw


def article(ref: str | None = None, **kw: Any) -> dict:
    n = next(_seq)
    base = dict(ref=ref or f"KB-{n}", title=f"Article {n}", body="## Issue\n\nx", state="validated",
                owner="alice", created_at=ago(days=20), updated_at=ago(days=20))
    return base | kw


def load(replica: Replica, config: Config | None = None, *, cases=(), bugs=(), articles=(), help_requests=(),
         links=()) -> None:
    config = config or Config(me="alice")
    with replica.transaction() as conn:
        record_store.upsert_cases(conn, cases)
        record_store.upsert_bugs(conn, bugs)
        record_store.upsert_articles(conn, articles)
        record_store.upsert_help_requests(conn, help_requests, config)
        for kind, a, b in links:
            record_store.add_link(conn, kind, a, b, to_ts(NOW))
        refresh_derived(conn, config)
