"""The log: a rotating file at the user log path (platformdirs), for the tracebacks behind the
one-line messages people see. Level from BACKLINE_LOG (or the config's `log_level`), default
WARNING; BACKLINE_LOG_FILE moves the file (tests do).

Only our own words and tracebacks go there: never a secret, never an upstream text body. What
is written is passed through the one sanitiser, so `cat`ting the log cannot drive a terminal."""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOGGER = "backline"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_handler: logging.Handler | None = None


def log_path() -> Path:
    env = os.environ.get("BACKLINE_LOG_FILE")
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_log_path("backline") / "backline.log"


class _Clean(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from backline_tui.text import clean

        return clean(super().format(record))


def setup(level: str | None = None) -> Path:
    """Send the `backline` logger to the rotating file (once; later calls only change the level).
    The file is opened at the first record, so a run that logs nothing creates nothing."""
    global _handler
    path = log_path()
    name = (level or os.environ.get("BACKLINE_LOG") or "WARNING").upper()
    logger = logging.getLogger(LOGGER)
    logger.setLevel(name if name in _LEVELS else "WARNING")
    if _handler is not None and getattr(_handler, "baseFilename", None) not in (None, str(path.absolute())):
        logger.removeHandler(_handler)  # the file moved (BACKLINE_LOG_FILE changed)
        _handler.close()
        _handler = None
    if _handler is None:
        from logging.handlers import RotatingFileHandler

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3,
                                                           encoding="utf-8", delay=True)
        except OSError:
            handler = logging.NullHandler()  # an unwritable log dir must not stop the work
        handler.setFormatter(_Clean("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        _handler = handler
    return path


def get(name: str) -> logging.Logger:
    """A logger under `backline` (pass __name__)."""
    return logging.getLogger(f"{LOGGER}.{name.removeprefix('backline_tui.')}")


def internal(logger: logging.Logger, what: str, exc: BaseException) -> str:
    """Log the traceback of an unexpected error; return the one line to show, naming the log."""
    setup()
    logger.error("%s: %s: %s", what, type(exc).__name__, exc, exc_info=exc)
    return f"{what}: {type(exc).__name__}: {exc} (details in {log_path()})"
