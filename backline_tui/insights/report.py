"""`backline report`: the Insights figures for people who never open a terminal app.

Markdown (default) reads well pasted into a wiki, a ticket or an e-mail; CSV is one tidy table
(section, week, product, component, version, item, metric, value) for a spreadsheet. All
upstream text (product names, subjects, askers) goes through the one sanitiser, then is escaped
for the format: Markdown punctuation and table pipes are backslashed, newlines folded; CSV cells
that a spreadsheet would run as a formula get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator

from backline_tui.clock import duration
from backline_tui.insights.service import Snapshot

TOP = 15


# -- formatting -------------------------------------------------------------------------------------


def _clean(text: Any) -> str:
    # the one sanitiser (backline_tui.text), imported when used
    from backline_tui.text import one_line

    return one_line("" if text is None else str(text))


_MD_SPECIAL = "\\`*_[]<>|&~#!"


def md(text: Any) -> str:
    """Untrusted text as one inert Markdown table cell."""
    s = _clean(text)
    s = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)
    return s or "(none)"


def csv_text(text: Any) -> str:
    s = _clean(text)
    if s[:1] in ("=", "+", "-", "@"):
        s = "'" + s
    return s


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.0f}%"


def _table(head: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    align = align or "l" * len(head)
    sep = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    if not rows:
        out.append("| " + " | ".join(["(none)"] + [""] * (len(head) - 1)) + " |")
    return out + [""]


# -- Markdown ---------------------------------------------------------------------------------------------


def markdown(s: Snapshot) -> str:
    d, t, g = s.drivers, s.team, s.gaps
    w = s.window
    overdue = [b for b in s.bugs if b.overdue]
    lines = [
        "# Backline insights",
        "",
        f"Window: {w.describe()}. Generated {s.generated_at:%Y-%m-%d %H:%M} UTC.",
        "",
        "## Summary",
        "",
        f"- **{d.total:,} cases** opened; {d.vital_few('component')} of {len(d.pareto['component'])} "
        f"product/component drivers make 80% of them.",
        f"- **{t.overall.requests:,} help requests** asked; first response within the OLA for "
        f"{pct(t.overall.ola_met_rate)} of those due; median time to resolve {duration(t.overall.median_resolve)}.",
        f"- **Document rate {pct(t.overall.document_rate)}**: {g.undocumented:,} of {g.answered:,} answered "
        "requests are in no KB article.",
        f"- **{len(overdue)} of the top {len(s.bugs)} bugs** by customer impact are past their resolution target.",
        "",
        "## What drives the cases",
        "",
        "### By product and component (Pareto)",
        "",
    ]
    lines += _table(
        ["#", "Product", "Component", "Cases", "Share", "Cumulative"],
        [[str(i), md(x.product), md(x.component), f"{x.cases:,}", pct(x.share), pct(x.cumulative)]
         for i, x in enumerate(d.pareto["component"][:TOP], 1)],
        "lllrrr",
    )
    lines += ["### By product", ""]
    lines += _table(
        ["Product", "Cases", "Share", "Cumulative"],
        [[md(x.product), f"{x.cases:,}", pct(x.share), pct(x.cumulative)] for x in d.pareto["product"]],
        "lrrr",
    )
    lines += ["### By product and version", ""]
    lines += _table(
        ["Product", "Version", "Cases", "Share", "Cumulative"],
        [[md(x.product), md(x.version), f"{x.cases:,}", pct(x.share), pct(x.cumulative)]
         for x in d.pareto["version"][:TOP]],
        "llrrr",
    )
    lines += ["### Cases opened per week, by product", ""]
    products = list(d.trend)
    lines += _table(
        ["Week of"] + [md(p) for p in products] + ["Total"],
        [[wk.isoformat()] + [f"{d.trend[p][i]:,}" for p in products] + [f"{sum(d.trend[p][i] for p in products):,}"]
         for i, wk in enumerate(w.weeks)],
        "l" + "r" * (len(products) + 1),
    )
    lines += ["## Bugs by customer impact", "",
              "Score: Σ over open linked cases of severity weight × customer tier weight, plus distinct customers.", ""]
    lines += _table(
        ["Bug", "Title", "Product", "Component", "Score", "Open cases", "Linked cases", "Customers", "Priority", "Target"],
        [[md(b.ref), md(b.title), md(b.product), md(b.component), f"{b.impact_score:,}", f"{b.open_cases:,}",
          f"{b.linked_cases:,}", f"{b.customers:,}", b.priority + (" (set)" if b.priority_overridden else ""),
          b.target[:10] + (" **OVERDUE**" if b.overdue else " (near)" if b.target_state == "near" else "")]
         for b in s.bugs],
        "llllrrrrll",
    )
    lines += ["## Knowledge gaps", "",
              "Answered or resolved help requests that are in no KB article, by product and component.", ""]
    lines += _table(
        ["Product", "Component", "Answered", "No article", "Gap"],
        [[md(x.product), md(x.component), f"{x.answered:,}", f"{x.undocumented:,}", pct(x.share)]
         for x in g.by_component[:TOP]],
        "llrrr",
    )
    lines += ["### Most asked topics with no article", "",
              "Similar subjects grouped (fuzzy matching within a product and component).", ""]
    lines += _table(
        ["Topic", "Product", "Component", "Requests", "Phrasings", "Example"],
        [[md(x.label), md(x.product), md(x.component), f"{x.requests:,}", f"{x.phrasings:,}", md(x.example)]
         for x in g.topics],
        "lllrrl",
    )
    lines += ["## Team numbers", "", "### First response against the OLA, by priority", ""]
    lines += _table(
        ["Priority", "OLA", "Requests", "Median first response", "Within OLA", "Document rate"],
        [[p.label, duration(p.ola_minutes * 60), f"{p.requests:,}", duration(p.median_first_response),
          pct(p.ola_met_rate), pct(p.document_rate)] for p in t.priorities],
        "llrrrr",
    )
    lines += ["### Per week (requests asked that week)", ""]
    lines += _table(
        ["Week of", "Requests", "Median first response", "Within OLA", "Median time to resolve", "Document rate"],
        [[x.label, f"{x.requests:,}", duration(x.median_first_response), pct(x.ola_met_rate),
          duration(x.median_resolve), pct(x.document_rate)] for x in t.weeks],
        "lrrrrr",
    )
    lines += ["### Requests per asker", "",
              "“Already in the KB”: answered with an article that existed when they asked.", ""]
    lines += _table(
        ["Asker", "Requests", "Per week", "Already in the KB", "Products"],
        [[md(a.asker), f"{a.requests:,}", f"{a.per_week:.1f}", f"{a.already_documented:,}", str(a.products)]
         for a in t.askers],
        "lrrrr",
    )
    return "\n".join(lines).rstrip() + "\n"


# -- CSV ------------------------------------------------------------------------------------------------------

CSV_HEAD = ["section", "week", "product", "component", "version", "item", "metric", "value"]


def _rows(s: Snapshot) -> Iterator[list[Any]]:
    d, t, g = s.drivers, s.team, s.gaps

    def row(section, metric, value, week="", product="", component="", version="", item=""):
        if isinstance(value, float):
            value = round(value, 4)
        return [section, week, csv_text(product), csv_text(component), csv_text(version), csv_text(item), metric,
                "" if value is None else value]

    yield row("window", "since", s.window.since_ts)
    yield row("window", "until", s.window.until_ts)
    for level in ("product", "component", "version"):
        for x in d.pareto[level]:
            for metric, value in (("cases", x.cases), ("share", x.share), ("cumulative", x.cumulative)):
                yield row(f"drivers_by_{level}", metric, value, product=x.product,
                          component=x.component or "", version=x.version or "")
    for p, counts in d.trend.items():
        for wk, n in zip(s.window.weeks, counts):
            yield row("weekly_cases", "cases", n, week=wk.isoformat(), product=p)
    for b in s.bugs:
        for metric, value in (("impact_score", b.impact_score), ("open_cases", b.open_cases),
                              ("linked_cases", b.linked_cases), ("customers", b.customers),
                              ("priority", b.priority), ("target", b.target[:10]), ("target_state", b.target_state)):
            yield row("bugs", metric, value, product=b.product, component=b.component, item=b.ref)
    for x in g.by_component:
        for metric, value in (("answered", x.answered), ("undocumented", x.undocumented), ("gap", x.share)):
            yield row("knowledge_gaps", metric, value, product=x.product, component=x.component)
    for x in g.topics:
        for metric, value in (("requests", x.requests), ("phrasings", x.phrasings)):
            yield row("gap_topics", metric, value, product=x.product, component=x.component, item=x.label)
    for p in t.priorities:
        for metric, value in (("ola_minutes", p.ola_minutes), ("requests", p.requests),
                              ("median_first_response_s", p.median_first_response), ("within_ola", p.ola_met_rate),
                              ("document_rate", p.document_rate)):
            yield row("team_by_priority", metric, value, item=p.label)
    for x in t.weeks + [t.overall]:
        for metric, value in (("requests", x.requests), ("median_first_response_s", x.median_first_response),
                              ("within_ola", x.ola_met_rate), ("median_resolve_s", x.median_resolve),
                              ("document_rate", x.document_rate)):
            yield row("team_weekly" if x.label != "all" else "team_total", metric, value,
                      week=x.label if x.label != "all" else "")
    for a in t.askers:
        for metric, value in (("requests", a.requests), ("per_week", a.per_week),
                              ("already_documented", a.already_documented)):
            yield row("askers", metric, value, item=a.asker)


def to_csv(s: Snapshot) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEAD)
    writer.writerows(_rows(s))
    return buf.getvalue()


def render(s: Snapshot, fmt: str = "md") -> str:
    return to_csv(s) if fmt == "csv" else markdown(s)


# -- the command -------------------------------------------------------------------------------------------------
