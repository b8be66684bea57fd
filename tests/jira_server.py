"""jira820, an independent emulator of Jira Data Center 8.20 (PyPI, MIT), on 127.0.0.1 for the
tests (pytest plugin module, loaded from tests/conftest.py).

* ``jira_server`` (session scope): one emulator for the whole run; tests that only read use it.
* ``jira_factory`` (function scope): ``jira_factory()`` starts a fresh emulator (its own state,
  ~1 s) for a test that writes; ``jira_factory(latency_ms=50)`` a slow one. Stopped after the test.

Every emulator starts from the same data: seed ``SEED`` and "today" ``DATE`` (jira820 derives its
whole dataset from the pair). Its writes stamp ``updated`` with that date at 09:00, so two
changes to one issue carry the same ``updated``: the same-minute case the connector must handle.

When jira820 is not installed or does not start: under ``CI=true`` the fixture fails with the
reason; elsewhere the Jira tests are skipped with it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

SEED = "7"
DATE = "2026-01-15"
PROJECT = "JIRA820"
START_TIMEOUT = 30.0


@dataclass
class JiraServer:
    url: str
    proc: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def client(self) -> httpx.Client:
        """A plain client for checking what the emulator holds (as an admin would, by REST)."""
        return httpx.Client(base_url=self.url, timeout=10, headers={"Authorization": "Bearer test-token"})


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_jira(workdir: Path, *, latency_ms: int = 0, shape: dict[str, int] | None = None) -> JiraServer:
    """Start one emulator; raises RuntimeError with the reason and log tail when it does not come up.
    ``shape``: jira820's volume knobs (``standalone_per_module``, ``history_per_module``, …) for a
    bigger dataset (the benchmark's)."""
    try:
        import jira820  # noqa: F401
    except ImportError:
        raise RuntimeError("jira820 is not installed (make .venv/.installed-test installs it)") from None
    port = _free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"jira820-{port}.log"
    env = {**os.environ, "JIRA820_HOST": "127.0.0.1", "JIRA820_PORT": str(port), "JIRA820_SEED": SEED,
           "JIRA820_DATE": DATE, "JIRA820_LATENCY_MS": str(latency_ms), "JIRA820_LOCALE": "en"}
    for var in ("JIRA820_CONFIG", "JIRA820_PERSIST", "JIRA820_READONLY", "JIRA820_PROJECT_KEY"):
        env.pop(var, None)
    if shape:
        config = workdir / f"jira820-{port}.yaml"
        config.write_text("".join(f"{k}: {int(v)}\n" for k, v in shape.items()), encoding="utf-8")
        env["JIRA820_CONFIG"] = str(config)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jira820"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=workdir)
    server = JiraServer(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(server.url + "/rest/api/2/serverInfo", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    tail = log.read_text(errors="replace").splitlines()[-20:]
    raise RuntimeError("jira820 did not start:\n" + "\n".join(tail))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def jira_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JiraServer]:
    try:
        server = start_jira(tmp_path_factory.mktemp("jira820"))
    except RuntimeError as exc:
        _unavailable(str(exc))
        return
    yield server
    server.stop()


@pytest.fixture
def jira_factory(tmp_path: Path) -> Iterator[Callable[..., JiraServer]]:
    started: list[JiraServer] = []

    def make(latency_ms: int = 0) -> JiraServer:
        try:
            server = start_jira(tmp_path / f"jira{len(started)}", latency_ms=latency_ms)
        except RuntimeError as exc:
            _unavailable(str(exc))
            raise
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
