"""The SQLite replica: schema, migrations, paged queries, outbox, cursors. No textual here."""

from backline_tui.storage.replica import Replica, SchemaTooNew, StorageError

__all__ = ["Replica", "SchemaTooNew", "StorageError"]
