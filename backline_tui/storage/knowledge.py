"""Knowledge in the flow of work, in SQL: the articles and past answers most likely to answer a
question, the pickers' searches, article links that count as reuse, case↔bug unlinks and what a
bug drafted from a case says of its customer (a new bug itself is written by
mutations.add_local_bug). No textual; text comes back as stored (widgets sanitise it).

How related knowledge is found, in bounded time at any size:
- The question's words (3+ characters, no stopwords) are counted in the index, each count capped
  at DF_CAP (a capped count stops reading postings early; fts5vocab and bm25 read them all: at a
  million cases bm25 over a common word cost ~1.3 µs a match, 10 ms for "records").
- Candidates are the newest CANDIDATES matches (FTS5 walks postings in rowid order and stops) of
  the most precise query that finds enough: all of the subject's three rarest words, then two,
  then any of the four rarest words of subject and body.
- Candidates are scored in Python: each question word found in the title counts TITLE_WEIGHT
  times its rarity (log of rows over matches), in the body once; the same product, the same
  component and a validated article multiply the score. Archived articles never show.
"""

from __future__ import annotations

import math
import re
import sqlite3
from typing import Any

from backline_tui.storage.search import _tokens

# words too common in questions to say what they are about
STOPWORDS = frozenset("""
a about after again all also am an and any are as at be been before being but by can cannot could
did do does doing done for from get gets getting got had has have having he her here him his how
i if in into is it its just know like may me might more most my need needs no not now of on once
only or other our out over own please same see sees seen she should so some still such than that
the their them then there these they this those through to too under until up very via was we
were what when where which while who why will with would yet you your customer customers issue
problem question help thanks hello
""".split())
MAX_WORDS = 12  # words of a question considered
DF_CAP = 2000  # matches counted per word at most
CANDIDATES = 80  # newest matches of a query taken as candidates
TITLE_WEIGHT = 3.0
_NUMBERISH = re.compile(r"^\d+$")


def question_words(text: str) -> list[str]:
    """The distinct words of `text` that can say what it is about: tokens as FTS5 sees them,
    3+ characters, no stopwords, no bare numbers; first occurrence first."""
    out: list[str] = []
    for t in _tokens(text or ""):
        if len(t) < 3 or t in STOPWORDS or _NUMBERISH.match(t) or t in out:
            continue
        out.append(t)
        if len(out) >= MAX_WORDS:
            break
    return out


def _quote(words: list[str]) -> list[str]:
    return ['"' + w.replace('"', '""') + '"' for w in words]


def _doc_counts(conn: sqlite3.Connection, fts: str, words: list[str]) -> dict[str, int]:
    """Rows matching each word, counted up to DF_CAP; words found nowhere are left out."""
    counts = {}
    for w, q in zip(words, _quote(words)):
        n = conn.execute(f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH ? LIMIT {DF_CAP})",
                         (q,)).fetchone()["n"]
        if n:
            counts[w] = n
    return counts


def match_plan(subject_words: list[str], counts: dict[str, int]) -> list[str]:
    """The FTS5 queries to try, most precise first (see the module's note)."""
    rare = sorted(counts, key=lambda w: counts[w])
    subject = [w for w in rare if w in subject_words]
    plans = []
    if len(subject) >= 3:
        plans.append(" AND ".join(_quote(subject[:3])))
    if len(subject) >= 2:
        plans.append(" AND ".join(_quote(subject[:2])))
    if rare:
        plans.append(" OR ".join(_quote(rare[:4])))
    return plans


def _candidates(conn: sqlite3.Connection, fts: str, text: str, subject: str, want: int, itself: bool = False
                ) -> tuple[list[int], dict[str, float]]:
    """Candidate rowids (newest matches of the first plans that find `want`), and each
    question word's weight (its rarity). `itself`: the question is a row of `fts` (a help
    request among help requests), so each word matches one row less that could answer it."""
    words = question_words(text)
    counts = _doc_counts(conn, fts, words)
    if itself:
        counts = {w: n - 1 for w, n in counts.items() if n > 1}
    if not counts:
        return [], {}
    rows = conn.execute(f"SELECT MAX(rowid) AS n FROM {fts}").fetchone()["n"] or 1
    weights = {w: math.log(1 + rows / n) for w, n in counts.items()}
    found: dict[int, None] = {}
    for q in match_plan(question_words(subject), counts):
        for r in conn.execute(f"SELECT rowid AS id FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid DESC LIMIT ?",
                              (q, CANDIDATES)):
            found[r["id"]] = None
        if len(found) >= want:
            break
    return list(found), weights


def _text_score(title: str, body: str, weights: dict[str, float]) -> float:
    in_title, in_body = set(_tokens(title or "")), set(_tokens(body or ""))
    return sum(w * (TITLE_WEIGHT * (t in in_title) + (t in in_body)) for t, w in weights.items())


def _excerpt(body: str, words, title: str = "") -> str:
    """A line of `body` to show under its title: the first of its Resolution (KCS) that holds one
    of `words`, else the Resolution's first line, else the first line of prose holding one of
    `words`, else its first line of prose; lines that only repeat the title are skipped."""
    head = (title or "").strip().rstrip(".")
    resolution: list[str] = []
    prose: list[str] = []
    section = ""
    for raw in (body or "").splitlines():
        ln = raw.strip()
        if ln.startswith("#"):
            section = ln.lstrip("#").strip().lower()
            continue
        if not ln or (head and ln.rstrip(".") == head):
            continue
        (resolution if section == "resolution" else prose).append(ln)
    wanted = set(words)
    for lines in (resolution, prose):
        hit = next((ln for ln in lines if set(_tokens(ln)) & wanted), None)
        if hit is not None or lines is resolution and lines:
            return (hit or lines[0])[:300]
    return prose[0][:300] if prose else ""


def _boost(r: dict, product: str, component: str) -> float:
    return 1.0 + 0.5 * (bool(product) and r["product"] == product) + 0.3 * (bool(component) and r["component"] == component)


def _scored(conn: sqlite3.Connection, fts: str, table: str, cols: str, title_col: str, live: str, text: str,
            subject: str | None, want: int, product: str, component: str, itself: bool = False
            ) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """The candidates of `table` that are `live`, each with its score (text × product and
    component) and its body as `_body`; and the question words' weights."""
    ids, weights = _candidates(conn, fts, text, subject if subject is not None else text, want, itself)
    if not ids:
        return [], weights
    rows = conn.execute(
        f"SELECT {cols}, {title_col} AS _title, body AS _body FROM {table} "
        f"WHERE id IN ({','.join('?' * len(ids))}) AND {live}", ids).fetchall()
    for r in rows:
        r["score"] = _text_score(r.pop("_title"), r["_body"], weights) * _boost(r, product, component)
    return rows, weights


def related_articles(conn: sqlite3.Connection, text: str, product: str = "", component: str = "",
                     limit: int = 5, subject: str | None = None) -> list[dict[str, Any]]:
    """The live articles most likely to answer `text` (whose summary is `subject`): id, ref,
    title, state, reuse_count, open_flags, product, component, excerpt, score. Archived articles
    never; at an equal text match validated ones first, then the same product and component."""
    rows, weights = _scored(conn, "articles_fts", "articles", "id, ref, title, state, reuse_count, open_flags, "
                            "product, component", "title", "state != 'archived'", text, subject, limit * 2,
                            product, component)
    for r in rows:
        r["score"] *= 1.4 if r["state"] == "validated" else 1.0
    rows.sort(key=lambda r: (-r["score"], -r["reuse_count"], -r["id"]))
    rows = [r for r in rows[:limit] if r["score"] > 0]
    for r in rows:
        r["excerpt"] = _excerpt(r.pop("_body"), weights, r["title"])
    return rows


def similar_answered(conn: sqlite3.Connection, text: str, product: str = "", component: str = "",
                     exclude_id: int | None = None, limit: int = 3, subject: str | None = None) -> list[dict[str, Any]]:
    """Answered (or resolved) help requests closest to `text`, each with its latest reply:
    id, ref, subject, status, product, component, article_id, answer, answered_by, score."""
    rows, _ = _scored(conn, "help_requests_fts", "help_requests", "id, ref, subject, status, product, component, "
                      "article_id", "subject", "status IN ('answered','resolved')", text, subject, limit * 4,
                      product, component, itself=exclude_id is not None)
    rows = [r for r in rows if r["id"] != exclude_id and r["score"] > 0]
    rows.sort(key=lambda r: (-r["score"], -r["id"]))
    out = []
    for r in rows:
        reply = conn.execute(
            "SELECT author, body FROM messages WHERE parent_type = 'help_request' AND parent_id = ? AND kind = 'reply' "
            "ORDER BY created_at DESC, id DESC LIMIT 1", (r["id"],)).fetchone()
        if reply is None:
            continue
        del r["_body"]
        r["answer"], r["answered_by"] = reply["body"], reply["author"]
        out.append(r)
        if len(out) >= limit:
            break
    return out


# -- pickers -------------------------------------------------------------------------------------

PICK_SOURCES = {
    # kind -> (table, title column, filter tables of its pickable records, extra columns)
    "article": ("articles", "title", ("articles_filter",), "state, reuse_count, product, component"),
    "bug": ("bugs", "title", ("bugs_filter",), "status, product, component, impact_score"),
    "case": ("cases", "subject", ("cases_filter_s1", "cases_filter_s2", "cases_filter_s3", "cases_filter_s4"),
             "status, customer, product, severity"),
}


_REF_PREFIX = re.compile(r"^(.*?)\d+$")


def _ref_candidates(conn: sqlite3.Connection, table: str, text: str) -> list[str]:
    """Refs `text` may name exactly: as typed, in capitals, and for a bare number that number
    after each ref prefix in use (RT#, PROJ-, ...; read from the newest records)."""
    t = text.strip()
    if not t or " " in t:
        return []
    out = [t, t.upper()]
    if t.isdigit():
        for r in conn.execute(f"SELECT ref FROM {table} ORDER BY id DESC LIMIT 50"):
            m = _REF_PREFIX.match(r["ref"])
            if m and m.group(1):
                out.append(m.group(1) + t)
    return list(dict.fromkeys(out))


PICK_PREFIX_MIN = 3  # a shorter last word matches whole tokens only ("a*" would expand to most words)


def _pick_match(text: str) -> str | None:
    """Every word a phrase; one of PICK_PREFIX_MIN+ letters or digits also matches as a prefix."""
    words = [w for w in (text or "").split() if any(ch.isalnum() for ch in w)]
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"' + ("*" if sum(ch.isalnum() for ch in w) >= PICK_PREFIX_MIN else "")
                    for w in words)


def pick(conn: sqlite3.Connection, kind: str, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """What a picker lists for `text`: the record whose ref is `text` (any case) first, then
    the open (live, for articles) records where every word matches the start of a word of the
    ref, title, product or component, case- and accent-insensitive ("proj-11" finds PROJ-11 and
    PROJ-110; "1383" finds PROJ-1383), newest first."""
    table, title, filters, extra = PICK_SOURCES[kind]
    cols = f"id, ref, {title} AS title, {extra}"
    out: dict[int, dict] = {}
    for ref in _ref_candidates(conn, table, text):
        row = conn.execute(f"SELECT {cols} FROM {table} WHERE ref = ?", (ref,)).fetchone()
        if row is not None:
            out.setdefault(row["id"], row)
    q = _pick_match(text)
    if q:
        union = " UNION ALL ".join(f"SELECT rowid FROM {f} WHERE {f} MATCH :q" for f in filters)
        try:
            rows = conn.execute(
                f"SELECT {cols} FROM {table} WHERE id IN (SELECT rowid FROM ({union}) ORDER BY rowid DESC LIMIT :n) "
                f"ORDER BY id DESC", {"q": q, "n": limit}).fetchall()
        except sqlite3.OperationalError:  # a query FTS5 cannot read: only the exact ref
            rows = []
        for r in rows:
            out.setdefault(r["id"], r)
    return list(out.values())[:limit]


# -- article links (KCS reuse) -------------------------------------------------------------------


def link_article(conn: sqlite3.Connection, article_id: int, target_type: str, target_id: int, now: str,
                 reuse: bool = True) -> bool:
    """Link an article to a help request or case; True if the link is new. A reuse moves the
    article's reuse count and last reuse."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO article_links(article_id, target_type, target_id, created_at, reuse) "
        "VALUES (?, ?, ?, ?, ?)", (article_id, target_type, target_id, now, 1 if reuse else 0))
    return cur.rowcount > 0


def unlink_article(conn: sqlite3.Connection, article_id: int, target_type: str, target_id: int) -> bool:
    cur = conn.execute("DELETE FROM article_links WHERE article_id = ? AND target_type = ? AND target_id = ?",
                       (article_id, target_type, target_id))
    return cur.rowcount > 0


def articles_of(conn: sqlite3.Connection, target_type: str, target_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT a.id, a.ref, a.title, a.state, a.reuse_count, l.reuse FROM article_links l "
        "JOIN articles a ON a.id = l.article_id WHERE l.target_type = ? AND l.target_id = ? "
        "ORDER BY l.created_at DESC, a.id", (target_type, target_id)).fetchall()


# -- case ↔ bug ----------------------------------------------------------------------------------


def unlink_case_bug(conn: sqlite3.Connection, case_id: int, bug_id: int) -> str | None:
    """Remove the link; the time it was made (for an undo), or None if there was none."""
    row = conn.execute("SELECT created_at FROM case_bugs WHERE case_id = ? AND bug_id = ?", (case_id, bug_id)).fetchone()
    if row is None:
        return None
    conn.execute("DELETE FROM case_bugs WHERE case_id = ? AND bug_id = ?", (case_id, bug_id))
    return row["created_at"] or ""


def similar_open_bugs(conn: sqlite3.Connection, text: str, product: str = "", component: str = "",
                      limit: int = 5, subject: str | None = None) -> list[dict[str, Any]]:
    """Open bugs that look like the problem in `text`, ranked as related articles are."""
    rows, _ = _scored(conn, "bugs_fts", "bugs", "id, ref, title, status, product, component, severity, impact_score, "
                      "case_count", "title", "status IN ('open','in_progress')", text, subject, limit * 2,
                      product, component)
    rows.sort(key=lambda r: (-r["score"], -r["impact_score"], -r["id"]))
    rows = [r for r in rows[:limit] if r["score"] > 0]
    for r in rows:
        del r["_body"]
    return rows
