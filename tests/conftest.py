"""Shared fixtures: a fixed clock, a fresh replica, and a workbench over small demo data."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from backline_tui.clock import Clock, parse_ts
from backline_tui.config import Config
from backline_tui.storage import Replica
from backline_tui.sync.demo import generate
from backline_tui.workbench import Workbench

NOW = parse_ts("2026-11-23T09:00:00Z")

# the real Request Tracker for the sync tests (session fixture `rt_server`)
pytest_plugins = ["tests.rt_server", "tests.jira_server"]


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def config() -> Config:
    return Config(me="alice")


@pytest.fixture
def replica(tmp_path: Path) -> Replica:
    r = Replica(tmp_path / "backline.db")
    yield r
    r.close()


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo database built once per session; tests get a copy."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    r = Replica(path)
    generate(r, Config(me="alice"), NOW, cases=300, seed=7)
    r.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    r.close()
    return path


@pytest.fixture
def demo_db(demo_db_template: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "demo.db"
    shutil.copy(demo_db_template, dest)
    return dest


@pytest.fixture
def wb(demo_db: Path, config: Config, clock: Clock) -> Workbench:
    w = Workbench.open(demo_db, config, clock)
    yield w
    w.close()


@pytest.fixture
def empty_wb(tmp_path: Path, config: Config, clock: Clock) -> Workbench:
    w = Workbench.open(tmp_path / "empty.db", config, clock)
    yield w
    w.close()


@pytest.fixture(scope="session", autouse=True)
def _isolated_from_the_developers_files(tmp_path_factory: pytest.TempPathFactory):
    """No test sees the developer's own database, config or log: `make` exports BACKLINE_DB and
    BACKLINE_CONFIG, and platformdirs would find the real user dirs. Every test (and every
    subprocess it starts) gets an empty home of its own instead."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("BACKLINE_DB", "BACKLINE_CONFIG", "BACKLINE_LOG", "BACKLINE_DEBUG"):
            mp.delenv(name, raising=False)
        for xdg in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            mp.setenv(xdg, str(home / xdg.lower()))
        mp.setenv("BACKLINE_LOG_FILE", str(home / "backline.log"))
        yield home
