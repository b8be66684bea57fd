"""Outbox, sync cursors and the sync log: queuing an op (in the action's own transaction), what
the sync engine needs, and what the workbench shows of them.

An outbox op moves ``pending`` → ``sending`` (committed before the push) → ``done``, or to
``conflict`` (upstream said someone else got there first) or ``error`` (upstream refused). An op
in error is tried again by the first sync at or after its ``next_attempt_at``, which backs off
exponentially with jitter; after failing the same way ``retry_limit`` times in a row its
``next_attempt_at`` is NULL: it waits for the user (``retry``). An op found in ``sending`` was
pushed by a sync that died before it recorded the answer: the connector checks upstream before
sending it again.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Iterator

from backline_tui.clock import to_ts
from backline_tui.storage.chunks import chunked

ACTIVE = ("pending", "sending", "error")


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    try:
        row["payload"] = json.loads(row.get("payload") or "{}")
    except ValueError:
        row["payload"] = {}
    return row


def enqueue(conn: sqlite3.Connection, now: str, op: str, kind: str, record: dict[str, Any],
            payload: dict[str, Any] | None = None) -> int:
    """Queue `op` on `record` (based on the upstream version the replica holds), inside the
    caller's transaction: the change and its op are written together or not at all."""
    cur = conn.execute(
        "INSERT INTO outbox(created_at, updated_at, op, record_type, record_ref, source, base_version, payload) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (now, now, op, kind, record["ref"], record["source"], record.get("remote_version"),
         json.dumps(payload or {}, ensure_ascii=False)),
    )
    return cur.lastrowid


def listing(conn: sqlite3.Connection, states: tuple[str, ...], limit: int = 200) -> list[dict[str, Any]]:
    """Ops in these states, oldest first, with their payloads decoded."""
    marks = ",".join("?" * len(states))
    rows = conn.execute(f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY id LIMIT ?", (*states, limit))
    return [_decode(r) for r in rows.fetchall()]


def count(conn: sqlite3.Connection, states: tuple[str, ...]) -> int:
    marks = ",".join("?" * len(states))
    return conn.execute(f"SELECT COUNT(*) AS n FROM outbox WHERE state IN ({marks})", states).fetchone()["n"]


def dismiss(conn: sqlite3.Connection, op_id: int, now: str) -> None:
    """A conflict the user has read: done with."""
    conn.execute("UPDATE outbox SET state = 'done', updated_at = ? WHERE id = ? AND state = 'conflict'", (now, op_id))


def last_sync(conn: sqlite3.Connection) -> dict[str, Any] | None:
    return conn.execute("SELECT * FROM sync_log WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()


def ops_to_push(conn: sqlite3.Connection, sources: Iterable[str]) -> list[dict[str, Any]]:
    """Ops still to reach upstream for these sources, oldest first."""
    names = list(sources)
    if not names:
        return []
    marks = ",".join("?" * len(names))
    rows = conn.execute(
        f"SELECT * FROM outbox WHERE state IN ('pending','sending','error') AND source IN ({marks}) ORDER BY id",
        names,
    ).fetchall()
    return [_decode(r) for r in rows]


def link_ops_to_push(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Case↔bug link ops still to reach upstream, of every source, oldest first."""
    rows = conn.execute(
        "SELECT * FROM outbox WHERE state IN ('pending','sending','error') AND op = 'link' ORDER BY id").fetchall()
    return [_decode(r) for r in rows]


def is_due(op: dict[str, Any], at: str) -> bool:
    """Whether `op` is to be sent at `at`: any op not in error, and an op in error once its next
    attempt has come (never one that waits for the user)."""
    return op["state"] != "error" or (op.get("next_attempt_at") is not None and op["next_attempt_at"] <= at)


def backoff_seconds(failures: int, base: int, cap: int, rnd: random.Random | None = None) -> float:
    """Wait before the next attempt after `failures` failures in a row: base × 2^(failures-1),
    at most `cap`, with "equal jitter" (between half of it and all of it) so that ops that failed
    together do not all come back at the same moment."""
    delay = min(cap, base * 2 ** max(0, failures - 1))
    return delay / 2 + (rnd or random).uniform(0, delay / 2)


def record_failure(conn: sqlite3.Connection, op: dict[str, Any], message: str, now: datetime, *, base: int,
                   cap: int, limit: int, rnd: random.Random | None = None) -> None:
    """The upstream refused `op` (as it was before this attempt): count the failure if it failed
    the same way as last time (else start again at one) and schedule the next attempt, or, at
    `limit` failures in a row, none: the op waits for the user."""
    failures = (op.get("failures") or 0) + 1 if op.get("last_error") == message else 1
    when = None
    if failures < limit:
        when = to_ts(now + timedelta(seconds=backoff_seconds(failures, base, cap, rnd)))
    conn.execute(
        "UPDATE outbox SET state = 'error', updated_at = ?, last_error = ?, failures = ?, next_attempt_at = ? "
        "WHERE id = ?",
        (to_ts(now), message, failures, when, op["id"]),
    )


def retry(conn: sqlite3.Connection, op_id: int, now: str) -> bool:
    """The user asks for an op in conflict or error to go at the next sync, whatever its back-off
    (its failures count from one again). False: no such op in conflict or error."""
    cur = conn.execute(
        "UPDATE outbox SET state = 'pending', failures = 0, next_attempt_at = NULL, last_error = NULL, "
        "updated_at = ? WHERE id = ? AND state IN ('conflict','error')", (now, op_id))
    return cur.rowcount == 1


def get_op(conn: sqlite3.Connection, op_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM outbox WHERE id = ?", (op_id,)).fetchone()
    return None if row is None else _decode(row)


def pending_sources(conn: sqlite3.Connection) -> list[str]:
    return [r["source"] for r in conn.execute(
        "SELECT DISTINCT source FROM outbox WHERE state IN ('pending','sending','error') ORDER BY source")]


def mark(conn: sqlite3.Connection, op_id: int, state: str, now: str, error: str | None = None,
         count_attempt: bool = False) -> None:
    """Move an op to `state`; the last error (and its count) stays while the op is in flight
    (sending), so that its next failure is known to be the same one."""
    conn.execute(
        "UPDATE outbox SET state = ?, updated_at = ?, last_error = CASE WHEN ? = 'sending' THEN last_error ELSE ? END, "
        "attempts = attempts + ?, next_attempt_at = NULL WHERE id = ?",
        (state, now, state, error, 1 if count_attempt else 0, op_id),
    )


def mark_reached(conn: sqlite3.Connection, op_id: int, source: str, now: str) -> None:
    """An op that goes to several upstreams (a case↔bug link across sources) reached ``source``:
    it says so in its payload ("reached") and waits, pending, for the others."""
    row = conn.execute("SELECT payload FROM outbox WHERE id = ?", (op_id,)).fetchone()
    payload = json.loads(row["payload"] or "{}")
    payload["reached"] = sorted({*(payload.get("reached") or []), source})
    conn.execute("UPDATE outbox SET state = 'pending', updated_at = ?, last_error = NULL, failures = 0, "
                 "next_attempt_at = NULL, payload = ? WHERE id = ?",
                 (now, json.dumps(payload, ensure_ascii=False), op_id))


def rebase(conn: sqlite3.Connection, source: str, ref: str, version: str | None) -> None:
    """Later ops on a record we just changed upstream are based on the version our change made."""
    conn.execute(
        "UPDATE outbox SET base_version = ? WHERE source = ? AND record_ref = ? AND state IN ('pending','error')",
        (version, source, ref),
    )


def rename_ref(conn: sqlite3.Connection, old_ref: str, new_ref: str) -> None:
    """A local ref (DRAFT-3, NEW-BUG-4) became the upstream's (KB#12, SUST-9, RT#40): ops not yet
    sent follow it, and so do ops that name it (a case linked to the new bug, an escalation
    naming its case, a link to the new article)."""
    conn.execute("UPDATE outbox SET record_ref = ? WHERE record_ref = ?", (new_ref, old_ref))
    rows = conn.execute(
        "SELECT id, payload FROM outbox WHERE payload LIKE ? AND state IN ('pending','sending','error')",
        (f"%{old_ref}%",),
    ).fetchall()
    for r in rows:
        payload = json.loads(r["payload"])
        moved = [key for key in ("article_ref", "bug_ref", "case_ref") if payload.get(key) == old_ref]
        for key in moved:
            payload[key] = new_ref
        if moved:
            conn.execute("UPDATE outbox SET payload = ? WHERE id = ?", (json.dumps(payload, ensure_ascii=False), r["id"]))


def refs_with_local_changes(conn: sqlite3.Connection, source: str) -> set[str]:
    """Refs whose local fields must not be overwritten by a pull: they have ops not yet pushed."""
    return {r["record_ref"] for r in conn.execute(
        "SELECT DISTINCT record_ref FROM outbox WHERE source = ? AND state IN ('pending','sending','error')", (source,))}


# -- cursors -------------------------------------------------------------------------------------


def get_cursors(conn: sqlite3.Connection, source: str) -> dict[str, str | None]:
    return {r["stream"]: r["cursor"] for r in conn.execute(
        "SELECT stream, cursor FROM sync_cursors WHERE source = ?", (source,))}


def set_cursor(conn: sqlite3.Connection, source: str, stream: str, cursor: str | None, now: str) -> None:
    conn.execute(
        "INSERT INTO sync_cursors(source, stream, cursor, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(source, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        (source, stream, cursor, now),
    )


# -- log ----------------------------------------------------------------------------------------


def log_start(conn: sqlite3.Connection, source: str, now: str) -> int:
    return conn.execute("INSERT INTO sync_log(source, started_at) VALUES (?, ?)", (source, now)).lastrowid


def log_finish(conn: sqlite3.Connection, log_id: int, now: str, pulled: int, pushed: int, conflicts: int,
               error: str | None) -> None:
    conn.execute(
        "UPDATE sync_log SET finished_at = ?, pulled = ?, pushed = ?, conflicts = ?, error = ? WHERE id = ?",
        (now, pulled, pushed, conflicts, error, log_id),
    )


def source_status(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Per source: when its last good sync ended (ok_at), and, when its latest sync failed, when
    and why (failed_at, error)."""
    out: dict[str, dict[str, Any]] = {}
    for r in conn.execute(
            "SELECT l.source, l.finished_at, l.error, (SELECT MAX(finished_at) FROM sync_log o WHERE o.source = l.source "
            "AND o.error IS NULL AND o.finished_at IS NOT NULL) AS ok_at FROM sync_log l WHERE l.id IN "
            "(SELECT MAX(id) FROM sync_log WHERE finished_at IS NOT NULL GROUP BY source)"):
        failed = r["error"] is not None
        out[r["source"]] = {"ok_at": r["ok_at"], "failed_at": r["finished_at"] if failed else None,
                            "error": r["error"]}
    return out


def last_syncs(conn: sqlite3.Connection) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The last sync that succeeded and the last one that failed (either may be None)."""
    ok = conn.execute("SELECT * FROM sync_log WHERE finished_at IS NOT NULL AND error IS NULL "
                      "ORDER BY id DESC LIMIT 1").fetchone()
    failed = conn.execute("SELECT * FROM sync_log WHERE finished_at IS NOT NULL AND error IS NOT NULL "
                          "ORDER BY id DESC LIMIT 1").fetchone()
    return ok, failed


def local_versions(conn: sqlite3.Connection, table: str, refs: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for chunk, marks in chunked(refs):
        for r in conn.execute(f"SELECT ref, remote_version FROM {table} WHERE ref IN ({marks})", chunk):
            out[r["ref"]] = r["remote_version"]
    return out


# -- one sync at a time ---------------------------------------------------------------------------


class SyncBusy(Exception):
    """Another sync of the same database is running; the sentence says so."""


@contextlib.contextmanager
def sync_lock(db_path: str | Path) -> Iterator[None]:
    """Hold the database's sync lock (an flock on ``<db>.sync.lock``) or raise SyncBusy.

    Two syncs pushing the same outbox at once would both send an op (the second one sees it in
    ``sending`` and takes it for the leftover of a crashed sync), so a second sync (cron while the
    workbench syncs, say) does nothing and says why. The kernel drops the lock when its process
    dies, so a SIGKILLed sync never leaves it stale."""
    path = str(db_path)
    if path == ":memory:" or path.startswith("file:"):
        yield
        return
    try:
        import fcntl
    except ImportError:  # not POSIX: no guard
        yield
        return
    lock_path = f"{path}.sync.lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # a directory we cannot write: the database cannot be written either
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise SyncBusy(f"another sync of {path} is running{who}; this one sent and fetched nothing") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# -- ops that cancel out -------------------------------------------------------------------------


def take_back(conn: sqlite3.Connection, source: str, ref: str, op: str,
              payload: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """If the newest unsent op on this record is a still-pending `op`, delete it and return it:
    the change that would cancel it (unclaim after claim, an undo) then needs no op of its own,
    and upstream never sees the pair. An op already sending, or followed by another op on the
    same record, stays; so does one whose payload differs from the given `payload` items."""
    row = conn.execute(
        "SELECT * FROM outbox WHERE source = ? AND record_ref = ? AND state IN ('pending','sending','error','conflict') "
        "ORDER BY id DESC LIMIT 1", (source, ref)).fetchone()
    if row is None or row["op"] != op or row["state"] != "pending":
        return None
    found = _decode(row)
    if payload and any(found["payload"].get(k) != v for k, v in payload.items()):
        return None
    conn.execute("DELETE FROM outbox WHERE id = ?", (row["id"],))
    return found


# -- the outbox view: what the user can do with an op that did not go through ----------------------

UNSENT = ("pending", "sending", "conflict", "error")
TEXT_OPS = ("respond", "note", "offer_help")  # ops whose payload carries the text the user wrote


def rewrite(conn: sqlite3.Connection, op_id: int, body: str, now: str, op: str | None = None) -> bool:
    """New text for an op that carries text (and, with `op` "note", a reply made an internal
    note); the local message follows, and the op goes back in line. Not for an op being sent."""
    found = get_op(conn, op_id)
    if found is None or found["op"] not in TEXT_OPS or found["state"] == "sending":
        return False
    payload = dict(found["payload"], body=body)
    conn.execute("UPDATE outbox SET op = ?, payload = ?, state = 'pending', updated_at = ?, last_error = NULL "
                 "WHERE id = ?", (op or found["op"], json.dumps(payload, ensure_ascii=False), now, op_id))
    if payload.get("message_id"):
        kind = "note" if op == "note" else None
        conn.execute("UPDATE messages SET body = ?, kind = COALESCE(?, kind) WHERE id = ? AND remote_id IS NULL",
                     (body, kind, payload["message_id"]))
    return True


def discard(conn: sqlite3.Connection, op_id: int, now: str) -> dict[str, Any] | None:
    """Give up an op that is not being sent: it never goes upstream, and a message it would have
    posted leaves the replica (the next pull brings back what upstream holds)."""
    found = get_op(conn, op_id)
    if found is None or found["state"] not in ("pending", "conflict", "error"):
        return None
    conn.execute("UPDATE outbox SET state = 'discarded', updated_at = ? WHERE id = ?", (now, op_id))
    if found["op"] in TEXT_OPS and found["payload"].get("message_id"):
        conn.execute("DELETE FROM messages WHERE id = ? AND remote_id IS NULL", (found["payload"]["message_id"],))
    return found
