"""The facade's base: the replica, the config (validated at first use), the clock, and the one
way every action runs."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from backline_tui.clock import Clock, to_ts
from backline_tui.storage import Replica
from backline_tui.storage import derived, outbox
from backline_tui.storage import records

if TYPE_CHECKING:
    import sqlite3

    from backline_tui.config import Config


class ActionError(Exception):
    """An action that cannot be done, said so a person understands why."""


#: what an action does once its record is loaded: check it (raise ActionError to refuse) and
#: write the change with conn at time now; it returns the outbox op's payload, or None to queue
#: no op (then it queued what it needed itself)
Change = Callable[["sqlite3.Connection", dict, str], "dict[str, Any] | None"]


class WorkbenchCore:
    def __init__(self, replica: Replica, config: Config | None = None, clock: Clock | None = None,
                 config_loader: Callable[[], Config] | None = None) -> None:
        """With `config_loader` instead of a config, the config is validated at first use (on
        the database thread: building the models costs ~100 ms, a third of the start-up), so
        the first page of the help queue, which needs none of it, shows before."""
        self.replica = replica
        self.clock = clock or Clock()
        self._config: Config | None = None
        self._config_loader = config_loader
        self._config_lock = threading.Lock()
        self.config_refreshed = False  # stored values were recomputed for a changed config
        if config_loader is None:
            if config is None:
                from backline_tui.config import Config

                config = Config()
            self._use_config(config)

    def _use_config(self, config: Config) -> None:
        # a read first: opening the workbench takes the write lock only when the config's
        # thresholds changed (never waits behind a running sync otherwise)
        if not derived.derived_current(self.replica.conn, config):
            with self.replica.transaction() as conn:
                self.config_refreshed = derived.refresh_derived_if_config_changed(conn, config)
        self._config = config

    @property
    def config(self) -> Config:
        if self._config is None:
            with self._config_lock:
                if self._config is None:
                    self._use_config(self._config_loader())
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        self._config = config

    def load_config(self) -> Config:
        """The config, validated now if it was not yet (raises ConfigError)."""
        return self.config

    @property
    def config_loaded(self) -> bool:
        return self._config is not None

    @classmethod
    def open(cls, db_path: str | Path, config: Config | None = None, clock: Clock | None = None,
             config_loader: Callable[[], Config] | None = None):
        return cls(Replica(db_path), config, clock, config_loader)

    def close(self) -> None:
        self.replica.close()

    @property
    def me(self) -> str:
        return self.config.me

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def _conn(self):
        return self.replica.conn

    def _get(self, kind: str, ref: str | int) -> dict:
        """The record by id, ref or qualified ref (source:REF); a short ref two sources share is
        refused with the qualified forms to choose from."""
        row = records.get_record(self._conn, kind, ref)
        if row is None:
            several = records.find_records(self._conn, kind, ref) if isinstance(ref, str) else []
            if several:
                names = ", ".join(r["ref"] for r in several)
                raise ActionError(f"{ref} names {len(several)} {kind.replace('_', ' ')}s ({names}); say which")
            raise ActionError(f"{kind.replace('_', ' ')} {ref} is not in the replica")
        return row

    def _refusal(self, op: str, record: dict, payload: dict | None = None) -> str | None:
        """Why the record's source cannot take this op through its mapping (sync/mapping.py), or
        None when it can."""
        from backline_tui.sync.mapping import link_holders, write_refusal

        reason = write_refusal(self.config, record["source"], op, payload)
        if reason and op in ("link", "unlink") and link_holders(self.config, op, record["source"], (payload or {}).get("bug_source")):
            return None  # the bug's upstream holds it (a Jira remote link): not refused
        return reason

    def _refuse_unmapped(self, op: str, record: dict, payload: dict | None = None) -> None:
        reason = self._refusal(op, record, payload)
        if reason:
            raise ActionError(reason)

    def _enqueue(self, conn, now: str, op: str, kind: str, record: dict, payload: dict | None = None) -> int:
        """Queue an op an action adds itself (beside its own): refused like every op its
        source's mapping cannot write; the transaction then rolls the action back."""
        self._refuse_unmapped(op, record, payload)
        return outbox.enqueue(conn, now, op, kind, record, payload)

    def _act(self, kind: str, ref: str | int, op: str, change: Change, intent: dict | None = None) -> dict:
        """Every action, written once: load the record, refuse an op its source's mapping cannot
        write (before anything is written; `intent` holds the values that decide it, e.g. a
        priority), let `change` check and write it, and queue `op` with the payload `change`
        returns, all in one transaction. Returns the record as loaded (before the change); the
        action then returns the record as it is now."""
        with self.replica.transaction() as conn:
            record = self._get(kind, ref)
            self._refuse_unmapped(op, record, intent)
            now = to_ts(self.now())
            payload = change(conn, record, now)
            if payload is not None:
                self._enqueue(conn, now, op, kind, record, payload)
        return record
