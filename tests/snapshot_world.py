"""A small hand-made world for the screen snapshots: every pane has rows of each kind it can show
(breached and near-breach requests, mine and others', stale by idle time, reopened and waiting
cases, overdue and overridden bugs, flagged, overdue, draft and unused articles), and no wording
comes from the demo generator, so changing the demo never redraws a snapshot.

Times are relative to NOW (2026-11-23 09:00 UTC), the snapshots' pinned clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from backline_tui.clock import parse_ts, to_ts

NOW = parse_ts("2026-11-23T09:00:00Z")


def at(**delta: float) -> str:
    return to_ts(NOW - timedelta(**delta))


def _case(ref, subject, customer, tier, product, component, version, severity, idle_days, **kw) -> dict[str, Any]:
    return dict(type="case", ref=ref, subject=subject, customer=customer, tier=tier, product=product,
                component=component, version=version, severity=severity, status=kw.pop("status", "open"),
                owner=kw.pop("owner", "fl.ana"), created_at=at(days=idle_days + 20), updated_at=at(days=idle_days),
                last_activity_at=at(days=idle_days), body=kw.pop("body", f"{customer} reports: {subject.lower()}."), **kw)


CASES = [
    _case("CASE-101", "Sync stalls after upgrade to 4.2", "Northwind", "enterprise", "Flux", "Sync", "4.2", "S1", 2.5),
    _case("CASE-102", "Search returns stale results", "Contoso", "business", "Flux", "Search", "4.1", "S2", 5,
          reopen_count=2),
    _case("CASE-103", "Export to CSV drops accents", "Fabrikam", "standard", "Ledger", "Export", "2.0", "S3", 9,
          last_customer_update_at=at(days=1)),
    _case("CASE-104", "SSO login loops on Safari", "Northwind", "enterprise", "Gate", "SSO", "1.8", "S2", 4),
    _case("CASE-105", "Timeout on large report", "Tailspin", "business", "Ledger", "Reports", "2.1", "S3", 8),
    _case("CASE-106", "Agent leaks file handles", "Contoso", "business", "Flux", "Agent", "4.2", "S2", 1),
    _case("CASE-107", "Licence count wrong after renewal", "Fabrikam", "standard", "Gate", "Licensing", "1.7", "S4", 16),
    _case("CASE-108", "Dashboard slow to load", "Tailspin", "business", "Flux", "UI", "4.2", "S3", 0.5, status="solved"),
]

HELP_REQUESTS = [
    dict(type="help_request", ref="HELP-201", subject="Northwind sync stalls after 4.2 upgrade", asker="fl.ben",
         body="Customer upgraded to 4.2 and the sync agent stops after an hour. Logs show lock waits.",
         product="Flux", component="Sync", priority="P1", status="new", case_ref="CASE-101",
         created_at=at(minutes=50), updated_at=at(minutes=50)),
    dict(type="help_request", ref="HELP-202", subject="Is the SSO loop a known issue?", asker="fl.cara",
         body="Safari users loop on the SSO page; Chrome is fine. Any workaround?", product="Gate",
         component="SSO", priority="P2", status="claimed", owner="alice", case_ref="CASE-104",
         created_at=at(hours=1, minutes=30), updated_at=at(hours=1)),
    dict(type="help_request", ref="HELP-203", subject="How do I rebuild the search index?", asker="fl.dev",
         body="Contoso sees stale search results after a restore.", product="Flux", component="Search",
         priority="P3", status="claimed", owner="bob", case_ref="CASE-102",
         created_at=at(hours=6), updated_at=at(hours=5)),
    dict(type="help_request", ref="HELP-204", subject="CSV export and accented names", asker="fl.ben",
         body="Accented characters vanish in the export. Encoding setting?", product="Ledger",
         component="Export", priority="P3", status="answered", owner="alice", case_ref="CASE-103",
         created_at=at(days=1), updated_at=at(hours=20), first_response_at=at(hours=22)),
    dict(type="help_request", ref="HELP-205", subject="Report timeout limit", asker="fl.eve",
         body="Where is the report timeout configured?", product="Ledger", component="Reports",
         priority="P4", status="new", created_at=at(hours=3), updated_at=at(hours=3)),
    dict(type="help_request", ref="HELP-206", subject="Agent file handle growth", asker="fl.cara",
         body="Handle count grows by a few hundred an hour on the agent.", product="Flux", component="Agent",
         priority="P2", status="new", case_ref="CASE-106", created_at=at(hours=3), updated_at=at(hours=3)),
    dict(type="help_request", ref="HELP-207", subject="Licence seats after renewal", asker="fl.dev",
         body="The seat count did not update after the renewal went through.", product="Gate",
         component="Licensing", priority="P3", status="resolved", owner="alice", case_ref="CASE-107",
         article_ref="KB-301", created_at=at(days=3), updated_at=at(days=2), first_response_at=at(days=3),
         resolved_at=at(days=2)),
]

BUGS = [
    dict(type="bug", ref="PROJ-11", title="Sync agent deadlocks under lock contention", product="Flux",
         component="Sync", severity="S1", status="open", eng_owner="dana", created_at=at(days=40),
         updated_at=at(days=2), fix_version="4.2.1"),
    dict(type="bug", ref="PROJ-12", title="Search index not rebuilt after restore", product="Flux",
         component="Search", severity="S2", status="in_progress", eng_owner="li", created_at=at(days=70),
         updated_at=at(days=5), target_at=at(days=3)),
    dict(type="bug", ref="PROJ-13", title="SSO redirect loop with Safari ITP", product="Gate", component="SSO",
         severity="S2", status="open", created_at=at(days=20), updated_at=at(days=20), priority_override="P1"),
    dict(type="bug", ref="PROJ-14", title="Agent leaks handles on reconnect", product="Flux", component="Agent",
         severity="S3", status="open", created_at=at(days=8), updated_at=at(days=8)),
]

ARTICLES = [
    dict(type="article", ref="KB-301", title="Seat count after a licence renewal", state="validated", owner="alice",
         product="Gate", component="Licensing", created_at=at(days=200), updated_at=at(days=30),
         last_reviewed_at=at(days=30), review_due_at=at(days=-150),
         body="## Issue\n\nSeats do not update after renewal.\n\n## Resolution\n\nRun **licence sync** from "
              "*Admin › Licences*, then reload.\n\n## Cause\n\nThe renewal job skips cached tenants."),
    dict(type="article", ref="KB-302", title="Rebuilding the search index", state="validated", owner="bob",
         product="Flux", component="Search", created_at=at(days=400), updated_at=at(days=200),
         last_reviewed_at=at(days=200), review_due_at=at(days=20),
         body="## Issue\n\nSearch shows stale results.\n\n## Resolution\n\n1. Stop the indexer\n2. Run `flux "
              "reindex --full`\n3. Start the indexer",
         flags=[dict(who="carol", reason="step 2 needs --tenant on 4.2", at=at(days=2))]),
    dict(type="article", ref="KB-303", title="Safari SSO loops", state="wip", owner="alice", product="Gate",
         component="SSO", created_at=at(days=6), updated_at=at(days=6),
         body="## Issue\n\nSafari loops on login.\n\n## Resolution\n\n(to be written)"),
    dict(type="article", ref="KB-304", title="Exporting with UTF-8", state="validated", owner="bob", product="Ledger",
         component="Export", created_at=at(days=500), updated_at=at(days=300), last_reviewed_at=at(days=90),
         review_due_at=at(days=-90), body="## Resolution\n\nSet *Encoding* to UTF-8 under Export settings."),
    dict(type="article", ref="KB-305", title="Report timeouts", state="not_validated", owner="bob", product="Ledger",
         component="Reports", created_at=at(days=12), updated_at=at(days=12),
         body="## Resolution\n\nRaise `report.timeout` in ledger.conf."),
]

MESSAGES = [
    dict(type="message", ref="M-1", parent_type="help_request", parent_ref="HELP-204", author="fl.ben",
         body="Accented characters vanish in the export. Encoding setting?", kind="question", created_at=at(days=1)),
    dict(type="message", ref="M-2", parent_type="help_request", parent_ref="HELP-204", author="alice",
         body="Yes: set Encoding to UTF-8 under Export settings (KB-304).", kind="reply", created_at=at(hours=22)),
    dict(type="message", ref="M-3", parent_type="case", parent_ref="CASE-101", author="Northwind",
         body="Sync stopped again overnight.", kind="customer", created_at=at(days=2, hours=12)),
    dict(type="message", ref="M-4", parent_type="case", parent_ref="CASE-101", author="fl.ana",
         body="Collecting agent logs.", kind="agent", created_at=at(days=2, hours=11)),
]

LINKS = [
    dict(type="link", kind="case_bug", from_ref="CASE-101", to_ref="PROJ-11"),
    dict(type="link", kind="case_bug", from_ref="CASE-106", to_ref="PROJ-11"),
    dict(type="link", kind="case_bug", from_ref="CASE-102", to_ref="PROJ-12"),
    dict(type="link", kind="case_bug", from_ref="CASE-104", to_ref="PROJ-13"),
    dict(type="link", kind="case_bug", from_ref="CASE-106", to_ref="PROJ-14"),
    dict(type="link", kind="article_request", from_ref="KB-301", to_ref="HELP-207", created_at=at(days=2)),
    dict(type="link", kind="article_case", from_ref="KB-304", to_ref="CASE-103", created_at=at(days=200)),
]


def world() -> list[dict[str, Any]]:
    return [*CASES, *BUGS, *ARTICLES, *HELP_REQUESTS, *MESSAGES, *LINKS]
