"""The log: an unexpected error leaves its traceback in the log file and one line on screen that
says where the log is; nothing from the terminal-driving kind gets into the file."""

from __future__ import annotations

import logging

from backline_tui import log
from backline_tui.app import BacklineApp
from backline_tui.cli import main

from tests.test_ui_support import settle


def test_an_internal_error_in_a_command_is_one_line_and_a_traceback_in_the_log(tmp_path, monkeypatch, capsys):
    logfile = tmp_path / "logs" / "backline.log"
    monkeypatch.setenv("BACKLINE_LOG_FILE", str(logfile))
    import backline_tui.cli.status as status

    def broken(args):
        raise RuntimeError("forced for the test")

    monkeypatch.setattr(status, "cmd_status", broken)
    code = main(["status", "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert code == 70
    assert err.count("\n") == 1, err
    assert "RuntimeError: forced for the test" in err and str(logfile) in err
    text = logfile.read_text()
    assert "Traceback (most recent call last)" in text and "in broken" in text


async def test_an_internal_error_in_the_workbench_is_one_line_and_a_traceback_in_the_log(wb, tmp_path, monkeypatch):
    logfile = tmp_path / "ui.log"
    monkeypatch.setenv("BACKLINE_LOG_FILE", str(logfile))
    app = BacklineApp(wb)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)

        def broken(*args, **kwargs):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(wb, "pane", broken)
        await pilot.press("2")
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("disk on fire" in m and str(logfile) in m and "\n" not in m for m in said), said
    text = logfile.read_text()
    assert "Traceback (most recent call last)" in text and "RuntimeError: disk on fire" in text


def test_the_log_file_holds_no_control_sequences(tmp_path, monkeypatch):
    logfile = tmp_path / "clean.log"
    monkeypatch.setenv("BACKLINE_LOG_FILE", str(logfile))
    log.setup()
    log.get("test").error("upstream said \x1b]52;c;ZXZpbA==\x07 and \x1b[2J")
    for handler in logging.getLogger(log.LOGGER).handlers:
        handler.flush()
    text = logfile.read_text()
    assert "\x1b" not in text and "\x07" not in text and "upstream said" in text
