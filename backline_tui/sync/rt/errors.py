"""What can go wrong talking to RT, as exceptions whose ``str()`` is one line with no secret, and
the reading of RT's message lists (a refused change often comes back as HTTP 200)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "RTAuthError",
    "RTBusy",
    "RTConflict",
    "RTError",
    "RTForbidden",
    "RTNotFound",
    "RTRefused",
    "RTServerError",
    "RTUnavailable",
]


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
