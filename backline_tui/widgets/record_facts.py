"""The lines of a record's facts in the detail view: one labelled line, a bug's impact broken
down, and what a sync changed in a record on screen, in words."""

from __future__ import annotations

from rich.text import Text

from backline_tui.text import one_line
from backline_tui.widgets.format import DIM


def fact_line(text: Text, label: str, value: object, style: str = "") -> None:
    text.append(f"{label:<14}", style=DIM)
    text.append(one_line("" if value is None else str(value), 200) or "—", style=style)
    text.append("\n")


#: fields whose change a sync brings is said on the open record ("updated by sync 10:02: status")
WATCHED = ("subject", "title", "status", "state", "owner", "eng_owner", "priority", "severity", "target",
           "fix_version", "resolved_at", "component", "product")


def sync_changes(old: dict, new: dict) -> list[str]:
    """What a sync changed in a record on screen, in words: the fields, and new messages."""
    out = [f.replace("_", " ") for f in WATCHED if f in new and old.get(f) != new.get(f)]
    added = len(new.get("messages") or []) - len(old.get("messages") or [])
    if added > 0:
        out.append(f"{added} new message{'s' * (added != 1)}")
    return out


IMPACT_LINES = 8  # linked cases itemised in a bug's impact


def impact_lines(text: Text, r: dict) -> None:
    """A bug's impact score broken down: each linked open case's severity × tier, and the
    customers; how it sets the priority, and that an override changes the priority, not the rank."""
    parts = r.get("impact_parts") or []
    n, customers = r["case_count"], r["customer_count"]
    fact_line(text, "Impact", f"{r['impact_score']} = {r['impact_score'] - customers} from {n} open case"
          f"{'s' if n != 1 else ''} (severity × tier) + {customers} distinct customer{'s' if customers != 1 else ''}",
          "bold")
    for p in parts[:IMPACT_LINES]:
        text.append(" " * 14)
        text.append(f"{one_line(p['ref'], 16)} ", style="bold")
        text.append(f"{one_line(p['customer'], 30)} · {p['tier']} ({p['tier_weight']}) × {p['severity']} "
                    f"({p['severity_weight']}) = {p['points']}\n")
    if n > min(len(parts), IMPACT_LINES):
        text.append(" " * 14 + f"… {n - min(len(parts), IMPACT_LINES)} more open cases\n", style=DIM)
    buckets = r.get("impact_buckets") or {}
    rule = ", ".join(f"{k} ≥ {v}" for k, v in sorted(buckets.items()))
    fact_line(text, "Rank", "the bugs pane ranks by impact; " + (
        f"the override {r['priority']} (marked *) sets the priority, not the rank" if r["priority_overridden"]
        else f"priority from impact ({rule})"), DIM)
