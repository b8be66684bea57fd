"""A real Request Tracker 5 on 127.0.0.1 for the tests (pytest plugin module).

Load it from tests/conftest.py with ``pytest_plugins = ["tests.rt_server"]``.  It provides:

* ``rt_server`` (session scope): one RT for the whole run, seeded with Backline's layout
  (scripts/rt-seed.initialdata); tests that use it should be marked ``@pytest.mark.rt``;
* ``rt_server_factory`` (function scope): ``rt_server_factory()`` starts an extra, fresh RT
  (e.g. for a test that stops it); every server it made is stopped after the test;
* ``stock_rt_factory`` (function scope): ``stock_rt_factory()`` starts a stock RT, as a new
  team has one: no Backline seed, only RT's own "General" queue and the root user.

The data directory is made by scripts/rt-server.sh.  ``rt-setup-database`` (init + seed, ~3 s)
runs once per session into a template directory; every server then starts from a copy of that
database, so a new server costs only the rt-server start (~1.5 s).

When RT is not installed or does not start: with ``CI`` set in the environment the fixture
fails (with the reason and the tail of rt.log); without it the RT tests are skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SERVER_SCRIPT = REPO / "scripts" / "rt-server.sh"
SEED_FILE = REPO / "scripts" / "rt-seed.initialdata"
RT_SERVER_BIN = Path("/usr/share/request-tracker5/libexec/rt-server")
START_TIMEOUT = 90  # seconds, for rt-server.sh as a whole

# Files that make a data dir "initialised and seeded" for scripts/rt-server.sh.
_TEMPLATE_FILES = ("rt5.sqlite", ".db-initialized", ".db-seeded", ".root-password")
_STOCK_FILES = ("rt5.sqlite", ".db-initialized", ".root-password")


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str

    def __iter__(self) -> Iterator[str]:  # so that ``user, password = server.alice`` works
        return iter((self.user, self.password))


class RTServerError(RuntimeError):
    """RT could not be started; the message holds the reason and the log tails."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 25) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path.name}: missing)"
    return f"--- last lines of {path}:\n" + "\n".join(content[-lines:])


def rt_missing_reason() -> str | None:
    """Why RT cannot run here, or None."""
    if not RT_SERVER_BIN.exists():
        return "Request Tracker 5 is not installed (run: sudo bash scripts/rt-install.sh)"
    if not SERVER_SCRIPT.exists():
        return f"{SERVER_SCRIPT} is missing"
    return None


def _run_script(*args: str, timeout: float | None = None, seed: bool = True) -> subprocess.CompletedProcess[str]:
    env = None if seed else {**os.environ, "RT_SEED_FILE": ""}  # empty: rt-server.sh seeds nothing
    return subprocess.run(
        ["bash", str(SERVER_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT if timeout is None else timeout,
        stdin=subprocess.DEVNULL,
        env=env,
    )


def prepare_template(directory: Path, seed: bool = True) -> Path:
    """Init (+ seed, unless ``seed`` is False) an RT database in ``directory`` (once); returns it."""
    if all((directory / name).exists() for name in (_TEMPLATE_FILES if seed else _STOCK_FILES)):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    try:
        proc = _run_script("init", str(directory), seed=seed)
    except subprocess.TimeoutExpired:
        raise RTServerError(
            f"rt-server.sh init took more than {START_TIMEOUT} s\n" + _tail(directory / "rt.log")
        ) from None
    if proc.returncode != 0:
        raise RTServerError(
            f"rt-server.sh init failed (exit {proc.returncode}): {proc.stderr.strip()}\n"
            + _tail(directory / "rt.log")
        )
    return directory


class RTServer:
    """One RT instance: a data directory and a port on 127.0.0.1.

    ``stop()`` then ``start()`` again keeps the data and the port, to simulate an outage.
    """

    root = Credentials("root", "rootpass1")
    alice = Credentials("alice", "alicepw123")
    bob = Credentials("bob", "bobpw12345")
    queues = ("Backline Help", "Backline Cases", "Backline Bugs")
    article_class = "Backline KB"

    def __init__(self, data_dir: Path, port: int | None = None, template: Path | None = None,
                 seed: bool = True):
        self.seed = seed
        self.data_dir = Path(data_dir)
        self.port = port or _free_port()
        self.template = template
        self.pid: int | None = None
        self.start_seconds: float | None = None

    # ------------------------------------------------------------------ addresses
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest2(self) -> str:
        return f"{self.url}/REST/2.0"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "rt.log"

    @property
    def mbox_path(self) -> Path:
        return self.data_dir / "outgoing.mbox"

    def credentials(self, user: str) -> Credentials:
        return {"root": self.root, "alice": self.alice, "bob": self.bob}[user]

    def client(self, user: str = "alice", password: str | None = None, **kwargs):
        """An RTClient for one of the seeded users (or any user with ``password``)."""
        from backline_tui.sync.rt.client import RTClient

        if password is None:
            password = self.credentials(user).password
        return RTClient(self.url, user=user, password=password, **kwargs)

    # ------------------------------------------------------------------ lifecycle
    def _seed_from_template(self) -> None:
        if self.template is None or (self.data_dir / ".db-initialized").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for name in _TEMPLATE_FILES if self.seed else _STOCK_FILES:
            shutil.copy2(self.template / name, self.data_dir / name)

    def start(self) -> RTServer:
        reason = rt_missing_reason()
        if reason:
            raise RTServerError(reason)
        self._seed_from_template()
        began = time.monotonic()
        attempts = 3
        for attempt in range(attempts):
            try:
                proc = _run_script("start", str(self.data_dir), str(self.port), seed=self.seed)
            except subprocess.TimeoutExpired:
                raise RTServerError(
                    f"rt-server.sh start took more than {START_TIMEOUT} s\n"
                    + _tail(self.log_path) + "\n" + _tail(self.data_dir / "rt-server.log")
                ) from None
            if proc.returncode == 0:
                break
            port_taken = "already in use" in proc.stderr
            if port_taken and attempt < attempts - 1 and not self._keep_port:
                self.port = _free_port()
                continue
            raise RTServerError(
                f"rt-server.sh start failed (exit {proc.returncode}): {proc.stderr.strip()}\n"
                + _tail(self.log_path)
                + "\n"
                + _tail(self.data_dir / "rt-server.log")
            )
        env = dict(
            line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line
        )
        self.pid = int(env["RT_PID"])
        self.start_seconds = time.monotonic() - began
        self._keep_port = True  # restarts after stop() must come back on the same URL
        return self

    _keep_port = False

    def stop(self) -> None:
        proc = _run_script("stop", str(self.data_dir), timeout=30)
        if proc.returncode != 0 and self.pid:
            # last resort: the process group rt-server.sh started with setsid
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self.pid = None

    def is_running(self) -> bool:
        return _run_script("status", str(self.data_dir), timeout=10).returncode == 0

    def make_token(self, user: str = "root", description: str = "backline tests") -> str:
        """Create an RT auth token for ``user`` through RT's Perl API (REST2 has no endpoint)."""
        script = (
            "use strict; use lib '/usr/share/request-tracker5/lib'; use RT;"
            "RT::LoadConfig(); RT::Init();"
            "my $u = RT::User->new(RT->SystemUser); $u->Load($ARGV[0]) or die qq(no user\\n);"
            "my ($ok, $msg, $token) = RT::AuthToken->new(RT->SystemUser)->Create("
            "  Owner => $u->Id, Description => $ARGV[1]);"
            "die qq($msg\\n) unless $ok; print $token;"
        )
        env = {
            **os.environ,
            "RT_SITE_CONFIG": str(self.data_dir / "RT_SiteConfig.pm"),
            "RT_SITE_CONFIG_DIR": str(self.data_dir / "siteconfig.d"),
        }
        proc = subprocess.run(
            ["perl", "-e", script, user, description],
            capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0 or not proc.stdout.strip():
            raise RTServerError(f"could not create a token for {user}: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def __repr__(self) -> str:
        return f"RTServer({self.url}, data_dir={str(self.data_dir)!r}, pid={self.pid})"


def _unavailable(reason: str) -> None:
    """Fail under CI, skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"Request Tracker is required under CI: {reason}", pytrace=False)
    pytest.skip(f"Request Tracker not available: {reason.splitlines()[0]}")


@pytest.fixture(scope="session")
def rt_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised + seeded RT database directory, shared by every server of the session."""
    reason = rt_missing_reason()
    if reason:
        _unavailable(reason)
    try:
        return prepare_template(tmp_path_factory.mktemp("rt-template"))
    except RTServerError as exc:
        error = str(exc)
    _unavailable(error)
    raise AssertionError("unreachable")


def start_or_skip(server: RTServer) -> RTServer:
    """Start ``server`` for a test module: fail under CI, skip elsewhere when RT does not start."""
    try:
        return server.start()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail(f"RT did not start: {exc}")
        pytest.skip(f"RT did not start: {exc}")
    raise AssertionError("unreachable")


def _start(data_dir: Path, template: Path, seed: bool = True) -> RTServer:
    server = RTServer(data_dir, template=template, seed=seed)
    try:
        return server.start()
    except RTServerError as exc:
        error = str(exc)
    server.stop()
    _unavailable(error)
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def rt_server(
    tmp_path_factory: pytest.TempPathFactory, rt_template: Path
) -> Iterator[RTServer]:
    """The session's RT (root/alice/bob, queues, CFs, article class from rt-seed.initialdata).

    Tests must leave it running; use ``rt_server_factory`` for one you want to stop.
    """
    server = _start(tmp_path_factory.mktemp("rt-data"), rt_template)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def rt_server_factory(
    tmp_path_factory: pytest.TempPathFactory, rt_template: Path
) -> Iterator[Callable[[], RTServer]]:
    """``rt_server_factory()`` -> a new, private, running RTServer (stopped after the test)."""
    yield from _factory(tmp_path_factory, "rt-extra", rt_template, seed=True)


@pytest.fixture(scope="session")
def rt_stock_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised RT database with nothing of Backline's in it (RT's General queue, root)."""
    reason = rt_missing_reason()
    if reason:
        _unavailable(reason)
    try:
        return prepare_template(tmp_path_factory.mktemp("rt-stock-template"), seed=False)
    except RTServerError as exc:
        error = str(exc)
    _unavailable(error)
    raise AssertionError("unreachable")


@pytest.fixture
def stock_rt_factory(
    tmp_path_factory: pytest.TempPathFactory, rt_stock_template: Path
) -> Iterator[Callable[[], RTServer]]:
    """``stock_rt_factory()`` -> a new, running stock RT (stopped after the test)."""
    yield from _factory(tmp_path_factory, "rt-stock", rt_stock_template, seed=False)


def _factory(tmp_path_factory: pytest.TempPathFactory, prefix: str, template: Path,
             seed: bool) -> Iterator[Callable[[], RTServer]]:
    """A factory of private running RT servers from ``template``, each stopped after the test."""
    started: list[RTServer] = []

    def make() -> RTServer:
        server = _start(tmp_path_factory.mktemp(prefix), template, seed=seed)
        started.append(server)
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()
