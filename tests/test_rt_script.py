"""scripts/rt-server.sh as the README runs it: executable, and quiet when it stops a server."""

from __future__ import annotations

import subprocess

import pytest

from tests.rt_server import SERVER_SCRIPT

pytestmark = pytest.mark.rt


def test_rt_server_script_is_executable_in_git_and_stops_without_proc_errors(rt_server_factory):
    mode = subprocess.run(["git", "ls-files", "-s", str(SERVER_SCRIPT)], capture_output=True, text=True,
                          cwd=SERVER_SCRIPT.parent)
    if mode.returncode == 0 and mode.stdout:
        assert mode.stdout.startswith("100755 ")
    server = rt_server_factory()
    status = subprocess.run([str(SERVER_SCRIPT), "status", str(server.data_dir)], capture_output=True, text=True)
    assert status.returncode == 0 and f"RT_URL={server.url}" in status.stdout
    stop = subprocess.run([str(SERVER_SCRIPT), "stop", str(server.data_dir)], capture_output=True, text=True)
    assert stop.returncode == 0
    assert stop.stderr.strip().splitlines() == [f"[rt-server] stopped PID {server.pid}"], stop.stderr
    assert not server.is_running()
