"""Thin synchronous client for the REST2 API of Request Tracker 5.0.

Plain dicts in and out (RT's own JSON), no Backline models, no Textual.  The sync connector
builds on it.  Everything here was checked against RT 5.0.3 (Debian bookworm packages); see
``tests/test_rt_client.py`` and ``/work/shared/rt/NOTES.md``.  Behaviour of RT that callers
must know about:

* Many refused changes come back as HTTP 200 with a list of messages ("You can only take
  tickets that are unowned", "Status 'x' isn't a valid status ...").  Every write here reads
  the messages and raises :class:`RTRefused` when one of them reports a failure.
* ``POST /ticket`` silently drops an invalid Select custom-field value (201 anyway), while
  ``POST /article`` fails with 400 "Create failed for unknown reason" for the same mistake or
  for a duplicate article Name in a class.
* The ETag of a ticket or an article is the id of its latest transaction, so a reply or a
  comment changes it too.  ``If-Match`` gives 412 (:class:`RTConflict`) when stale.  It is not
  accepted by correspond/comment (any value gives 412), so those calls take no ``if_match``.
* Dates in TicketSQL must be ``'YYYY-MM-DD HH:MM:SS'`` (see :func:`rt_datetime`); RT drops the
  time part of ``...T...Z`` strings.  Dates in JSON answers look like ``2026-11-23T00:14:38Z``
  and ``1970-01-01T00:00:00Z`` means "not set" (see :func:`parse_rt_datetime`).
* Links (RT 5.0.3, found by experiment):
  - ``PUT /ticket/:id`` with ``{"AddRefersTo": 12}`` (or a list, or an external URL) adds a
    link, ``{"DeleteRefersTo": 12}`` removes one; same for DependsOn, DependedOnBy, MemberOf,
    Members, RefersTo and ReferredToBy.  Answers: "Ticket 1 refers to Ticket 2.",
    "Ticket 1 no longer refers to Ticket 2.", "Link already exists" (harmless),
    "Couldn't resolve '999' into a link." and "Link not found" (both refusals, HTTP 200).
  - ``{"RefersTo": [..]}`` *replaces* the whole set; ``{"RefersTo": []}`` deletes them all.
  - ``POST /ticket`` accepts ``"RefersTo"``/``"DependsOn"``/... at creation too.
  - Links are read from the ``_hyperlinks`` of ``GET /ticket/:id``: refs ``refers-to``,
    ``referred-to-by``, ``depends-on``, ``depended-on-by``, ``parent`` (MemberOf) and
    ``child`` (Members); a local ticket has ``type: ticket`` and ``id``, an external link only
    ``_url`` (the URL itself).  History shows them as ``AddLink``/``DeleteLink`` transactions
    with ``Field`` = the link type and an ``fsck.com-rt://<rtname>/ticket/N`` value.
* Custom fields: values are sent as ``{"CustomFields": {"Name": "value"}}``.  Sending ``""``
  or ``null`` for a field that has a value deletes it; for a field with *no* value it stores
  an empty value that reads back as ``null`` (``"values": [null]``).  :func:`custom_fields`
  drops such nulls.
* Non-superusers get ``total``/``pages`` = null and no ``next_page`` on transaction
  collections, and short pages (rows are ACL-filtered after paging), so
  :meth:`RTClient.transactions` asks for page N+1 until a page comes back empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote

import httpx

from backline_tui.sync.retry import Patience

__all__ = [
    "LINK_TYPES",
    "RTAuthError",
    "RTBusy",
    "RTClient",
    "RTConflict",
    "RTError",
    "RTForbidden",
    "RTNotFound",
    "RTRefused",
    "RTServerError",
    "RTUnavailable",
    "custom_fields",
    "parse_rt_datetime",
    "rt_datetime",
]


# --------------------------------------------------------------------------- errors


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RTError(Exception):
    """Any failure talking to RT.  ``str()`` is one line and never holds a secret."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = _one_line(message)
        self.status = status
        self.method = method
        self.path = path
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f"{self.method} {self.path}" if self.method and self.path else ""
        status = f"HTTP {self.status}" if self.status else ""
        prefix = ", ".join(part for part in (where, status) if part)
        return f"{prefix}: {self.message}" if prefix else self.message


class RTAuthError(RTError):
    """401: wrong user/password or token."""


class RTForbidden(RTError):
    """403: authenticated, but not allowed (e.g. no CreateTicket right in that queue)."""


class RTNotFound(RTError):
    """404: no such record (or not visible to this user)."""


class RTConflict(RTError):
    """412: the ``If-Match`` ETag is stale; someone changed the record in between."""


class RTServerError(RTError):
    """5xx from RT."""


class RTUnavailable(RTError):
    """RT could not be reached: connection refused, timeout, broken connection."""


class RTBusy(RTUnavailable):
    """429 or 503 still, after the retries (or a Retry-After longer than the sync may wait)."""


class RTRefused(RTError):
    """HTTP 200/201 whose message list says (part of) the change failed.

    ``messages`` holds every message RT returned, ``failures`` the ones that report a failure.
    """

    def __init__(
        self,
        failures: list[str],
        messages: list[str],
        *,
        transaction_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.failures = list(failures)
        self.messages = list(messages)
        #: set by correspond()/comment() when the message itself was recorded but an extra
        #: change in the same call (e.g. Status) was refused: do not post the message again
        self.transaction_id = transaction_id
        super().__init__("; ".join(self.failures) or "change refused", **kwargs)


# Messages RT returns for a change that did happen (checked first, so that user text such as a
# subject containing "invalid" inside "Subject changed from ... to ..." is not a failure).
_SUCCESS_RE = re.compile(
    r" changed (?:from|to) "
    r"| (?:added|deleted)\.?$"
    r"|^Ticket \d+ (?:refers to|depends on|member of|has member|no longer|is referred|"
    r"is depended|referred to by|depended on by)"
    r"|^Link already exists$",
    re.IGNORECASE,
)
# Messages that report a refusal (RT 5.0.3 wording, possibly prefixed by "Ticket N: ").
_FAILURE_RE = re.compile(
    r"permission denied|no permission|you can only|you can't|you cannot|can't |cannot |"
    r"couldn't|could not|unable to|failed|invalid|isn't a valid|is not a valid|may not|"
    r"not allowed|does not exist|doesn't exist|not found|illegal|immutable|is required|"
    r"must be|no such|unknown",
    re.IGNORECASE,
)


def _failures(messages: Iterable[str]) -> list[str]:
    return [m for m in messages if not _SUCCESS_RE.search(m) and _FAILURE_RE.search(m)]


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


# --------------------------------------------------------------------------- helpers


def rt_datetime(value: datetime | date | str) -> str:
    """Format a moment for TicketSQL/ArticleSQL: ``'YYYY-MM-DD HH:MM:SS'`` in UTC.

    Naive datetimes are taken as UTC.  Never use the ``...T...Z`` form in a query: RT parses it
    as midnight of that day.
    """
    if isinstance(value, str):
        parsed = parse_rt_datetime(value)
        if parsed is None:
            raise ValueError(f"not a date/time: {value!r}")
        value = parsed
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%S")


_RT_DT_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:Z|[+-]00:?00)?$")


def parse_rt_datetime(value: str | None) -> datetime | None:
    """Parse RT's ``2026-11-23T00:14:38Z`` (or ``2026-11-23 00:14:38``) into an aware UTC datetime.

    Returns None for empty values and RT's "not set" value ``1970-01-01T00:00:00Z``.
    """
    if not value:
        return None
    match = _RT_DT_RE.match(value.strip())
    if not match:
        raise ValueError(f"not an RT date/time: {value!r}")
    parsed = datetime.fromisoformat(f"{match[1]}T{match[2]}").replace(tzinfo=timezone.utc)
    if parsed.year == 1970 and parsed.timetuple().tm_yday == 1 and parsed.hour == 0:
        return None
    return parsed


def custom_fields(record: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{name: [values]}`` from a record's ``CustomFields`` list (null values dropped)."""
    result: dict[str, list[str]] = {}
    for cf in record.get("CustomFields") or []:
        if isinstance(cf, Mapping) and "name" in cf:
            result[cf["name"]] = [v for v in cf.get("values") or [] if v is not None]
    return result


# REST2 field name -> _hyperlinks "ref" of GET /ticket/:id
LINK_TYPES: dict[str, str] = {
    "RefersTo": "refers-to",
    "ReferredToBy": "referred-to-by",
    "DependsOn": "depends-on",
    "DependedOnBy": "depended-on-by",
    "MemberOf": "parent",
    "Members": "child",
}
_REF_TO_LINK = {ref: name for name, ref in LINK_TYPES.items()}

_DEFAULT_HISTORY_FIELDS = (
    "Type", "Field", "OldValue", "NewValue", "Data", "Created", "Creator", "ObjectType",
    "ObjectId", "TimeTaken",
)
# "Parent" is left out on purpose: it makes RT 5.0.3 answer 500 when the value is 0.
_DEFAULT_ATTACHMENT_FIELDS = (
    "TransactionId", "ContentType", "Subject", "Filename", "Content", "Created", "Creator",
)
_DEFAULT_ARTICLE_FIELDS = (
    "Name", "Summary", "Class", "Created", "LastUpdated", "Creator", "LastUpdatedBy",
    "Disabled", "CustomFields",
)


def _fields_param(fields: str | Iterable[str] | None) -> str | None:
    if fields is None:
        return None
    return fields if isinstance(fields, str) else ",".join(fields)


def _quote_etag(etag: str | int) -> str:
    etag = str(etag).strip()
    if etag.startswith("W/"):
        return etag
    return etag if etag.startswith('"') else f'"{etag}"'


# --------------------------------------------------------------------------- client


class RTClient:
    """Synchronous REST2 client.

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

    def __enter__(self) -> RTClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RTClient({self._display_url!r}, user={self.user!r})"

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
        body = self._body(response)
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
        return self._body(response), response.headers.get("ETag")

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
        data = self._body(response)
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
            data = self._body(response) or {}
            items = data.get("items") or []
            yield from items
            pages = data.get("pages")
            if not items or not data.get("count"):
                return
            if pages is not None and page >= int(pages):
                return
            page += 1

    # ------------------------------------------------------------- server

    def server_info(self) -> dict[str, Any]:
        """``GET /rt``: ``{"Version": "5.0.3..."}``; a cheap authenticated health check."""
        return self._get_json("/rt")

    # ------------------------------------------------------------- tickets

    def get_ticket(self, ticket_id: int) -> tuple[dict[str, Any], str | None]:
        """The ticket's JSON and its ETag header (e.g. ``'"49"'``)."""
        return self._get_record(f"/ticket/{int(ticket_id)}")

    def search_tickets(
        self,
        ticketsql: str,
        fields: str | Iterable[str] | None = None,
        per_page: int = 50,
        *,
        orderby: str = "id",
        order: str = "ASC",
    ) -> Iterator[dict[str, Any]]:
        """Every ticket matching ``ticketsql``, across all pages (``per_page`` at most 100)."""
        params = {
            "query": ticketsql,
            "fields": _fields_param(fields),
            "per_page": per_page,
            "orderby": orderby,
            "order": order,
        }
        return self._paged("GET", "/tickets", params)

    def transactions(
        self,
        query: str,
        fields: str | Iterable[str] | None = None,
        per_page: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Transactions matching a TransactionSQL ``query``, in id order.

        E.g. ``"ObjectType = 'RT::Ticket' AND TicketQueue = 'Backline Help' AND id > 57"``.
        Copes with the short, un-numbered pages non-superusers get.
        """
        params = {
            "query": query,
            "fields": _fields_param(fields),
            "per_page": per_page,
            "orderby": "id",
            "order": "ASC",
        }
        return self._paged("GET", "/transactions", params)

    def ticket_history(
        self,
        ticket_id: int,
        fields: str | Iterable[str] | None = _DEFAULT_HISTORY_FIELDS,
        per_page: int = 100,
    ) -> list[dict[str, Any]]:
        """All transactions of one ticket, oldest first."""
        params = {
            "fields": _fields_param(fields), "per_page": per_page,
            "orderby": "id", "order": "ASC",
        }
        return list(self._paged("GET", f"/ticket/{int(ticket_id)}/history", params))

    def ticket_attachments(
        self,
        ticket_id: int,
        fields: str | Iterable[str] | None = _DEFAULT_ATTACHMENT_FIELDS,
        per_page: int = 100,
    ) -> list[dict[str, Any]]:
        """All attachments of a ticket; in this collection form ``Content`` is plain text
        (not base64).  Multipart containers come back too, with an empty Content."""
        params = {
            "fields": _fields_param(fields), "per_page": per_page,
            "orderby": "id", "order": "ASC",
        }
        return list(self._paged("GET", f"/ticket/{int(ticket_id)}/attachments", params))

    def create_ticket(
        self,
        queue: str | int,
        subject: str,
        content: str,
        custom_fields: Mapping[str, Any] | None = None,
        requestor: str | list[str] | None = None,
        owner: str | None = None,
        due: datetime | date | str | None = None,
        status: str | None = None,
        *,
        content_type: str = "text/plain",
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """Create a ticket and return its id.

        Beware: RT drops an invalid Select custom-field value without telling (still 201).
        ``extra`` is merged into the JSON body (e.g. ``{"Priority": 50, "RefersTo": [3]}``).
        """
        body: dict[str, Any] = {
            "Queue": queue,
            "Subject": subject,
            "Content": content,
            "ContentType": content_type,
        }
        if custom_fields:
            body["CustomFields"] = dict(custom_fields)
        if requestor is not None:
            body["Requestor"] = requestor
        if owner is not None:
            body["Owner"] = owner
        if due is not None:
            body["Due"] = rt_datetime(due)
        if status is not None:
            body["Status"] = status
        if extra:
            body.update(extra)
        return self._create("/ticket", body)

    def update_ticket(
        self,
        ticket_id: int,
        fields: Mapping[str, Any],
        if_match: str | int | None = None,
    ) -> list[str]:
        """``PUT /ticket/:id`` with RT field names (``Status``, ``Owner``, ``Subject``,
        ``CustomFields``, ``AddRefersTo`` ...).  Returns RT's messages; raises RTRefused if
        one reports a failure, RTConflict if ``if_match`` is stale."""
        return self._write("PUT", f"/ticket/{int(ticket_id)}", dict(fields), if_match=if_match)

    def take(self, ticket_id: int, if_match: str | int | None = None) -> list[str]:
        return self._write("PUT", f"/ticket/{int(ticket_id)}/take", {}, if_match=if_match)

    def untake(self, ticket_id: int, if_match: str | int | None = None) -> list[str]:
        return self._write("PUT", f"/ticket/{int(ticket_id)}/untake", {}, if_match=if_match)

    def steal(self, ticket_id: int, if_match: str | int | None = None) -> list[str]:
        return self._write("PUT", f"/ticket/{int(ticket_id)}/steal", {}, if_match=if_match)

    def _message(
        self,
        kind: str,
        ticket_id: int,
        content: str,
        content_type: str,
        extra: Mapping[str, Any] | None,
    ) -> int:
        path = f"/ticket/{int(ticket_id)}/{kind}"
        body = {"Content": content, "ContentType": content_type, **(extra or {})}
        response = self._request("POST", path, json_body=body)
        location = response.headers.get("Location", "")
        match = re.search(r"/transaction/(\d+)$", location)
        try:
            self._messages(response, "POST", path)
        except RTRefused as exc:
            exc.transaction_id = int(match[1]) if match else None
            raise
        if not match:
            raise RTError(f"no transaction in the answer (Location: {location!r})",
                          status=response.status_code, method="POST", path=path)
        return int(match[1])

    def correspond(
        self,
        ticket_id: int,
        content: str,
        *,
        content_type: str = "text/plain",
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """Reply (mails the requestors); returns the transaction id.  ``extra`` may carry
        ``Status``, ``CustomFields``, ``TimeTaken``, ``Subject`` (applied after the reply).
        If such an extra change is refused, RTRefused carries ``transaction_id`` of the reply,
        which *was* recorded.  A reply on a "new" ticket also opens it (RT scrip)."""
        return self._message("correspond", ticket_id, content, content_type, extra)

    def comment(
        self,
        ticket_id: int,
        content: str,
        *,
        content_type: str = "text/plain",
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """Internal comment; returns the transaction id."""
        return self._message("comment", ticket_id, content, content_type, extra)

    # ------------------------------------------------------------- links

    @staticmethod
    def _check_link_kind(kind: str) -> str:
        if kind not in LINK_TYPES:
            raise ValueError(f"unknown link type {kind!r}; use one of {', '.join(LINK_TYPES)}")
        return kind

    def add_link(
        self, ticket_id: int, kind: str, target: int | str, if_match: str | int | None = None
    ) -> list[str]:
        """Add a link ``ticket_id --kind--> target`` (ticket id or URL).  Idempotent: an
        existing link answers "Link already exists", which is not an error."""
        kind = self._check_link_kind(kind)
        return self.update_ticket(ticket_id, {f"Add{kind}": target}, if_match=if_match)

    def remove_link(
        self, ticket_id: int, kind: str, target: int | str, if_match: str | int | None = None
    ) -> list[str]:
        """Remove a link.  Idempotent: a missing link ("Link not found") is not an error."""
        kind = self._check_link_kind(kind)
        try:
            return self.update_ticket(ticket_id, {f"Delete{kind}": target}, if_match=if_match)
        except RTRefused as exc:
            if all(f == "Link not found" for f in exc.failures):
                return exc.messages
            raise

    @staticmethod
    def links_of(ticket: Mapping[str, Any]) -> dict[str, list[int | str]]:
        """Links from a ticket's ``_hyperlinks``: ``{"RefersTo": [12, "https://..."], ...}``.
        Local tickets are ints, anything else is its URL."""
        links: dict[str, list[int | str]] = {name: [] for name in LINK_TYPES}
        for link in ticket.get("_hyperlinks") or []:
            name = _REF_TO_LINK.get(link.get("ref", ""))
            if name is None:
                continue
            if link.get("type") == "ticket" and link.get("id") is not None:
                links[name].append(int(link["id"]))
            else:
                links[name].append(str(link.get("_url", "")))
        return links

    def ticket_links(self, ticket_id: int) -> dict[str, list[int | str]]:
        ticket, _etag = self.get_ticket(ticket_id)
        return self.links_of(ticket)

    # ------------------------------------------------------------- articles

    def get_class(self, class_name_or_id: str | int) -> dict[str, Any]:
        """An article class, by id or name (``ArticleCustomFields`` lists its CFs)."""
        data, _etag = self._get_record(f"/class/{quote(str(class_name_or_id), safe='')}")
        return data

    def class_id(self, class_name_or_id: str | int) -> int:
        if isinstance(class_name_or_id, int) or str(class_name_or_id).isdigit():
            return int(class_name_or_id)
        return int(self.get_class(class_name_or_id)["id"])

    def create_article(
        self,
        class_name_or_id: str | int,
        name: str,
        summary: str,
        content: str,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> int:
        """Create an article (body in the global ``Content`` CF) and return its id.

        400 (RTError) for a duplicate Name in the class or an invalid Select value."""
        cfs = dict(custom_fields or {})
        cfs["Content"] = content
        body = {
            "Class": class_name_or_id,
            "Name": name,
            "Summary": summary,
            "CustomFields": cfs,
        }
        return self._create("/article", body)

    def get_article(self, article_id: int) -> tuple[dict[str, Any], str | None]:
        return self._get_record(f"/article/{int(article_id)}")

    def update_article(
        self,
        article_id: int,
        fields: Mapping[str, Any],
        if_match: str | int | None = None,
    ) -> list[str]:
        """``PUT /article/:id`` (``Name``, ``Summary``, ``Disabled``, ``CustomFields`` with
        ``Content`` for the body)."""
        return self._write("PUT", f"/article/{int(article_id)}", dict(fields), if_match=if_match)

    def search_articles(
        self,
        class_id: int | str,
        since: datetime | date | str | None = None,
        fields: str | Iterable[str] | None = _DEFAULT_ARTICLE_FIELDS,
        per_page: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Articles of a class (id, or name resolved with one GET), optionally only those with
        ``LastUpdated >= since`` (inclusive: LastUpdated has 1-second resolution)."""
        query: list[dict[str, str]] = [{"field": "Class", "value": str(self.class_id(class_id))}]
        if since is not None:
            query.append({"field": "LastUpdated", "operator": ">=", "value": rt_datetime(since)})
        params = {
            "fields": _fields_param(fields), "per_page": per_page,
            "orderby": "id", "order": "ASC",
        }
        return self._paged("POST", "/articles", params, json_body=query)
