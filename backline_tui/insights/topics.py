"""Most-asked topics: similar subjects grouped with rapidfuzz.

Subjects are compared only within one product/component (an article is about one), after
rapidfuzz's default processing (lower case, punctuation off). Greedy leader clustering: subjects
are taken most-asked first; each joins the first existing topic whose leader scores at least
`cutoff` against it (token_set_ratio: word order and extra words matter little), or starts a new
topic. The leader, the most-asked phrasing, names the topic. Deterministic for a given input order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from rapidfuzz import fuzz, process, utils

CUTOFF = 85


@dataclass
class Topic:
    label: str  # the most-asked phrasing (raw upstream text: sanitise before showing)
    product: str
    component: str
    requests: int = 0
    phrasings: int = 0
    refs: list[str] = field(default_factory=list)  # one example ref per phrasing, most asked first

    @property
    def example(self) -> str:
        return self.refs[0] if self.refs else ""


def cluster(rows: Iterable[dict], cutoff: float = CUTOFF, limit: int | None = 10) -> list[Topic]:
    """`rows`: dicts with subject, n (how many requests), product, component, ref; most asked first."""
    groups: dict[tuple[str, str], tuple[list[str], list[Topic]]] = {}
    topics: list[Topic] = []
    for row in rows:
        key = (row["product"], row["component"])
        leaders, members = groups.setdefault(key, ([], []))
        text = utils.default_process(row["subject"] or "")
        hit = process.extractOne(text, leaders, scorer=fuzz.token_set_ratio, processor=None, score_cutoff=cutoff) if leaders else None
        if hit is None:
            topic = Topic(label=row["subject"] or "", product=row["product"], component=row["component"])
            leaders.append(text)
            members.append(topic)
            topics.append(topic)
        else:
            topic = members[hit[2]]
        topic.requests += row["n"]
        topic.phrasings += 1
        if row.get("ref"):
            topic.refs.append(row["ref"])
    topics.sort(key=lambda t: (-t.requests, -t.phrasings, t.product, t.component, t.label))
    return topics if limit is None else topics[:limit]
