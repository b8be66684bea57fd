"""The pure rules of docs/architecture.md §4. Every function takes `now` and the config it needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable

from backline_tui.clock import parse_ts

if TYPE_CHECKING:  # the models are built after the first screen (config_file.py)
    from backline_tui.config import ImpactConfig, KBConfig, OLAConfig, StaleConfig

# --- help requests: OLA -------------------------------------------------------------


def ola_due(created_at: datetime | str, priority: str, ola: OLAConfig) -> datetime:
    """When the first response is due."""
    return parse_ts(created_at) + timedelta(minutes=ola.minutes(priority))


def seconds_to_breach(due: datetime | str, now: datetime) -> int:
    """Positive: time left; zero: breaching right now; negative: breached that long ago."""
    return int((parse_ts(due) - now).total_seconds())


def is_breached(due: datetime | str, now: datetime) -> bool:
    """Breached once `now` has reached the due time (the boundary itself counts)."""
    return seconds_to_breach(due, now) <= 0


# --- cases: staleness -----------------------------------------------------------------


def stale_threshold(severity: str, stale: StaleConfig) -> timedelta:
    return timedelta(days=stale.days(severity))


def staleness_ratio(last_activity_at: datetime | str, severity: str, now: datetime, stale: StaleConfig) -> float:
    """Idle time divided by the severity's threshold: 1.0 means it just went stale."""
    idle = now - parse_ts(last_activity_at)
    return max(idle.total_seconds(), 0.0) / stale_threshold(severity, stale).total_seconds()


def customer_waiting(last_activity_at: str | None, last_customer_update_at: str | None) -> bool:
    """The customer spoke after the last agent activity."""
    if not last_customer_update_at:
        return False
    if not last_activity_at:
        return True
    return parse_ts(last_customer_update_at) > parse_ts(last_activity_at)


def stale_reasons(
    *,
    last_activity_at: str,
    last_customer_update_at: str | None,
    severity: str,
    reopen_count: int,
    now: datetime,
    stale: StaleConfig,
) -> list[str]:
    reasons = []
    ratio = staleness_ratio(last_activity_at, severity, now, stale)
    if ratio >= 1:
        reasons.append(f"idle {ratio:.1f}× {severity} limit")
    if reopen_count >= stale.reopen_threshold:
        reasons.append(f"reopened {reopen_count}×")
    if customer_waiting(last_activity_at, last_customer_update_at):
        reasons.append("customer waiting")
    return reasons


# --- bugs: impact, priority, target ---------------------------------------------------


@dataclass(frozen=True)
class LinkedCase:
    severity: str
    tier: str
    customer: str
    open: bool = True


def impact_score(cases: Iterable[LinkedCase], impact: ImpactConfig) -> int:
    """Σ severity weight × tier weight over linked open cases, plus distinct customers."""
    total = 0
    customers: set[str] = set()
    for case in cases:
        if not case.open:
            continue
        total += impact.severity_weights[case.severity] * impact.tier_weights[case.tier]
        customers.add(case.customer)
    return total + len(customers)


def priority_bucket(score: float, impact: ImpactConfig) -> str:
    for priority in ("P1", "P2", "P3"):
        if score >= impact.buckets[priority]:
            return priority
    return "P4"


def effective_priority(score: float, override: str | None, impact: ImpactConfig) -> str:
    return override or priority_bucket(score, impact)


def resolution_target(created_at: datetime | str, priority: str, impact: ImpactConfig) -> datetime:
    return parse_ts(created_at) + timedelta(days=impact.target_days[priority])


def target_state(target: datetime | str, now: datetime, impact: ImpactConfig) -> str:
    """'overdue' once the target has passed, 'near' within near_target_days, else ''."""
    left = parse_ts(target) - now
    if left.total_seconds() < 0:
        return "overdue"
    if left <= timedelta(days=impact.near_target_days):
        return "near"
    return ""


# --- articles: why a backliner should look ---------------------------------------------

REVIEW_REASONS = ("flagged", "review overdue", "awaiting validation", "archive candidate")


def article_review_reasons(
    *,
    state: str,
    open_flags: int,
    review_due_at: str | None,
    last_reused_at: str | None,
    created_at: str,
    now: datetime,
    kb: KBConfig,
) -> list[str]:
    """Every reason an article is in the KB review pane, most pressing first."""
    reasons: list[str] = []
    if state == "archived":
        return reasons
    if open_flags:
        reasons.append("flagged" if open_flags == 1 else f"flagged ×{open_flags}")
    if review_due_at and parse_ts(review_due_at) <= now:
        reasons.append("review overdue")
    if state in ("wip", "not_validated"):
        reasons.append("awaiting validation")
    if state == "validated":
        since = parse_ts(last_reused_at or created_at)
        if now - since >= timedelta(days=kb.archive_after_days):
            reasons.append("archive candidate")
    return reasons


def next_review_due(now: datetime, kb: KBConfig) -> datetime:
    return now + timedelta(days=kb.review_interval_days)


# --- KCS draft -----------------------------------------------------------------------------


def kcs_draft(*, subject: str, question: str, answer: str, product: str, component: str, version: str = "") -> tuple[str, str]:
    """Title and Markdown body of a KCS article drafted from a question and its answer."""
    env = ", ".join(x for x in (product, component, version) if x) or "(not stated)"
    body = (
        "## Issue\n\n"
        f"{question.strip() or subject}\n\n"
        "## Environment\n\n"
        f"{env}\n\n"
        "## Resolution\n\n"
        f"{answer.strip() or '(to be written)'}\n\n"
        "## Cause\n\n"
        "(to be confirmed)\n"
    )
    return subject.strip(), body



KCS_PLACEHOLDERS = {"Resolution": "(to be written)", "Cause": "(to be confirmed)"}


def kcs_sections(body: str) -> dict[str, str]:
    """The `## Section` parts of a KCS article, by title, each stripped."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in (body or "").splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def kcs_placeholders(body: str) -> list[str]:
    """The KCS sections of `body` still holding the draft's placeholder (or empty)."""
    sections = kcs_sections(body)
    return [name for name, placeholder in KCS_PLACEHOLDERS.items()
            if name in sections and sections[name] in ("", placeholder)]


# --- escalation ---------------------------------------------------------------------------------

THREAD_LINES = 6  # lines of each message quoted in a drafted bug


def escalation_draft(*, record: dict, kind: str, case: dict | None, thread: list[dict],
                     open_cases_of_customer: int, bugs_of_case: int) -> dict:
    """A sustaining-engineering bug drafted from a case or help request (and its case)."""
    src = case or record
    env = ", ".join(x for x in (src.get("product"), src.get("version"), src.get("component")) if x) or "(not stated)"
    lines = ["## Customer impact", ""]
    if case is not None:
        lines += [f"- Customer: {case['customer']} ({case['tier']}), case {case['ref']} at {case['severity']}, "
                  f"{case['status']}",
                  f"- Open cases of this customer: {open_cases_of_customer}",
                  f"- Bugs already linked to {case['ref']}: {bugs_of_case}"]
    else:
        lines += [f"- No customer case yet; raised by {record.get('asker') or 'frontline'} in {record['ref']}"]
    lines += ["", "## Environment", "", env, "", "## Steps and what the customer sees", "",
              (src.get("body") or "").strip() or "(not described)"]
    if kind == "help_request" and case is not None:
        lines += ["", f"Frontline question ({record['ref']}):", "", (record.get("body") or "").strip()]
    if thread:
        lines += ["", "## From the thread", ""]
        for m in thread[-8:]:
            text = "\n".join((m.get("body") or "").strip().splitlines()[:THREAD_LINES])
            lines += [f"- {m['created_at'][:16].replace('T', ' ')} {m['kind']} by {m['author']}:",
                      *("  " + ln for ln in text.splitlines()), ""]
    lines += ["", "## Link back", "", f"Escalated from {record['ref']}" + (
        f" (case {case['ref']})" if case is not None and case is not record else "")]
    return {
        "title": (record.get("subject") or "").strip(), "product": src.get("product") or "",
        "component": src.get("component") or "", "version": src.get("version") or "",
        "severity": (case or {}).get("severity") or "S3", "body": "\n".join(lines).strip() + "\n",
        "case_ref": case["ref"] if case is not None else None, "from_ref": record["ref"],
    }


def impact_parts(cases: Iterable[dict], impact: ImpactConfig) -> list[dict]:
    """Each linked open case's part of a bug's impact (severity weight × tier weight), largest
    first: the rows that, with the distinct customers, add up to impact_score."""
    parts = []
    for c in cases:
        if c.get("status") not in ("open", "pending", "on_hold"):
            continue
        sw, tw = impact.severity_weights.get(c["severity"], 0), impact.tier_weights.get(c["tier"], 0)
        parts.append({"ref": c["ref"], "customer": c["customer"], "tier": c["tier"], "severity": c["severity"],
                      "severity_weight": sw, "tier_weight": tw, "points": sw * tw})
    parts.sort(key=lambda p: -p["points"])
    return parts
# --- which actions a record's state refuses (said before a confirmation, left out of the footer) ---


def why_not(action: str, record: dict, me: str | None) -> str | None:
    """Why `action` cannot be done on `record` as it stands (a sentence), or None. The facade
    refuses the same cases when the action runs; this lets the UI say so before it asks to
    confirm, and leave the key out of the footer. With `me` None only the record's own state
    counts (resolved, archived), not who owns it."""
    kind, ref = record.get("kind"), record.get("ref", "")
    if kind == "help_request":
        status, owner = record.get("status"), record.get("owner")
        if action in ("claim", "unclaim", "respond", "resolve", "take_over") and status == "resolved":
            return f"{ref} is already resolved"
        if action == "take_over" and not owner:
            return f"nobody owns {ref}: claim it instead"
        if action == "take_over" and me is not None and owner == me:
            return f"{ref} is already yours"
        if action == "claim" and owner and me is not None:
            return f"{ref} is already yours" if owner == me else f"{ref} is already claimed by {owner}"
        if action == "unclaim" and me is not None and owner != me:
            return f"{ref} is not yours to unclaim (owner: {owner or 'nobody'})"
        if action in ("respond", "resolve") and owner and me is not None and owner != me:
            return f"{ref} is claimed by {owner}; only they can {'answer' if action == 'respond' else 'resolve'} it"
        if action == "document" and record.get("article_id"):
            return f"{ref} is already documented"
    if kind == "article":
        state = record.get("state")
        if action in ("validate", "flag", "archive", "review") and state == "archived":
            return f"{ref} is archived"
        if action == "validate" and state == "validated":
            return f"{ref} is already validated"
    if kind == "case" and action == "offer" and record.get("status") in ("solved", "closed"):
        return f"{ref} is {record['status']}; nothing to help with"
    return None
