"""Configuration: a TOML file validated by pydantic; every threshold and weight lives here.
Reading the file (and the checks that need no schema) is config_file.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from backline_tui.domain.vocabulary import Priority, RecordKind, Severity  # noqa: F401 — re-exported
from backline_tui.config_file import (  # noqa: F401 — re-exported: the config's one import place
    APP_NAME, PRIORITIES, SECRET_KEYS, SEVERITIES, TIERS, ConfigError, default_config_path, default_db_path,
    read_config,
)



class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OLAConfig(_Strict):
    """First-response targets in minutes, by help-request priority."""

    P1: int = Field(30, gt=0)
    P2: int = Field(120, gt=0)
    P3: int = Field(480, gt=0)
    P4: int = Field(1440, gt=0)

    def minutes(self, priority: str) -> int:
        return getattr(self, priority)


class StaleConfig(_Strict):
    """Idle days after which an open case counts as stale, by severity."""

    S1: float = Field(1, gt=0)
    S2: float = Field(3, gt=0)
    S3: float = Field(7, gt=0)
    S4: float = Field(14, gt=0)
    reopen_threshold: int = Field(2, ge=1)

    def days(self, severity: str) -> float:
        return getattr(self, severity)


class ImpactConfig(_Strict):
    severity_weights: dict[str, int] = {"S1": 8, "S2": 4, "S3": 2, "S4": 1}
    tier_weights: dict[str, int] = {"enterprise": 3, "business": 2, "standard": 1}
    # minimum score for P1, P2, P3; anything lower is P4
    buckets: dict[str, float] = {"P1": 40, "P2": 15, "P3": 5}
    target_days: dict[str, int] = {"P1": 30, "P2": 60, "P3": 90, "P4": 120}
    near_target_days: int = Field(7, ge=0)

    @field_validator("severity_weights")
    @classmethod
    def _sev(cls, v: dict[str, int]) -> dict[str, int]:
        missing = set(SEVERITIES) - set(v)
        if missing:
            raise ValueError(f"missing severities {sorted(missing)}")
        return v

    @field_validator("tier_weights")
    @classmethod
    def _tier(cls, v: dict[str, int]) -> dict[str, int]:
        missing = set(TIERS) - set(v)
        if missing:
            raise ValueError(f"missing tiers {sorted(missing)}")
        return v

    @field_validator("target_days")
    @classmethod
    def _target(cls, v: dict[str, int]) -> dict[str, int]:
        missing = set(PRIORITIES) - set(v)
        if missing:
            raise ValueError(f"missing priorities {sorted(missing)}")
        return v


class KBConfig(_Strict):
    archive_after_days: int = Field(180, gt=0)
    review_interval_days: int = Field(180, gt=0)


class SourceConfig(_Strict):
    name: str
    kind: Literal["demo", "jsonl", "rt", "jira"]
    url: str | None = None
    #: Jira: "cloud" (REST v3, email + API token) or "datacenter" (REST v2, personal access token);
    #: None: detected from serverInfo
    deployment: Literal["cloud", "datacenter"] | None = None
    #: Jira Cloud: the account's email (the API token is the secret)
    email: str | None = None
    #: requests in flight at once (polite by default)
    concurrency: int = Field(4, ge=1, le=32)
    #: which upstream records are which kind, and how their fields map: validated by
    #: domain/mapping.py (parse_mapping); for RT, None means the project's own layout (the queue
    #: names below)
    mapping: dict[RecordKind, dict[str, Any]] | None = None
    path: str | None = None
    user: str | None = None
    # name of the environment variable that holds the password or token; else the keyring
    password_env: str | None = None
    token_env: str | None = None
    # allowed only in a config file nobody else can read (chmod 600); never printed
    password: SecretStr | None = None
    token: SecretStr | None = None
    help_queue: str = "Backline Help"
    case_queue: str = "Backline Cases"
    bug_queue: str = "Backline Bugs"
    kb_class: str = "Backline KB"
    timeout: float = Field(20.0, gt=0)

    @model_validator(mode="after")
    def _mapping_parses(self) -> SourceConfig:
        # a mapping that cannot be read is said when the config is loaded, in one line (ConfigError
        # passes through pydantic), not when an action or a sync first needs it
        if self.mapping is not None:
            from backline_tui.domain.mapping import MappingError, parse_mapping

            try:
                parse_mapping(self.name, self.mapping)
            except MappingError as exc:
                raise ConfigError(str(exc)) from None
        return self

    @field_validator("url")
    @classmethod
    def _no_password_in_url(cls, v: str | None) -> str | None:
        # error messages name the url ("RT at … is unreachable"): a password in it would be shown
        from urllib.parse import urlsplit

        if v and urlsplit(v).password is not None:
            raise ValueError("holds a password (user:password@); use password_env or the keyring instead")
        return v


def _login_name() -> str:
    """Who I am when the config does not say: the login name ($USER may be unset, e.g. in tmux)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"


class SyncConfig(_Strict):
    """Background sync and retries of ops the upstream refused."""

    interval: int = Field(default=120, ge=0)  # seconds between background syncs while open; 0: off
    bell: bool = True  # ring the terminal bell for new or newly breaching P1/P2 help requests
    retry_base: int = Field(default=30, ge=1)  # seconds before the first retry of an op in error
    retry_max: int = Field(default=3600, ge=1)  # the longest wait between retries
    retry_limit: int = Field(default=5, ge=1)  # failures the same way in a row before it waits for the user


class Config(_Strict):
    me: str = Field(default_factory=lambda: _login_name())
    theme: str = "textual-dark"
    ola: OLAConfig = OLAConfig()
    stale: StaleConfig = StaleConfig()
    impact: ImpactConfig = ImpactConfig()
    kb: KBConfig = KBConfig()
    sync: SyncConfig = SyncConfig()
    sources: list[SourceConfig] = []
    # what goes to the log file (backline_tui/log.py); BACKLINE_LOG in the environment wins
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    # remapped keys: binding id → key(s), e.g. {"claim" = "C", "pane.help" = "h"} (ids: `?` help)
    keys: dict[str, str] = {}

    @field_validator("keys")
    @classmethod
    def _keys(cls, v: dict[str, str]) -> dict[str, str]:
        from backline_tui.keys import check_keymap

        check_keymap(v)  # unknown ids and clashes, in one sentence
        return v

    def source(self, name: str) -> SourceConfig:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"no source named {name!r} in the config (known: {known})")


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {msg}{more}"


def load_config(path: Path | None = None) -> Config:
    """Read and validate the config; a missing file means defaults. Raises ConfigError in one line."""
    path = path or default_config_path()
    return validate_config(read_config(path), path)


def validate_config(data: dict[str, Any] | None, path: Path) -> Config:
    """The models from what read_config returned (None: no file, the defaults)."""
    if data is None:
        return Config()
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"config {path}: {_describe(exc)}") from None


def write_default_config(path: Path, me: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'# Backline configuration\nme = "{me}"\n', encoding="utf-8")
