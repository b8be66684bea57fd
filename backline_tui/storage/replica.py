"""Opening the replica: pragmas, migrations with a backup first, one connection per thread."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator

from backline_tui.storage.schema import MIGRATIONS, SCHEMA_VERSION


class StorageError(Exception):
    """A storage problem, said in one line."""


class SchemaTooNew(StorageError):
    pass


def _dict_factory(cursor: sqlite3.Cursor, row: tuple) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, row)}


class Replica:
    """The local SQLite replica. Safe to share across threads: each thread gets its own connection."""

    def __init__(self, path: str | Path, *, migrate: bool = True) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        if str(self.path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the data directory {self.path.parent}: {exc.strerror or exc}") from None
        self.backup_path: Path | None = None
        if migrate:
            self.migrate()

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.row_factory = _dict_factory
            conn.execute("PRAGMA busy_timeout = 30000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -32000")
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from None
        if mode is None:
            raise StorageError(f"cannot open database {self.path}")
        with self._lock:
            self._all.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(Exception):
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    # -- transactions ----------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: no lock upgrade deadlocks). Nested use joins."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        return self.conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else next(iter(row.values()))

    # -- schema -------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self.scalar("PRAGMA user_version")

    def migrate(self) -> None:
        try:
            version = self.schema_version
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path} is not a Backline database: {exc}") from None
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"{self.path} was written by a newer Backline (schema {version}, this one knows "
                f"up to {SCHEMA_VERSION}); upgrade Backline to open it"
            )
        if version == SCHEMA_VERSION:
            return
        if version > 0:
            self.backup_path = self.backup(f"v{version}")
        for target in range(version, SCHEMA_VERSION):
            script = MIGRATIONS[target]
            try:
                self.conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {target + 1};\nCOMMIT;")
            except sqlite3.Error as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise StorageError(f"migrating {self.path} to schema {target + 1} failed: {exc}") from None

    def backup(self, label: str) -> Path:
        """A consistent copy next to the database (SQLite's online backup)."""
        dest = self.path.with_name(f"{self.path.name}.{label}.bak")
        n = 1
        while dest.exists():
            n += 1
            dest = self.path.with_name(f"{self.path.name}.{label}.{n}.bak")
        target = sqlite3.connect(dest)
        try:
            self.conn.backup(target)
        finally:
            target.close()
        return dest

    # -- meta -------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def integrity_ok(self) -> bool:
        return self.scalar("PRAGMA integrity_check") == "ok"




@contextlib.contextmanager
def rollback_journal(conn: sqlite3.Connection) -> Iterator[None]:
    """Outside a transaction: a big load into a fresh file writes every page once with a rollback
    journal, where WAL writes it twice (into the log, then back at the checkpoint). Atomicity is
    the same; WAL comes back at the end. If another connection holds the file, WAL stays."""
    switched = False
    if not conn.in_transaction:
        row = conn.execute("PRAGMA journal_mode = DELETE").fetchone()
        mode = row if row is None or isinstance(row, (tuple, str)) else next(iter(row.values()))
        mode = mode[0] if isinstance(mode, tuple) else mode
        switched = str(mode).lower() == "delete"
    try:
        yield
    finally:
        if switched:
            conn.execute("PRAGMA journal_mode = WAL")


@contextlib.contextmanager
def bulk_load(conn: sqlite3.Connection) -> Iterator[None]:
    """Inside a transaction: pause the FTS triggers and drop the secondary indexes of the record
    tables for a bulk load, then rebuild each once at the end (a sorted build and one FTS
    rebuild are several times cheaper than maintaining them row by row)."""
    from backline_tui.storage.schema import (
        FILTER_TABLES, FTS_TABLES, filter_create_statements, filter_drop_statements, fts_drop_triggers_sql,
        fts_triggers_sql,
    )

    tables = tuple(FTS_TABLES) + ("messages", "case_bugs", "article_links")
    marks = ",".join("?" * len(tables))
    indexes = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
        tables,
    ).fetchall()
    for table in FTS_TABLES:
        for stmt in fts_drop_triggers_sql(table).strip().splitlines():
            conn.execute(stmt)
    for ix in indexes:
        conn.execute(f"DROP INDEX {ix['name']}")
    for table in FILTER_TABLES:
        for stmt in filter_drop_statements(table):
            conn.execute(stmt)
    yield
    for table in FILTER_TABLES:
        for stmt in filter_create_statements(table):
            conn.execute(stmt)
    for ix in indexes:
        conn.execute(ix["sql"])
    for table, (fts, _) in FTS_TABLES.items():
        conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        for stmt in _split_triggers(fts_triggers_sql(table)):
            conn.execute(stmt)


def _split_triggers(sql: str) -> list[str]:
    return [s.strip() + "\nEND;" for s in sql.split("END;") if s.strip()]
