"""Waiting out an upstream that says "not now" (429, 503), shared by the connectors' clients.

``Retry-After`` is read in both of its forms (RFC 9110 §10.2.3): a number of seconds, or an
HTTP-date. :class:`Patience` bounds the waiting: tries per request, and seconds for the whole
sync; a wait that would overrun the seconds left is not started (the sync ends now, in one line,
rather than sleeping for minutes and asking again too early).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

__all__ = ["Patience", "retry_after_seconds"]


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The seconds a ``Retry-After`` value asks to wait: delay-seconds, or an HTTP-date (a date
    already past is 0). None when there is none, or it cannot be read."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110: an HTTP-date is always GMT
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max((when - now).total_seconds(), 0.0)


class Patience:
    """How long to keep trying: attempts per request, seconds overall, backoff base and cap."""

    def __init__(self, attempts: int = 6, budget: float = 120.0, base: float = 0.5, cap: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.attempts = attempts
        self.budget = budget
        self.base = base
        self.cap = cap
        self.sleep = sleep
        self.waited = 0.0
        self._lock = threading.Lock()

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before try ``attempt + 1``: what Retry-After asks (seconds or a date;
        more than the budget left means giving up now rather than asking too early), else
        base·2^attempt with full jitter, never above the cap."""
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            return asked + random.uniform(0, self.base / 4)
        return random.uniform(self.base / 2, min(self.cap, self.base * (2 ** attempt)))

    def wait(self, seconds: float) -> bool:
        """Sleep unless that would overrun the budget; False means give up."""
        with self._lock:
            if self.waited + seconds > self.budget:
                return False
            self.waited += seconds
        self.sleep(seconds)
        return True
