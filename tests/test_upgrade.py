"""A database written by the first released schema (v1) opens in the current version, after a
backup is taken whenever a migration has to run, with the work still in its outbox intact."""

import shutil
import sqlite3
from pathlib import Path

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.storage import schema
from backline_tui.workbench import Workbench

from tests.factories import NOW

V1 = Path(__file__).parent / "data" / "schema-v1.db"


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
    assert wb.search("timeout") is not None
    # and it keeps working: a new action on the upgraded file
    wb.note("help_request", "HELP-1026", "after the upgrade")
    assert wb.pending_ops() == 3
    wb.close()
