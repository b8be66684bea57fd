"""What a pane filter matches: mine, unclaimed, a product, and free text, every word of which must
match the record (a longer word as a word prefix through the pane's filter table, a shorter one
as a substring). The SQL terms and parameters the pane queries (panes.py) add to their WHERE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PaneFilter:
    """mine / unclaimed / product / free text; all optional and combined with AND. describe() is
    what a person reads ("" when nothing is filtered)."""

    mine: bool = False
    unclaimed: bool = False
    product: str | None = None
    text: str | None = None
    sort: str | None = None  # a column label of SORTS (the pane's own order when None)

    def describe(self) -> str:
        parts = []
        if self.mine:
            parts.append("mine")
        if self.unclaimed:
            parts.append("unclaimed")
        if self.product:
            parts.append(f"product: {self.product}")
        if self.text:
            parts.append(f"text: “{self.text}”")
        return " · ".join(parts)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


FILTER_WORD_MIN = 3  # letters or digits a filter word needs to be matched through the filter index


def filter_words(text: str | None) -> tuple[list[str], list[str]]:
    """Split a pane filter into (indexed words, short words). A word with FILTER_WORD_MIN or more
    letters/digits is matched as a word prefix in the pane's filter table; a shorter one (the
    first keys of as-you-type) as a substring, as its index prefix would expand to most of it."""
    long_words: list[str] = []
    short: list[str] = []
    for w in (text or "").split():
        (long_words if sum(ch.isalnum() for ch in w) >= FILTER_WORD_MIN else short).append(w)
    return long_words, short


def filter_match(words: list[str]) -> str | None:
    """The FTS5 query for the indexed words: every one must match, each as a phrase whose last
    token may be a prefix ("CASE-10" is the phrase case + 10*, so a ref matches exactly or by
    prefix; "ERR_LOC" is err + loc*)."""
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words)


def _filters(f: PaneFilter, me: str, owner_col: str, text_cols: tuple[str, ...], fts: str | None = None,
             probe: bool = True, qual: str = "") -> tuple[str, dict[str, Any]]:
    """SQL terms (each starting with " AND ") and parameters for a pane filter.

    Text: every whitespace-separated word must match the record. A word with 3+ letters or digits
    matches when some word of the record's filter columns (ref, subject or title, asker or
    customer, product, component) starts with it, case and accents ignored ("time" matches
    "Timeout", "CASE-12" matches CASE-12 and CASE-123…); it is looked up in the pane's filter
    table `fts`. A shorter word matches as a case-insensitive substring of one of those columns.
    With probe, the rowids the filter table finds are a set each scanned row is tested against
    (`+id` keeps the planner walking the pane's own index, in page order); without it the caller
    joins on them; `qual` ("c.") qualifies the record's columns for such a join."""
    where: list[str] = []
    owner_col = qual + owner_col
    text_cols = tuple(qual + c for c in text_cols)
    params: dict[str, Any] = {}
    if f.mine:
        where.append(f"{owner_col} = :me")
        params["me"] = me
    if f.unclaimed:
        where.append(f"{owner_col} IS NULL")
    if f.product:
        where.append(f"{qual}product = :product")
        params["product"] = f.product
    long_words, short = filter_words(f.text)
    if fts is None:  # plain substring match of every word (no filter table)
        short, long_words = short + long_words, []
    q = filter_match(long_words)
    if q is not None:
        params["fq"] = q
        if probe:
            where.append(f"+{qual}id IN (SELECT rowid FROM {fts} WHERE {fts} MATCH :fq)")
    for i, w in enumerate(short):
        params[f"pat{i}"] = like_pattern(w)
        where.append("(" + " OR ".join(f"{c} LIKE :pat{i} ESCAPE '\\'" for c in text_cols) + ")")
    return "".join(f" AND {w}" for w in where), params
