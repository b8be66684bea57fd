"""The config file before validation: where it is, reading it as TOML, and the checks that need
no schema (UTF-8, TOML syntax, a secret in a file others can read). No pydantic here: the
workbench reads this much before its first screen and validates the models (config.py) after.
The vocabulary is re-exported from domain/vocabulary.py, where it is defined."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from backline_tui.domain.vocabulary import PRIORITIES, SEVERITIES, TIERS  # noqa: F401 — re-exported

APP_NAME = "backline"
SECRET_KEYS = {"password", "token", "secret", "api_key", "apikey"}


class ConfigError(Exception):
    """A config problem, said in one line."""


def default_config_path() -> Path:
    env = os.environ.get("BACKLINE_CONFIG")
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_db_path() -> Path:
    env = os.environ.get("BACKLINE_DB")
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_data_path(APP_NAME) / "backline.db"


def _find_secret_keys(data: object, prefix: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}{key}"
            if key.lower() in SECRET_KEYS:
                found.append(path)
            found += _find_secret_keys(value, path + ".")
    elif isinstance(data, list):
        for i, item in enumerate(data):
            found += _find_secret_keys(item, f"{prefix}{i}.")
    return found


def read_config(path: Path) -> dict[str, Any] | None:
    """The file's TOML as a dict, None if there is no file. Raises ConfigError in one line."""
    import tomllib

    if not path.exists():
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from None
    secrets = _find_secret_keys(data)
    if secrets:
        mode = path.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            raise ConfigError(
                f"config {path} holds a secret ({secrets[0]}) and is readable by others: "
                f"run 'chmod 600 {path}', or better, move the secret to an environment variable"
            )
    return data
