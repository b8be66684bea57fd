"""Global search (FTS5) over help requests, cases, bugs and articles: refs first, then each kind's
newest matches, title hits before body hits, balanced by kind. Also the tokens as FTS5's
unicode61 tokenizer sees them (storage/knowledge.py scores with them)."""

from __future__ import annotations

import re
import sqlite3
import unicodedata


SEARCH_SOURCES = (
    ("help_request", "help_requests", "help_requests_fts", "subject"),
    ("case", "cases", "cases_fts", "subject"),
    ("bug", "bugs", "bugs_fts", "title"),
    ("article", "articles", "articles_fts", "title"),
)


def fts_query(text: str) -> str | None:
    """Every word must appear, in any order, each as the start of a word once it has PREFIX_MIN
    characters ("leak handles" finds what "handles leak" finds): a one- or two-letter prefix
    expands to most of the vocabulary (FTS5 merges every matching term's postings first: "t*"
    takes ~150 ms at a million cases), so shorter words match whole."""
    words = [w for w in text.replace('"', " ").split() if w]
    if not words:
        return None
    return " ".join(f'"{w}"' + ("*" if len(w) >= PREFIX_MIN else "") for w in words)


PREFIX_MIN = 3


SEARCH_WINDOW = 30


_WORD = re.compile(r"[^\W_]+")


def _tokens(text: str) -> list[str]:
    """Words as the unicode61 tokenizer (remove_diacritics 2) sees them: runs of letters and
    digits, case folded, accents dropped."""
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return _WORD.findall(text.casefold())


def _query_words(text: str) -> list[tuple[list[str], bool]]:
    """Each query word as (its tokens, whether its last one is a prefix), as fts_query reads it."""
    words = [w for w in text.replace('"', " ").split() if w]
    out = []
    for w in words:
        toks = _tokens(w)
        if toks:
            out.append((toks, len(w) >= PREFIX_MIN))
    return out


def _title_matches(title: str, words: list[tuple[list[str], bool]]) -> bool:
    """Whether every query word is in the title: its tokens in a row, the last maybe a prefix."""
    have = _tokens(title)
    for want, prefix in words:
        k = len(want)
        if not any(
            have[i : i + k - 1] == want[:-1]
            and (have[i + k - 1] == want[-1] or (prefix and have[i + k - 1].startswith(want[-1])))
            for i in range(len(have) - k + 1)
        ):
            return False
    return True


_REF_LIKE = re.compile(r"(?:[^\W\d_]+[-#])?\d+|[^\W\d_]+[-#]\d*", re.UNICODE)


def _ref_prefixes(conn: sqlite3.Connection, table: str, most: int = 8) -> list[str]:
    """The letters-and-dash starts of a table's refs (HELP-, RT#): a skip scan of the ref index,
    one lookup per prefix."""
    out: list[str] = []
    low = ""
    for _ in range(most):
        row = conn.execute(f"SELECT ref FROM {table} WHERE ref > ? ORDER BY ref LIMIT 1", (low,)).fetchone()
        if row is None:
            break
        prefix = re.match(r"\D*", row["ref"]).group(0)
        if not prefix:
            break
        out.append(prefix)
        low = prefix + "\U0010ffff"
    return out


def ref_hits(conn: sqlite3.Connection, text: str, per_kind: int = 5) -> list[dict]:
    """Records whose ref starts with `text` ("PROJ-11", "case-12"), or, for a bare number, whose
    ref is a prefix then that number ("1383" finds HELP-1383): index range lookups only."""
    word = text.strip()
    if not _REF_LIKE.fullmatch(word):
        return []
    hits: list[dict] = []
    for kind, table, _fts, title in SEARCH_SOURCES:
        starts = [p + word for p in _ref_prefixes(conn, table)] if word[0].isdigit() else [word]
        found: list[dict] = []
        for start in dict.fromkeys(s for st in starts for s in (st, st.upper())):
            found += conn.execute(
                f"SELECT '{kind}' AS kind, id, ref, {title} AS title FROM {table} WHERE ref >= ? AND ref < ? "
                "ORDER BY length(ref), ref LIMIT ?", (start, start + "\U0010ffff", per_kind)).fetchall()
        found.sort(key=lambda r: (len(r["ref"]), r["ref"]))
        hits += found[:per_kind]
    return hits


def search(conn: sqlite3.Connection, text: str, limit: int = 30, window: int = SEARCH_WINDOW) -> list[dict]:
    """The best `limit` hits, balanced by kind: the best of each kind that matches comes before
    the second best of any, so an article or a bug is never hidden behind twenty cases.

    Refs first (a partial ref or a bare number, see ref_hits). Then each kind takes its
    `window` newest FTS matches (FTS5 walks the postings in rowid order and stops); among them
    a hit whose subject or title holds every query word ranks before one found only in the
    body, then newer before older. bm25 is not used: its weights need the number of rows
    matching each phrase, a full pass over the postings whatever the window ("Replication
    ERR_LOCKED" — ERR_LOCKED is the phrase "err locked" — took ~18 ms of its ~25 ms at a
    million cases for that)."""
    q = fts_query(text)
    if q is None:
        return []
    per_kind: dict[str, list[dict]] = {kind: [] for kind, *_ in SEARCH_SOURCES}
    seen: set[tuple[str, int]] = set()
    for pos, r in enumerate(ref_hits(conn, text)):
        r["rank"] = (-1, pos)
        per_kind[r["kind"]].append(r)
        seen.add((r["kind"], r["id"]))
    words = _query_words(text)
    for kind, table, fts, title in SEARCH_SOURCES:
        sql = (
            f"SELECT '{kind}' AS kind, t.id, t.ref, t.{title} AS title "
            f"FROM (SELECT rowid FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid DESC LIMIT ?) f "
            f"JOIN {table} t ON t.id = f.rowid ORDER BY t.id DESC"
        )
        try:
            rows = conn.execute(sql, (q, window)).fetchall()
        except sqlite3.OperationalError:
            continue
        ranked = sorted(((0 if _title_matches(r["title"] or "", words) else 1, pos), r) for pos, r in enumerate(rows))
        for rank, r in ranked[:limit]:
            if (kind, r["id"]) not in seen:
                r["rank"] = rank
                per_kind[kind].append(r)
    # round robin over the kinds, the kind with the best hit first
    order = {k: n for n, (k, *_) in enumerate(SEARCH_SOURCES)}
    kinds = sorted((k for k in per_kind if per_kind[k]), key=lambda k: (per_kind[k][0]["rank"], order[k]))
    hits: list[dict] = []
    for i in range(max((len(per_kind[k]) for k in kinds), default=0)):
        hits += [per_kind[k][i] for k in kinds if i < len(per_kind[k])]
    return hits[:limit]
