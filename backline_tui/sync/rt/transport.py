"""The REST2 plumbing under :class:`~backline_tui.sync.rt.client.RTClient`: one httpx client,
requests with RT's errors mapped to :mod:`.errors`, 429/503 waited out (:mod:`backline_tui.sync.retry`),
message lists read for refusals, and collections read page after page.

Non-superusers get ``total``/``pages`` = null and no ``next_page`` on transaction collections, and
short pages (rows are ACL-filtered after paging), so :meth:`RTTransport._paged` asks for page N+1
until a page comes back empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Self

import httpx

from backline_tui.sync.retry import Patience
from backline_tui.sync.rt.errors import (RTAuthError, RTBusy, RTConflict, RTError, RTForbidden, RTNotFound,
                                         RTRefused, RTServerError, RTUnavailable, _failures, _one_line)

__all__ = ["RTTransport"]


def _may_retry(response: httpx.Response, write: bool) -> bool:
    """Whether a 429 or 503 may be sent again.

    Reads always.  A write too, where RT did not act on it: a 429 (RFC 6585 §4) and a 503
    (RFC 9110 §15.6.4: "unable to handle the request") refuse the request, they do not report its
    failure half-way.  RT 5 itself sends neither (REST2 has no rate limit); they come from the
    server in front of it (nginx ``limit_req`` answers 503 by default, a maintenance page), which
    answers instead of passing the request on.  A 503 *without* Retry-After is treated as a 500
    for a write (RFC 2616 §10.5.4 says to), so it is reported, not repeated.
    """
    if not write or response.status_code == 429:
        return True
    return bool(response.headers.get("Retry-After"))


def _quote_etag(etag: str | int) -> str:
    etag = str(etag).strip()
    if etag.startswith("W/"):
        return etag
    return etag if etag.startswith('"') else f'"{etag}"'


class RTTransport:
    """A connection to one RT's REST2.

    ``base_url`` is RT's web root (``http://127.0.0.1:8080``) or the REST2 root
    (``.../REST/2.0``).  Authenticate with ``user`` + ``password`` (basic) or ``token``
    (an RT auth token, sent as ``Authorization: token ...``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
        patience: Patience | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        if not base.endswith("/REST/2.0"):
            base += "/REST/2.0"
        self.base_url = base
        # for messages: never show credentials embedded in the URL
        self._display_url = re.sub(r"//[^/@]*@", "//", base)
        headers = {"Accept": "application/json"}
        auth: httpx.Auth | None = None
        if token:
            headers["Authorization"] = f"token {token}"
        elif user is not None:
            auth = httpx.BasicAuth(user, password or "")
        self.user = user
        # 429/503 are waited out a few times; the waiting a whole sync may do grows with the
        # source's timeout (20 s by default: a minute at most), so one knob says how patient to be
        self.patience = patience or Patience(attempts=4, budget=3 * timeout, base=0.5, cap=timeout)
        self._http = httpx.Client(
            base_url=base,
            auth=auth,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    # ------------------------------------------------------------- plumbing

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._display_url!r}, user={self.user!r})"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        write: bool | None = None,
    ) -> httpx.Response:
        """One call; a 429 or 503 is tried again within ``self.patience`` (see _may_retry).

        ``write``: the call changes something in RT (default: any method but GET; the searches
        that are POSTs pass False)."""
        write = method != "GET" if write is None else write
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        tries = max(1, self.patience.attempts)
        for attempt in range(tries):
            response = self._send(method, path, clean_params, json_body, headers)
            if response.status_code not in (429, 503) or not _may_retry(response, write):
                break
            if attempt + 1 == tries:
                raise self._busy(response, method, path, f"still after {tries} tries")
            if not self.patience.wait(self.patience.delay(attempt, response.headers.get("Retry-After"))):
                raise self._busy(response, method, path, "asked to wait longer than the sync may")
        self._raise_for_status(response, method, path)
        return response

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        try:
            return self._http.request(
                method, path, params=params or None, json=json_body, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise RTUnavailable(
                f"RT at {self._display_url} timed out ({type(exc).__name__})",
                method=method, path=path,
            ) from None
        except httpx.TransportError as exc:
            reason = _one_line(str(exc) or type(exc).__name__, 120)
            raise RTUnavailable(
                f"RT at {self._display_url} is unreachable: {reason}", method=method, path=path
            ) from None

    def _busy(self, response: httpx.Response, method: str, path: str, why: str) -> RTBusy:
        status = response.status_code
        what = "rate limited" if status == 429 else "unavailable"
        return RTBusy(
            f"RT at {self._display_url} is {what} (HTTP {status} on {method} {path}, {why}); "
            "changes stay queued, try again later",
            status=status, method=method, path=path,
        )

    @staticmethod
    def _body(response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return response.text

    def _record(self, response: httpx.Response, method: str, path: str) -> dict[str, Any]:
        """The JSON object of a 2xx answer (see _json)."""
        body = self._json(response, method, path)
        return dict(body) if isinstance(body, Mapping) else {}

    def _json(self, response: httpx.Response, method: str, path: str) -> Any:
        """The JSON of a 2xx answer.  Text instead (an HTML page from a proxy or a login portal
        in front of RT) means RT itself was not reached, or not surely: a write that got it is
        checked upstream before it is sent again, as after a dropped connection."""
        body = self._body(response)
        if not isinstance(body, str):
            return body
        kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
        raise RTUnavailable(
            f"RT at {self._display_url} did not answer as RT: {method} {path} came back as {kind}, "
            "not JSON (a proxy or a login page in between?)", status=response.status_code, method=method, path=path,
        )

    def _raise_for_status(self, response: httpx.Response, method: str, path: str) -> None:
        status = response.status_code
        if status < 400 or status == 304:
            return
        body = self._body(response)
        if isinstance(body, Mapping) and body.get("message"):
            detail = str(body["message"])
        elif isinstance(body, list) and body:
            detail = "; ".join(map(str, body))
        else:
            detail = response.reason_phrase or "error"
        kwargs = {"status": status, "method": method, "path": path}
        if status == 401:
            raise RTAuthError(f"authentication failed ({detail})", **kwargs)
        if status == 403:
            raise RTForbidden(detail, **kwargs)
        if status == 404:
            raise RTNotFound(detail, **kwargs)
        if status == 412:
            raise RTConflict(
                f"record changed since it was read (stale If-Match): {detail}", **kwargs
            )
        if status >= 500:
            raise RTServerError(f"RT server error: {detail}", **kwargs)
        raise RTError(detail, **kwargs)

    def _messages(self, response: httpx.Response, method: str, path: str) -> list[str]:
        body = self._json(response, method, path)
        if body is None:
            messages: list[str] = []
        elif isinstance(body, list):
            messages = [str(m) for m in body if m is not None and str(m) != ""]
        elif isinstance(body, Mapping) and "message" in body:
            messages = [str(body["message"])]
        else:
            messages = []
        failures = _failures(messages)
        if failures:
            raise RTRefused(
                failures, messages, status=response.status_code, method=method, path=path
            )
        return messages

    def _get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._body(self._request("GET", path, params=params))

    def _get_record(self, path: str) -> tuple[dict[str, Any], str | None]:
        response = self._request("GET", path)
        return self._record(response, "GET", path), response.headers.get("ETag")

    def _write(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        if_match: str | int | None = None,
    ) -> list[str]:
        headers = {"If-Match": _quote_etag(if_match)} if if_match is not None else None
        response = self._request(method, path, json_body=body, headers=headers)
        return self._messages(response, method, path)

    def _create(self, path: str, body: Mapping[str, Any]) -> int:
        response = self._request("POST", path, json_body=body)
        data = self._json(response, "POST", path)
        if not isinstance(data, Mapping) or "id" not in data:
            raise RTError(f"unexpected answer to create: {data!r}", status=response.status_code,
                          method="POST", path=path)
        return int(data["id"])

    def _paged(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        json_body: Any = None,
        *,
        start_page: int = 1,
    ) -> Iterator[dict[str, Any]]:
        """Yield the items of every page of a collection.

        Stops at ``pages`` when RT reports it; otherwise (non-superusers on ACL-filtered
        collections, where pages can be short) asks for the next page until one is empty.
        """
        page = start_page
        while True:
            response = self._request(
                method, path, params={**params, "page": page}, json_body=json_body, write=False
            )
            data = self._record(response, method, path)
            items = data.get("items") or []
            yield from items
            pages = data.get("pages")
            if not items or not data.get("count"):
                return
            if pages is not None and page >= int(pages):
                return
            page += 1
