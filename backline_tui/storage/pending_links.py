"""Links a pull read before their other end was in the replica (a case's RefersTo an article that
a later batch brings). They wait here, written in the same transaction as the batch that read
them, and are written as links once the other end arrives: a sync cut in between (the connection
dropped) loses none, and the next sync need not read the holding records again."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any, Iterable

from backline_tui.storage import records as record_store
from backline_tui.storage.chunks import chunked

if TYPE_CHECKING:
    from backline_tui.config import Config


def hold(conn: sqlite3.Connection, source: str, links: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Keep links whose other end is not here yet: (the link as the connector made it, the same
    link with the replica's refs). A link with neither end here has no record to wait with."""
    rows = []
    for as_read, local in links:
        ends = record_store.present_ends(conn, local)
        if ends:
            rows.append((source, json.dumps(as_read, sort_keys=True), ends[0]))
    conn.executemany("INSERT OR IGNORE INTO pending_links(source, link, holder) VALUES (?, ?, ?)", rows)


def waiting(conn: sqlite3.Connection) -> bool:
    """Whether any link waits (a sync with none writes nothing at its end)."""
    return conn.execute("SELECT 1 FROM pending_links LIMIT 1").fetchone() is not None


def forget_held_by(conn: sqlite3.Connection, source: str, refs: Iterable[str]) -> None:
    """Drop the links waiting with records pulled again: their links came again with them (and
    wait again if their other end is still missing)."""
    for part, marks in chunked(refs):
        conn.execute(f"DELETE FROM pending_links WHERE source = ? AND holder IN ({marks})", (source, *part))


def resolve(conn: sqlite3.Connection, config: Config, source: str, sources: set[str]) -> int:
    """Write the waiting links of ``source`` whose other end has arrived; returns how many."""
    done = 0
    for row in conn.execute("SELECT link FROM pending_links WHERE source = ?", (source,)).fetchall():
        link = json.loads(row["link"])
        record_store.localize_refs(conn, source, [link], sources)
        if record_store.unresolved_links(conn, [link]):
            continue
        record_store.write_records(conn, config, [link], strict=False)
        conn.execute("DELETE FROM pending_links WHERE source = ? AND link = ?", (source, row["link"]))
        done += 1
    return done
