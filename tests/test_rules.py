"""The pure rules of docs/architecture.md §4, with their edges."""

from datetime import timedelta

import pytest

from backline_tui.clock import parse_ts, to_ts
from backline_tui.config import Config, ImpactConfig, KBConfig, OLAConfig, StaleConfig
from backline_tui.domain import rules
from backline_tui.domain.rules import LinkedCase

NOW = parse_ts("2026-11-23T09:00:00Z")


@pytest.mark.parametrize("priority,minutes", [("P1", 30), ("P2", 120), ("P3", 480), ("P4", 1440)])
def test_ola_due_follows_priority_targets(priority, minutes):
    created = NOW - timedelta(hours=1)
    assert rules.ola_due(created, priority, OLAConfig()) == created + timedelta(minutes=minutes)


def test_breach_exactly_at_the_boundary_counts_as_breached():
    due = rules.ola_due(NOW - timedelta(minutes=30), "P1", OLAConfig())
    assert due == NOW
    assert rules.seconds_to_breach(due, NOW) == 0
    assert rules.is_breached(due, NOW)
    assert not rules.is_breached(due, NOW - timedelta(seconds=1))


def test_time_to_breach_is_negative_once_breached():
    due = NOW - timedelta(minutes=5)
    assert rules.seconds_to_breach(due, NOW) == -300


def test_ola_targets_come_from_the_config():
    ola = OLAConfig(P1=10)
    assert rules.ola_due(NOW, "P1", ola) == NOW + timedelta(minutes=10)


@pytest.mark.parametrize("severity,days", [("S1", 1), ("S2", 3), ("S3", 7), ("S4", 14)])
def test_staleness_ratio_is_one_at_the_threshold(severity, days):
    last = NOW - timedelta(days=days)
    assert rules.staleness_ratio(last, severity, NOW, StaleConfig()) == pytest.approx(1.0)
    assert rules.staleness_ratio(NOW - timedelta(days=2 * days), severity, NOW, StaleConfig()) == pytest.approx(2.0)


def test_activity_in_the_future_is_not_negative_staleness():
    assert rules.staleness_ratio(NOW + timedelta(hours=1), "S1", NOW, StaleConfig()) == 0.0


def test_stale_reasons_name_each_cause():
    reasons = rules.stale_reasons(
        last_activity_at=to_ts(NOW - timedelta(days=2)), last_customer_update_at=to_ts(NOW - timedelta(days=1)),
        severity="S1", reopen_count=3, now=NOW, stale=StaleConfig())
    assert reasons == ["idle 2.0× S1 limit", "reopened 3×", "customer waiting"]
    fresh = rules.stale_reasons(
        last_activity_at=to_ts(NOW), last_customer_update_at=None, severity="S4", reopen_count=1,
        now=NOW, stale=StaleConfig())
    assert fresh == []


def test_impact_score_sums_severity_times_tier_plus_distinct_customers():
    cases = [
        LinkedCase("S1", "enterprise", "Acme"),    # 8 × 3 = 24
        LinkedCase("S2", "business", "Acme"),      # 4 × 2 = 8
        LinkedCase("S4", "standard", "Globex"),    # 1 × 1 = 1
        LinkedCase("S1", "enterprise", "Hooli", open=False),  # closed: ignored
    ]
    assert rules.impact_score(cases, ImpactConfig()) == 24 + 8 + 1 + 2


def test_impact_with_no_linked_cases_is_zero_and_lowest_priority():
    imp = ImpactConfig()
    assert rules.impact_score([], imp) == 0
    assert rules.priority_bucket(0, imp) == "P4"


@pytest.mark.parametrize("score,expected", [(40, "P1"), (39, "P2"), (15, "P2"), (14, "P3"), (5, "P3"), (4, "P4")])
def test_priority_buckets_at_their_edges(score, expected):
    assert rules.priority_bucket(score, ImpactConfig()) == expected


def test_overridden_priority_wins_over_impact_and_moves_the_target():
    imp = ImpactConfig()
    assert rules.effective_priority(100, "P4", imp) == "P4"
    assert rules.effective_priority(0, None, imp) == "P4"
    created = NOW - timedelta(days=10)
    assert rules.resolution_target(created, "P1", imp) == created + timedelta(days=30)
    assert rules.resolution_target(created, "P4", imp) == created + timedelta(days=120)


def test_target_state_overdue_near_and_fine():
    imp = ImpactConfig()
    assert rules.target_state(NOW - timedelta(seconds=1), NOW, imp) == "overdue"
    assert rules.target_state(NOW + timedelta(days=7), NOW, imp) == "near"
    assert rules.target_state(NOW + timedelta(days=8), NOW, imp) == ""


def _reasons(**kw):
    base = dict(state="validated", open_flags=0, review_due_at=None, last_reused_at=to_ts(NOW),
                created_at=to_ts(NOW - timedelta(days=400)), now=NOW, kb=KBConfig())
    return rules.article_review_reasons(**(base | kw))


def test_article_flagged_and_overdue_at_once_lists_both_reasons():
    assert _reasons(open_flags=2, review_due_at=to_ts(NOW - timedelta(days=1))) == ["flagged ×2", "review overdue"]


def test_article_review_due_exactly_now_is_overdue():
    assert _reasons(review_due_at=to_ts(NOW)) == ["review overdue"]
    assert _reasons(review_due_at=to_ts(NOW + timedelta(seconds=1))) == []


def test_drafts_await_validation_and_archived_articles_never_show():
    assert _reasons(state="wip") == ["awaiting validation"]
    assert _reasons(state="not_validated") == ["awaiting validation"]
    assert _reasons(state="archived", open_flags=1) == []


def test_archive_candidate_after_180_days_without_reuse():
    assert _reasons(last_reused_at=to_ts(NOW - timedelta(days=180))) == ["archive candidate"]
    assert _reasons(last_reused_at=to_ts(NOW - timedelta(days=179))) == []
    # never reused: counted from creation
    assert _reasons(last_reused_at=None) == ["archive candidate"]
    assert _reasons(last_reused_at=None, created_at=to_ts(NOW - timedelta(days=10))) == []


def test_kcs_draft_has_the_four_sections_in_order():
    title, body = rules.kcs_draft(subject="Widget crash", question="It crashes on save", answer="Disable autosave",
                                  product="Widget", component="Autosave", version="2.3")
    assert title == "Widget crash"
    heads = [line for line in body.splitlines() if line.startswith("## ")]
    assert heads == ["## Issue", "## Environment", "## Resolution", "## Cause"]
    assert "Widget, Autosave, 2.3" in body and "Disable autosave" in body


def test_config_rejects_missing_weights():
    with pytest.raises(ValueError):
        ImpactConfig(severity_weights={"S1": 8})
    assert Config(me="x").impact.tier_weights["enterprise"] == 3


@pytest.mark.parametrize("text,expected", [
    ("2026-11-23T09:00:00Z", "2026-11-23T09:00:00Z"),  # the storage form, kept as it is
    ("2026-11-23T10:00:00+01:00", "2026-11-23T09:00:00Z"),
    ("2026-11-23 09:00:00", "2026-11-23T09:00:00Z"),
    ("2026-11-23T09:00:00.900Z", "2026-11-23T09:00:00Z"),
])
def test_timestamps_are_stored_in_one_form(text, expected):
    from backline_tui.clock import norm_ts

    assert norm_ts(text) == expected


@pytest.mark.parametrize("text", ["2026-13-01T09:00:00Z", "2026-02-30T09:00:00Z", "2026-11-23T24:00:00Z"])
def test_a_timestamp_in_the_storage_form_must_still_be_a_real_time(text):
    from backline_tui.clock import norm_ts

    with pytest.raises(ValueError):
        norm_ts(text)
