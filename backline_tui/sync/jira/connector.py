"""The Jira connector: bugs from Jira Cloud (REST v3) or Data Center (REST v2).

* **Which issues.** ``[sources.mapping.bug]`` (and optionally ``[sources.mapping.help_request]``):
  a JQL (``query``) or a project key (``queue``); fields as jira/mapping.py says.
* **Pull, incremental.** JQL's ``updated >= "yyyy-MM-dd HH:mm"`` has minute precision (in the
  searching user's time zone) and Cloud's search index lags, so each search reaches back
  ``overlap_minutes`` before the newest ``updated`` we hold. Issues we already hold at the same
  version are not written again. The version is ``updated`` plus a digest of what we read, so a
  second change within the same minute (same ``updated``) still arrives.
* **Issues that left the JQL** (moved, deleted, changed so that they no longer match): the keys
  matching the JQL are listed (keys only, paged) at most every ``reconcile_minutes``; the
  engine drops our bugs of this source that are not among them.
* **Push, exactly once, without ETags.** Priority and target are set only when the field still
  holds what the op was based on (``updated`` and the field's digest in the version); otherwise
  the op is a conflict said in words. A resend after a crash finds what it did: a comment by its
  text among our recent comments, a link by its ``globalId`` (Jira upserts on it), a created bug
  by its marker label.

Pull is pull.py, push push.py, `sources check` check.py (mixins of JiraConnector); the version
string and the case link's globalId are versions.py.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backline_tui.clock import Clock
from backline_tui.config import Config, ConfigError, SourceConfig
from backline_tui.sync.base import SourceError
from backline_tui.sync.jira.check import JiraCheck
from backline_tui.sync.jira.client import (
    JiraAuthError, JiraClient, JiraError, JiraGone, JiraServerError, JiraUnavailable, JiraUnsure, Patience,
)
from backline_tui.sync.jira.mapping import FieldIndex, field_maps
from backline_tui.sync.jira.pull import SUPPORTED_KINDS, JiraPull
from backline_tui.sync.jira.push import JiraPush
from backline_tui.sync.mapping import FieldMap, KindMap, parse_mapping
from backline_tui.sync.secrets import resolve_secret

__all__ = ["JiraConnector"]


class JiraConnector(JiraPull, JiraPush, JiraCheck):
    def __init__(self, src: SourceConfig, config: Config, *, patience: Patience | None = None,
                 clock: Clock | None = None) -> None:
        if not src.url:
            raise SourceError(f"source {src.name} (jira) needs a url")
        self.name = src.name
        self.src = src
        self.config = config
        self.url = src.url.rstrip("/")
        self.clock = clock or Clock()
        try:
            self.mapping: dict[str, KindMap] = parse_mapping(src.name, src.mapping or {})
        except ConfigError as exc:
            raise SourceError(str(exc)) from None
        if not self.mapping:
            raise SourceError(f"source {src.name} (jira) maps nothing: add [sources.mapping.bug] with a JQL query")
        other = [k for k in self.mapping if k not in SUPPORTED_KINDS]
        if other:
            raise SourceError(f"source {src.name} (jira): mapping {', '.join(other)} is not supported yet "
                              "(bug and help_request are)")
        self._patience = patience
        self._client: JiraClient | None = None
        self._fields: FieldIndex | None = None
        self._me: dict[str, Any] | None = None
        self._pool = ThreadPoolExecutor(src.concurrency, thread_name_prefix=f"jira-{src.name}")

    # ------------------------------------------------------------------------------ plumbing

    @property
    def client(self) -> JiraClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> JiraClient:
        password, token = resolve_secret(self.src)
        secret = token or password
        deployment = self.src.deployment
        common = {"timeout": self.src.timeout, "concurrency": self.src.concurrency,
                  "patience": self._patience}
        if deployment is None:
            probe = JiraClient(self.url, api="2", **common)
            try:
                info = probe.server_info()
            except JiraError as exc:
                raise self._source_error(exc) from None
            finally:
                probe.close()
            deployment = "cloud" if str(info.get("deploymentType") or "").lower() == "cloud" else "datacenter"
        self.deployment = deployment
        if deployment == "cloud":
            if not self.src.email:
                raise SourceError(f"source {self.name} (jira cloud) needs email = \"you@example.com\" for its API token")
            return JiraClient(self.url, api="3", email=self.src.email, token=secret, **common)
        if token or not self.src.user:
            return JiraClient(self.url, api="2", token=secret, **common)
        return JiraClient(self.url, api="2", user=self.src.user, password=password, **common)

    @property
    def cloud(self) -> bool:
        return self.client.api == "3"

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._client is not None:
            self._client.close()

    def _source_error(self, exc: JiraError) -> SourceError:
        if isinstance(exc, JiraAuthError):
            return SourceError(f"Jira at {self.url} did not accept the credentials of source {self.name} "
                               "(check the token, and the email for Cloud)")
        if isinstance(exc, JiraGone):
            return SourceError(f"Jira at {self.url} retired {exc.path} (HTTP 410); this Jira needs "
                               "deployment = \"cloud\" (search by /rest/api/3/search/jql)")
        if isinstance(exc, JiraUnsure):
            return SourceError(f"Jira at {self.url} failed on a change ({exc.message}); it stays queued and is "
                               "checked before it is sent again")
        if isinstance(exc, JiraUnavailable):  # no status: no answer at all (else rate limited)
            return SourceError(f"Jira at {self.url}: {exc.message}; gave up for now, changes stay queued",
                               unreachable=exc.status is None, busy=exc.status is not None)
        if isinstance(exc, JiraServerError):
            return SourceError(f"Jira at {self.url} kept failing ({exc.message}); changes stay queued, try again later")
        return SourceError(f"Jira at {self.url}: {exc.message}")

    @property
    def fields(self) -> FieldIndex:
        if self._fields is None:
            self._fields = FieldIndex(self.client.fields())
        return self._fields

    @property
    def me(self) -> dict[str, Any]:
        if self._me is None:
            self._me = self.client.myself()
        return self._me

    def _tz(self) -> ZoneInfo | timezone:
        try:
            return ZoneInfo(str(self.me.get("timeZone") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            return timezone.utc

    def _field_id(self, fm: FieldMap, ours: str, kind: str = "bug") -> str:
        fid = self.fields.resolve(fm.source)
        if fid is None:
            close = self.fields.close_names(fm.source)
            hint = f" (close: {', '.join(close)})" if close else ""
            raise SourceError(f"source {self.name}: mapping.{kind}.fields.{ours} reads {fm.source!r}, "
                              f"which is not a field in this Jira{hint}")
        return fid

    def _maps(self, kind: str) -> dict[str, tuple[FieldMap, str]]:
        """Our field → (its map, the Jira field id)."""
        return {ours: (fm, self._field_id(fm, ours, kind))
                for ours, fm in field_maps(self.mapping[kind], kind).items()}

    def _jql(self, kind: str) -> str:
        km = self.mapping[kind]
        return km.query or f'project = "{km.queue}"'
