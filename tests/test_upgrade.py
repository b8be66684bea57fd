"""Upgrades: a database written at any past schema version, filled and then opened by this
Backline, ends identical (schema and data) to a fresh database at the current version holding the
same records; and the first released database, with work still in its outbox, keeps that work."""

import shutil
import sqlite3
from pathlib import Path

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.storage import Replica, schema
from backline_tui.sync.demo import generate
from backline_tui.workbench import Workbench

from tests.factories import NOW

V1 = Path(__file__).parent / "data" / "schema-v1.db"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """A fresh database at the current version, filled with a small demo (every record kind,
    messages, links, outbox work)."""
    path = tmp_path_factory.mktemp("ref") / "current.db"
    r = Replica(path)
    generate(r, Config(me="alice"), NOW, cases=60, seed=3)
    wb = Workbench(r, Config(me="alice"), Clock(NOW))
    ref = next(r["ref"] for r in wb.pane("help") if not r["owner"])
    wb.claim(ref)
    wb.respond(ref, "queued under the old schema")
    r.close()
    return path


def _schema(conn: sqlite3.Connection) -> list[tuple]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    return [(t, n, tb, " ".join((sql or "").split())) for t, n, tb, sql in rows]


def _data_tables(conn: sqlite3.Connection) -> list[str]:
    """Ordinary tables (FTS shadow tables are compared through MATCH queries instead)."""
    virtual = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")}
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return [n for n in names if not n.startswith("sqlite_") and not any(n.startswith(v + "_") for v in virtual)
            and n not in virtual]


def _dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    out = {}
    for t in _data_tables(conn):
        width = len(conn.execute(f"PRAGMA table_info({t})").fetchall())
        order = ", ".join(str(i) for i in range(1, width + 1))
        out[t] = conn.execute(f"SELECT * FROM {t} ORDER BY {order}").fetchall()
    return out


def _matches(conn: sqlite3.Connection) -> dict[str, list[int]]:
    virtual = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")]
    return {v: [row[0] for row in conn.execute(f"SELECT rowid FROM {v} WHERE {v} MATCH 'time* OR error* OR a*' "
                                               f"ORDER BY rowid")] for v in virtual}


def _at_version(path: Path, version: int, reference: Path) -> None:
    """A database built by the frozen steps 1..version, holding the reference's rows (only the
    columns that version has)."""
    conn = sqlite3.connect(path)
    for step in schema.MIGRATIONS[:version]:
        conn.executescript(f"BEGIN;\n{step}\nCOMMIT;")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("ATTACH DATABASE ? AS ref", (str(reference),))
    conn.execute("PRAGMA foreign_keys = OFF")
    with conn:
        for table in _data_tables(conn):
            if table == "meta":
                continue
            cols = [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})")]
            names = ", ".join(cols)
            conn.execute(f"INSERT INTO main.{table}({names}) SELECT {names} FROM ref.{table}")
    conn.execute("DETACH DATABASE ref")
    conn.close()


@pytest.mark.parametrize("version", range(1, schema.SCHEMA_VERSION + 1))
def test_every_past_version_upgrades_to_what_a_fresh_database_holds(tmp_path, reference, version):
    old = tmp_path / f"v{version}.db"
    _at_version(old, version, reference)
    Replica(old).close()  # opening upgrades it
    got, want = sqlite3.connect(old), sqlite3.connect(reference)
    assert got.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert _schema(got) == _schema(want)
    want_data = _dump(want)
    want_data.pop("meta")
    got_data = _dump(got)
    got_data.pop("meta")
    assert got_data == want_data
    assert _matches(got) == _matches(want)
    assert got.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_bulk_loaded_database_has_the_schema_the_migrations_make(tmp_path, reference):
    """bulk_load rebuilds indexes, triggers and filter tables from live builders: they must make
    exactly what the frozen steps made."""
    fresh = tmp_path / "fresh.db"
    Replica(fresh).close()
    assert _schema(sqlite3.connect(reference)) == _schema(sqlite3.connect(fresh))


def test_first_released_schema_opens_in_the_current_version(tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(V1, db)
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 1
    wb = Workbench.open(db, Config(me="alice"), Clock(NOW))
    assert wb.replica.schema_version == schema.SCHEMA_VERSION
    assert wb.replica.integrity_ok()
    if schema.SCHEMA_VERSION > 1:
        backup = wb.replica.backup_path
        assert backup is not None and backup.exists()
        assert sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] == 1
    # the reply written under v1 and still waiting in the outbox survives
    pending = wb.outbox(("pending",))
    assert [(o["op"], o["record_ref"]) for o in pending] == [("claim", "HELP-1026"), ("respond", "HELP-1026")]
    hr = wb.help_request("HELP-1026")
    assert hr["messages"][-1]["body"] == "Pending reply written under schema 1"
    assert all(n > 0 for n in wb.counts().values())
    # full-text search still finds the request the pending reply belongs to
    subject_word = hr["subject"].split()[0]
    assert "HELP-1026" in [h["ref"] for h in wb.search(f"{subject_word} {hr['subject'].split()[-1]}")]
    # and it keeps working: a new action on the upgraded file
    wb.note("help_request", "HELP-1026", "after the upgrade")
    assert wb.pending_ops() == 3
    wb.close()
