"""Secrets for any connector: from the environment, the system keyring or a 0600 config file.
Never stored in the replica, never printed, never logged."""

from __future__ import annotations

import os

from backline_tui.config import SourceConfig
from backline_tui.sync.base import SourceError


def resolve_secret(src: SourceConfig) -> tuple[str | None, str | None]:
    """(password, token) for a source: the environment variables named in the config, else the
    system keyring (service "backline", the source name), else the 0600 config file."""
    if src.token_env and os.environ.get(src.token_env):
        return None, os.environ[src.token_env]
    if src.password_env and os.environ.get(src.password_env):
        return os.environ[src.password_env], None
    try:
        import keyring

        stored = keyring.get_password("backline", src.name)
    except Exception:  # noqa: BLE001 — no keyring backend here: fall through
        stored = None
    if stored:
        return stored, None
    if src.token is not None:
        return None, src.token.get_secret_value()
    if src.password is not None:
        return src.password.get_secret_value(), None
    where = f"set the environment variable {src.password_env}" if src.password_env else "set password_env in the config"
    raise SourceError(f"no password for source {src.name}: {where}, or store it with 'keyring set backline {src.name}'")
