"""A small synchronous client for Jira's REST API: Cloud (v3) and Data Center (v2).

Plain dicts in and out (Jira's own JSON). What it promises the connector:

* **Rate limits.** 429 and 503 are waited out: ``Retry-After`` when the server gives one, else a
  jittered exponential backoff; both within a patience budget (attempts and seconds).
* **Faults.** Timeouts and connection resets are retried for reads (GET, and POST searches,
  which change nothing), never for writes: a write that may or may not have landed is reported
  as :class:`JiraUnsure`, and the caller checks upstream before it is sent again. 5xx answers
  are retried for reads; a write that got a 5xx is reported, not repeated.
* **Concurrency.** At most ``concurrency`` requests are in flight at once (httpx's connection
  pool limit; a request waits for a free connection), whatever the connector's threads do.
* **Secrets.** Credentials go in headers only; no message here holds one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from backline_tui.sync.retry import Patience

__all__ = [
    "JiraAuthError",
    "JiraClient",
    "JiraError",
    "JiraGone",
    "JiraNotFound",
    "JiraRefused",
    "JiraServerError",
    "JiraUnavailable",
    "JiraUnsure",
    "Patience",
]

#: methods whose repetition changes nothing upstream (searches are POSTs on Cloud, reads all the same)
_READ = "read"
_WRITE = "write"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class JiraError(Exception):
    """Any failure talking to Jira. ``str()`` is one line and holds no secret."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = "") -> None:
        super().__init__(_one_line(message))
        self.message = _one_line(message)
        self.status = status
        self.method = method
        self.path = path


class JiraAuthError(JiraError):
    """401: the credentials were refused."""


class JiraNotFound(JiraError):
    """404: no such issue (or not visible to this account)."""


class JiraRefused(JiraError):
    """400/403/409: Jira understood and said no (the reason is in ``message``)."""


class JiraGone(JiraError):
    """410: the endpoint was retired (Cloud's old /rest/api/3/search)."""


class JiraServerError(JiraError):
    """5xx (after the retries a read is allowed)."""


class JiraUnavailable(JiraError):
    """Unreachable, or still rate limited when patience ran out."""


class JiraUnsure(JiraError):
    """A write timed out or its connection broke: it may or may not have landed upstream."""


class JiraClient:
    """One Jira site. ``api`` is "3" for Cloud, "2" for Data Center.

    Auth: Cloud takes ``email`` + API token (HTTP Basic); Data Center a personal access token
    (Bearer), or a user name + password (Basic) when no token is given."""

    def __init__(self, url: str, *, api: str, token: str | None = None, email: str | None = None,
                 user: str | None = None, password: str | None = None, timeout: float = 20.0,
                 concurrency: int = 4, patience: Patience | None = None) -> None:
        self.url = url.rstrip("/")
        self.api = api
        self.patience = patience or Patience()
        auth: httpx.Auth | None = None
        headers = {"Accept": "application/json", "User-Agent": "backline"}
        if email and token:
            auth = httpx.BasicAuth(email, token)
        elif token:
            headers["Authorization"] = f"Bearer {token}"
        elif user and password:
            auth = httpx.BasicAuth(user, password)
        self._http = httpx.Client(base_url=self.url, headers=headers, auth=auth, timeout=timeout,
                                  limits=httpx.Limits(max_connections=max(1, concurrency),
                                                      max_keepalive_connections=max(1, concurrency)))

    def close(self) -> None:
        self._http.close()

    # --------------------------------------------------------------------------- transport

    def path(self, tail: str) -> str:
        return f"/rest/api/{self.api}/{tail.lstrip('/')}"

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
                kind: str | None = None) -> Any:
        """One call with the retry policy above; the decoded JSON (None for 204)."""
        kind = kind or (_READ if method == "GET" else _WRITE)
        last: JiraError | None = None
        for attempt in range(self.patience.attempts):
            try:
                resp = self._http.request(method, path, params=params, json=json)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                what = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection broke"
                if kind == _WRITE:
                    raise JiraUnsure(f"{method} {path} {what}; it may or may not have been applied",
                                     method=method, path=path) from None
                last = JiraUnavailable(f"{what} on {method} {path}", method=method, path=path)
                if not self.patience.wait(self.patience.delay(attempt, None)):
                    break
                continue
            status = resp.status_code
            if status in (429, 503):
                last = JiraUnavailable(
                    f"{'rate limited' if status == 429 else 'unavailable'} (HTTP {status} on {method} {path})",
                    status=status, method=method, path=path)
                if not self.patience.wait(self.patience.delay(attempt, resp.headers.get("Retry-After"))):
                    break
                continue
            if status >= 500:
                last = JiraServerError(f"HTTP {status} on {method} {path}", status=status, method=method, path=path)
                if kind == _WRITE:
                    raise JiraUnsure(f"HTTP {status} on {method} {path}", status=status, method=method, path=path)
                if not self.patience.wait(self.patience.delay(attempt, None)):
                    break
                continue
            return self._answer(method, path, resp)
        assert last is not None
        raise last

    @staticmethod
    def _answer(method: str, path: str, resp: httpx.Response) -> Any:
        status = resp.status_code
        if status < 300:
            if status == 204 or not resp.content:
                return None
            try:
                return resp.json()
            except ValueError:
                raise JiraError(f"{method} {path} answered HTTP {status} with no JSON", status=status,
                                method=method, path=path) from None
        reason = _reason(resp)
        kw = {"status": status, "method": method, "path": path}
        if status == 401:
            raise JiraAuthError(f"HTTP 401 on {method} {path}", **kw)
        if status == 404:
            raise JiraNotFound(reason or f"HTTP 404 on {method} {path}", **kw)
        if status == 410:
            raise JiraGone(reason or f"{path} is gone (HTTP 410)", **kw)
        raise JiraRefused(reason or f"HTTP {status} on {method} {path}", **kw)

    def get(self, tail: str, **params: Any) -> Any:
        return self.request("GET", self.path(tail), params={k: v for k, v in params.items() if v is not None})

    # --------------------------------------------------------------------------- reads

    def server_info(self) -> dict[str, Any]:
        return self.get("serverInfo")

    def myself(self) -> dict[str, Any]:
        return self.get("myself")

    def fields(self) -> list[dict[str, Any]]:
        return self.get("field")

    def issue(self, key: str, fields: str | None = None, expand: str | None = None) -> dict[str, Any]:
        return self.get(f"issue/{quote(key)}", fields=fields, expand=expand)

    def comments(self, key: str, max_results: int = 50) -> list[dict[str, Any]]:
        """The newest comments of an issue (newest last)."""
        first = self.get(f"issue/{quote(key)}/comment", maxResults=1, startAt=0)
        total = int(first.get("total") or 0)
        start = max(0, total - max_results)
        page = self.get(f"issue/{quote(key)}/comment", maxResults=max_results, startAt=start)
        return list(page.get("comments") or [])

    def remote_links(self, key: str) -> list[dict[str, Any]]:
        return self.get(f"issue/{quote(key)}/remotelink") or []

    def search_page(self, jql: str, fields: list[str], *, start_at: int = 0, max_results: int = 100,
                    next_page_token: str | None = None) -> dict[str, Any]:
        """One page of a JQL search. Data Center: /search with startAt; Cloud: /search/jql with
        nextPageToken (the old /search answers 410 there)."""
        if self.api == "3":
            body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": max_results}
            if next_page_token:
                body["nextPageToken"] = next_page_token
            return self.request("POST", self.path("search/jql"), json=body, kind=_READ)
        return self.request("GET", self.path("search"), kind=_READ, params={
            "jql": jql, "fields": ",".join(fields), "startAt": start_at, "maxResults": max_results})

    def search(self, jql: str, fields: list[str], *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every issue matching ``jql``, page after page, in the JQL's order."""
        token: str | None = None
        start = 0
        while True:
            page = self.search_page(jql, fields, start_at=start, max_results=page_size, next_page_token=token)
            issues = page.get("issues") or []
            yield from issues
            if self.api == "3":
                token = page.get("nextPageToken")
                if not token or page.get("isLast"):
                    return
            else:
                start += len(issues)
                if not issues or start >= int(page.get("total") or 0):
                    return

    def count(self, jql: str, limit: int = 10_000) -> int | None:
        """How many issues match: Data Center's total; on Cloud (no total in /search/jql) the ids
        are counted page by page, up to ``limit`` (None beyond it)."""
        if self.api == "3":
            n = 0
            for _ in self.search(jql, ["id"], page_size=1000):
                n += 1
                if n > limit:
                    return None
            return n
        return int(self.search_page(jql, ["key"], max_results=0).get("total") or 0)

    # --------------------------------------------------------------------------- writes

    def update_issue(self, key: str, fields: dict[str, Any]) -> None:
        self.request("PUT", self.path(f"issue/{quote(key)}"), json={"fields": fields})

    def create_issue(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", self.path("issue"), json={"fields": fields})

    def add_comment(self, key: str, body: Any, visibility: dict[str, str] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"body": body}
        if visibility:
            payload["visibility"] = visibility
        return self.request("POST", self.path(f"issue/{quote(key)}/comment"), json=payload)

    def put_remote_link(self, key: str, global_id: str, url: str, title: str,
                        relationship: str | None = None) -> dict[str, Any]:
        """Create or update (Jira upserts by globalId) a remote link on an issue."""
        body: dict[str, Any] = {"globalId": global_id, "object": {"url": url, "title": title}}
        if relationship:
            body["relationship"] = relationship
        return self.request("POST", self.path(f"issue/{quote(key)}/remotelink"), json=body)

    def transitions(self, key: str) -> list[dict[str, Any]]:
        return self.get(f"issue/{quote(key)}/transitions").get("transitions") or []

    def transition(self, key: str, transition_id: str) -> None:
        self.request("POST", self.path(f"issue/{quote(key)}/transitions"), json={"transition": {"id": transition_id}})

    def assign(self, key: str, who: dict[str, str]) -> None:
        self.request("PUT", self.path(f"issue/{quote(key)}/assignee"), json=who)


def _reason(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(m) for m in data.get("errorMessages") or []]
    errors = data.get("errors") or {}
    if isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in errors.items()]
    return _one_line("; ".join(parts))
