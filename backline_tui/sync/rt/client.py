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
* Non-superusers get short, un-numbered pages of transactions: see transport.py, which reads
  collections, maps HTTP errors to errors.py and waits out 429/503.  Dates, custom fields and
  link types are in values.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from backline_tui.sync.rt import errors, values
from backline_tui.sync.rt.errors import *  # noqa: F403 (the connector imports the errors from here)
from backline_tui.sync.rt.errors import RTError, RTRefused
from backline_tui.sync.rt.transport import RTTransport
from backline_tui.sync.rt.values import LINK_TYPES, _REF_TO_LINK, custom_fields, parse_rt_datetime, rt_datetime

__all__ = ["RTClient", *errors.__all__, *values.__all__]

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


class RTClient(RTTransport):
    """Synchronous REST2 client: RT's endpoints on top of :class:`RTTransport` (the URL,
    credentials, timeout and patience it takes; the retries and errors)."""

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
