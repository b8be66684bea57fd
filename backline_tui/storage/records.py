"""Writing and reading whole records by ref: the one write path for demo, import and sync.
One table's rows (the upserts, links by ref) are rows.py; what derives from records is
derived.py; the replica as interchange records is export.py."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, Iterable

from backline_tui.storage.chunks import chunked
from backline_tui.storage.derived import bugs_of_cases, refresh_article_stats, refresh_bug_impact
from backline_tui.storage.rows import (
    TABLE_OF,
    RecordError,
    _id_of,
    _ids_by_ref,
    add_link,
    upsert_articles,
    upsert_bugs,
    upsert_cases,
    upsert_help_requests,
    upsert_messages,
)

if TYPE_CHECKING:
    from backline_tui.config import Config


# -- reading whole records (for detail views and export) -------------------------------------------


def get_record(conn: sqlite3.Connection, kind: str, ref_or_id: str | int) -> dict[str, Any] | None:
    """A record by id or ref; a short ref (RT#12) also finds the one record stored qualified
    (support:RT#12) when two sources share it (None when it names several: see find_records)."""
    table = TABLE_OF[kind]
    col = "id" if isinstance(ref_or_id, int) else "ref"
    row = conn.execute(f"SELECT * FROM {table} WHERE {col} = ?", (ref_or_id,)).fetchone()
    if row is None and isinstance(ref_or_id, str):
        rows = find_records(conn, kind, ref_or_id)
        row = rows[0] if len(rows) == 1 else None
    return row


def find_records(conn: sqlite3.Connection, kind: str, ref: str) -> list[dict[str, Any]]:
    """Records of one kind a ref names: the exact ref, else every record stored as
    ``<source>:<ref>`` (a short ref two sources share)."""
    table = TABLE_OF[kind]
    rows = conn.execute(f"SELECT * FROM {table} WHERE ref = ?", (ref,)).fetchall()
    if rows or ":" in ref:
        return rows
    qualified = [f"{name}:{ref}" for name in sorted(source_names(conn))]
    marks = ",".join("?" * len(qualified))
    return [r for r in conn.execute(f"SELECT * FROM {table} WHERE ref IN ({marks}) ORDER BY ref", qualified)
            if r["ref"] == f"{r['source']}:{ref}"]


def source_names(conn: sqlite3.Connection) -> set[str]:
    """Every source the replica has heard of (from its small sync tables), and the local ones."""
    return {r["source"] for r in conn.execute(
        "SELECT source FROM sync_cursors UNION SELECT source FROM sync_log UNION SELECT source FROM outbox "
        "WHERE state != 'done'")} | {"demo", "local"}


# -- refs across sources ------------------------------------------------------------------------------

#: where each record type keeps the refs of other records: field -> the table they name
_REF_FIELDS = {"help_request": {"case_ref": "cases", "article_ref": "articles"},
               "message": {}}
_REF_TABLES = {**TABLE_OF, "message": "messages"}
_LINK_TABLES = {"case_bug": ("cases", "bugs"), "article_case": ("articles", "cases"),
                "article_request": ("articles", "help_requests")}


def _ref_row(conn: sqlite3.Connection, table: str, ref: str) -> dict[str, Any] | None:
    return conn.execute(f"SELECT id, source FROM {table} WHERE ref = ?", (ref,)).fetchone()


def local_ref(conn: sqlite3.Connection, table: str, source: str, ref: str, *, claim: bool,
              names: set[str] | None = None) -> str:
    """The ref under which the replica holds (or will hold) ``source``'s record ``ref``: short
    while no other source has that ref in the table, ``source:ref`` once one does. ``claim``:
    the record is being written; if another source holds the short ref, that record is renamed
    to its qualified ref first, so both show qualified."""
    qualified = f"{source}:{ref}"
    if _ref_row(conn, table, qualified) is not None:
        return qualified
    row = _ref_row(conn, table, ref)
    if row is None:  # shared already (stored qualified for another source)?
        others = [f"{name}:{ref}" for name in sorted((names or source_names(conn)) - {source})]
        shared = others and conn.execute(f"SELECT 1 FROM {table} WHERE ref IN ({','.join('?' * len(others))}) LIMIT 1",
                                         others).fetchone()
        return qualified if shared else ref
    if row["source"] == source:
        return ref
    if claim:
        other = f"{row['source']}:{ref}"
        conn.execute(f"UPDATE {table} SET ref = ? WHERE id = ?", (other, row["id"]))
        conn.execute("UPDATE outbox SET record_ref = ? WHERE record_ref = ? AND source = ?", (other, ref, row["source"]))
    return qualified


def _target(conn: sqlite3.Connection, table: str, source: str, ref: str, sources: set[str], names: set[str]) -> str:
    """A reference to another record: ``other:REF`` names a record of another source."""
    head, _, rest = ref.partition(":")
    if rest and head in sources and head != source:
        found = local_ref(conn, table, head, rest, claim=False, names=names)
        row = _ref_row(conn, table, found)
        # not (yet) in the replica: keep the qualified form, which names nothing, rather than
        # bind to another source's record with the same short ref
        return found if row is not None and row["source"] == head else ref
    return local_ref(conn, table, source, ref, claim=False, names=names)


def foreign_links(records: list[dict[str, Any]], sources: set[str], source: str) -> list[dict[str, Any]]:
    """Links (as a connector made them) that name a record of another configured source."""
    def foreign(ref: str) -> bool:
        head, _, rest = ref.partition(":")
        return bool(rest) and head in sources and head != source

    return [dict(r) for r in records if r.get("type") == "link" and (foreign(r["from_ref"]) or foreign(r["to_ref"]))]


def unresolved_links(conn: sqlite3.Connection, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The link records among ``records`` with an end the replica does not hold (yet)."""
    return [r for r in records if r.get("type") == "link" and len(present_ends(conn, r)) < 2]


def present_ends(conn: sqlite3.Connection, link: dict[str, Any]) -> list[str]:
    """The refs of a link's ends (replica refs) that the replica holds."""
    tables = _LINK_TABLES[link["kind"]]
    ends = (link["from_ref"], link["to_ref"])
    return [ref for table, ref in zip(tables, ends) if _ref_row(conn, table, ref) is not None]


def localize_refs(conn: sqlite3.Connection, source: str, records: list[dict[str, Any]],
                  sources: set[str]) -> None:
    """Give a source's records (as its connector made them, with its own refs) the refs the
    replica holds them under, in place; ``sources``: the configured source names (a reference
    written ``other:REF`` names a record of source ``other``)."""
    names = source_names(conn) | sources
    for r in records:
        table = _REF_TABLES.get(r.get("type") or "")
        if table and r.get("ref"):
            r["ref"] = local_ref(conn, table, source, r["ref"], claim=True, names=names)
    for r in records:
        kind = r.get("type")
        for field, table in _REF_FIELDS.get(kind, {}).items():
            if r.get(field):
                r[field] = _target(conn, table, source, r[field], sources, names)
        if kind == "message" and r.get("parent_ref"):
            r["parent_ref"] = _target(conn, TABLE_OF[r["parent_type"]], source, r["parent_ref"], sources, names)
        if kind == "link":
            from_table, to_table = _LINK_TABLES[r["kind"]]
            r["from_ref"] = _target(conn, from_table, source, r["from_ref"], sources, names)
            r["to_ref"] = _target(conn, to_table, source, r["to_ref"], sources, names)


# -- whole batches of interchange records (import and sync) ----------------------------------------

WRITE_ORDER = ("case", "bug", "article", "help_request", "message", "link")


def write_records(
    conn: sqlite3.Connection,
    config: Config,
    records: Iterable[dict[str, Any]],
    *,
    strict: bool = True,
    keep_local: set[str] | frozenset[str] = frozenset(),
) -> dict[str, int]:
    """Write interchange records (dicts as the pydantic models dump them) in reference order,
    inside the caller's transaction, and refresh what derives from them.

    strict: a reference to an unknown record raises RecordError (import); otherwise the
    reference is dropped (sync: the other end may not be visible to this user).
    keep_local: refs whose own fields must not be overwritten (they have local changes still in
    the outbox); their messages and links are still written."""
    by_type: dict[str, list[dict[str, Any]]] = {t: [] for t in WRITE_ORDER}
    for r in records:
        by_type[r["type"]].append(r)
    counts = {t: 0 for t in WRITE_ORDER}

    def fresh(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r["ref"] not in keep_local]

    rows = fresh(by_type["case"])
    if rows:
        counts["case"] = upsert_cases(conn, rows)
    rows = fresh(by_type["bug"])
    if rows:
        counts["bug"] = upsert_bugs(conn, rows)
    rows = fresh(by_type["article"])
    if rows:
        upsert_articles(conn, rows)
        counts["article"] = len(rows)
    rows = fresh(by_type["help_request"])
    if rows:
        if not strict:
            for r in rows:
                for key, table in (("case_ref", "cases"), ("article_ref", "articles")):
                    if r.get(key) and _id_of(conn, table, r[key], must=False) is None:
                        r[key] = None
        counts["help_request"] = upsert_help_requests(conn, rows, config)
    rows = by_type["message"]
    if rows:
        if not strict:
            rows = [r for r in rows if _id_of(conn, TABLE_OF[r["parent_type"]], r["parent_ref"], must=False) is not None]
        counts["message"] = upsert_messages(conn, rows)
    touched_articles: set[int] = set()
    touched_bugs: set[int] = set()
    for link in by_type["link"]:
        try:
            if add_link(conn, link["kind"], link["from_ref"], link["to_ref"], link.get("created_at"),
                        link.get("reuse", True)):
                counts["link"] += 1
        except RecordError:
            if strict:
                raise
            continue
        if link["kind"] == "case_bug":
            touched_bugs.add(_id_of(conn, "bugs", link["to_ref"]))
        else:
            touched_articles.add(_id_of(conn, "articles", link["from_ref"]))
    case_ids = list(_ids_by_ref(conn, "cases", (r["ref"] for r in fresh(by_type["case"]))).values())
    touched_bugs.update(bugs_of_cases(conn, case_ids))
    touched_bugs.update(_ids_by_ref(conn, "bugs", (r["ref"] for r in fresh(by_type["bug"]))).values())
    if touched_bugs:
        refresh_bug_impact(conn, config, touched_bugs)
    touched_articles.update(_ids_by_ref(conn, "articles", (r["ref"] for r in fresh(by_type["article"]))).values())
    if touched_articles:
        refresh_article_stats(conn, touched_articles)
    return counts


def missing_refs(conn: sqlite3.Connection, kind: str, source: str, present: Iterable[str]) -> list[tuple[str, str]]:
    """(kind, stored ref) of this source's records of ``kind`` that are not in ``present`` (the
    refs the source holds upstream now, as it names them: a record stored qualified, source:REF,
    is present as REF): what left the upstream's query, for remove_records."""
    here = set(present)
    prefix = f"{source}:"
    return [(kind, r["ref"]) for r in conn.execute(f"SELECT ref FROM {TABLE_OF[kind]} WHERE source = ?", (source,))
            if r["ref"] not in here and not (r["ref"].startswith(prefix) and r["ref"][len(prefix):] in here)]


def set_remote_version(conn: sqlite3.Connection, kind: str, ref: str, version: str | None, synced_at: str) -> None:
    conn.execute(f"UPDATE {TABLE_OF[kind]} SET remote_version = ?, synced_at = ? WHERE ref = ?", (version, synced_at, ref))


def rename_record(conn: sqlite3.Connection, kind: str, old_ref: str, new_ref: str, *, remote_id: str | None,
                  remote_version: str | None, synced_at: str | None) -> None:
    """A record made locally (DRAFT-3) now exists upstream under the upstream's id (KB#12)."""
    table = TABLE_OF[kind]
    if _id_of(conn, table, new_ref, must=False) is not None:
        # a pull already brought the upstream copy: keep it, move the local links onto it
        old_id = _id_of(conn, table, old_ref, must=False)
        new_id = _id_of(conn, table, new_ref)
        if old_id is not None and kind == "article":
            conn.execute("UPDATE OR IGNORE article_links SET article_id = ? WHERE article_id = ?", (new_id, old_id))
            conn.execute("UPDATE help_requests SET article_id = ? WHERE article_id = ?", (new_id, old_id))
            conn.execute(f"DELETE FROM {table} WHERE id = ?", (old_id,))
            refresh_article_stats(conn, [new_id])
        elif old_id is not None and kind == "bug":
            conn.execute("UPDATE OR IGNORE case_bugs SET bug_id = ? WHERE bug_id = ?", (new_id, old_id))
            conn.execute(f"DELETE FROM {table} WHERE id = ?", (old_id,))
        return
    conn.execute(
        f"UPDATE {table} SET ref = ?, remote_id = ?, remote_version = ?, synced_at = ? WHERE ref = ?",
        (new_ref, remote_id, remote_version, synced_at, old_ref),
    )


def set_message_ref(conn: sqlite3.Connection, message_id: int, ref: str, remote_id: str | None) -> None:
    """The local message was posted upstream: give it the upstream's id so a pull matches it."""
    other = conn.execute("SELECT id FROM messages WHERE ref = ? AND id != ?", (ref, message_id)).fetchone()
    if other is not None:  # the pull got there first: drop the duplicate local copy
        conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))
        return
    conn.execute("UPDATE messages SET ref = ?, remote_id = ? WHERE id = ?", (ref, remote_id, message_id))


def known_refs(conn: sqlite3.Connection, kind: str, refs: Iterable[str]) -> set[str]:
    table = TABLE_OF[kind]
    found: set[str] = set()
    for chunk, marks in chunked(refs):
        found.update(r["ref"] for r in conn.execute(f"SELECT ref FROM {table} WHERE ref IN ({marks})", chunk))
    return found


# -- a source's records as a whole (`backline sources forget`) --------------------------------------

_SOURCE_KINDS = ("help_request", "case", "bug", "article")


def source_counts(conn: sqlite3.Connection, source: str) -> dict[str, int]:
    """How many records (by kind), messages and queued ops the replica holds for one source."""
    out = {kind: conn.execute(f"SELECT COUNT(*) AS n FROM {TABLE_OF[kind]} WHERE source = ?", (source,)).fetchone()["n"]
           for kind in _SOURCE_KINDS}
    out["message"] = conn.execute("SELECT COUNT(*) AS n FROM messages WHERE source = ?", (source,)).fetchone()["n"]
    out["op"] = conn.execute("SELECT COUNT(*) AS n FROM outbox WHERE source = ? AND state != 'done'", (source,)).fetchone()["n"]
    return out


def _delete(conn: sqlite3.Connection, config: Config, kind: str, where: str, params: tuple) -> int:
    """Delete the records of one kind that match ``where`` (on the record table), with their
    messages and links; what linked to them is refreshed."""
    table = TABLE_OF[kind]
    ids = [r["id"] for r in conn.execute(f"SELECT id FROM {table} WHERE {where}", params)]
    if not ids:
        return 0
    bugs: set[int] = set()
    articles: set[int] = set()
    for part, marks in chunked(ids):
        if kind in ("help_request", "case"):
            conn.execute(f"DELETE FROM messages WHERE parent_type = ? AND parent_id IN ({marks})", (kind, *part))
            articles.update(r["article_id"] for r in conn.execute(
                f"SELECT article_id FROM article_links WHERE target_type = ? AND target_id IN ({marks})", (kind, *part)))
            conn.execute(f"DELETE FROM article_links WHERE target_type = ? AND target_id IN ({marks})", (kind, *part))
        if kind == "case":
            bugs.update(r["bug_id"] for r in conn.execute(f"SELECT bug_id FROM case_bugs WHERE case_id IN ({marks})", part))
        conn.execute(f"DELETE FROM {table} WHERE id IN ({marks})", part)
    bugs = {b for b in bugs if _exists(conn, "bugs", b)}
    articles = {a for a in articles if _exists(conn, "articles", a)}
    if bugs:
        refresh_bug_impact(conn, config, bugs)
    if articles:
        refresh_article_stats(conn, articles)
    return len(ids)


def _exists(conn: sqlite3.Connection, table: str, row_id: int) -> bool:
    return conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)).fetchone() is not None


def remove_records(conn: sqlite3.Connection, config: Config, gone: Iterable[tuple[str, str]], source: str,
                   keep_local: set[str] | frozenset[str] = frozenset()) -> int:
    """Records that left their kind upstream (moved, no longer matching, merged away)."""
    removed = 0
    for kind, ref in gone:
        if ref not in keep_local:
            removed += _delete(conn, config, kind, "ref = ? AND source = ?", (ref, source))
    return removed


def replace_case_links(conn: sqlite3.Connection, config: Config, source: str, case_refs: Iterable[str],
                       links: Iterable[tuple[str, str]]) -> int:
    """The case-bug links between records of ``source`` of these cases are exactly ``links``
    (case ref, bug ref): the others were removed upstream. Links to records of other sources are
    kept (they are held locally and upstream as URLs)."""
    keep = set(links)
    removed = 0
    touched: set[int] = set()
    for ref in case_refs:
        for row in conn.execute(
                "SELECT cb.case_id, cb.bug_id, b.ref FROM case_bugs cb JOIN cases c ON c.id = cb.case_id "
                "JOIN bugs b ON b.id = cb.bug_id WHERE c.ref = ? AND c.source = ? AND b.source = ?",
                (ref, source, source)).fetchall():
            if (ref, row["ref"]) not in keep:
                conn.execute("DELETE FROM case_bugs WHERE case_id = ? AND bug_id = ?", (row["case_id"], row["bug_id"]))
                touched.add(row["bug_id"])
                removed += 1
    if touched:
        refresh_bug_impact(conn, config, touched)
    return removed


def forget_source(conn: sqlite3.Connection, config: Config, source: str) -> dict[str, int]:
    """Delete every record of one source, with its messages, links, queued ops and cursors, inside
    the caller's transaction; records of other sources lose their links to them."""
    counts = source_counts(conn, source)
    for kind in _SOURCE_KINDS:
        _delete(conn, config, kind, "source = ?", (source,))
    conn.execute("DELETE FROM messages WHERE source = ?", (source,))
    conn.execute("DELETE FROM outbox WHERE source = ?", (source,))
    conn.execute("DELETE FROM sync_cursors WHERE source = ?", (source,))
    conn.execute("DELETE FROM pending_links WHERE source = ?", (source,))
    conn.execute("DELETE FROM history_pending WHERE source = ?", (source,))
    conn.execute("DELETE FROM history_backfill WHERE source = ?", (source,))
    return counts
