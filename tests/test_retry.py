"""Retry-After in both of its forms, and the patience that bounds the waiting (sync/retry.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from backline_tui.sync.retry import Patience, retry_after_seconds

AT = datetime(2026, 11, 23, 9, 0, 0, tzinfo=timezone.utc)


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("7", AT) == 7.0
    assert retry_after_seconds(" 0 ", AT) == 0.0
    assert retry_after_seconds("Mon, 23 Nov 2026 09:00:30 GMT", AT) == 30.0
    assert retry_after_seconds("Mon, 23 Nov 2026 08:59:00 GMT", AT) == 0.0  # already past: go now
    for unreadable in (None, "", "soon", "-5", "1.5e9", "Mon, 99 Nov 2026 09:00:30 GMT"):
        assert retry_after_seconds(unreadable, AT) is None


def test_a_date_in_retry_after_is_waited_and_one_beyond_the_budget_gives_up_at_once():
    slept: list[float] = []
    patience = Patience(attempts=4, budget=10, base=0.4, sleep=slept.append)
    later = datetime.now(timezone.utc).replace(microsecond=0).timestamp() + 5
    date = datetime.fromtimestamp(later, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 3.5 <= patience.delay(0, date) <= 5.1
    assert not patience.wait(patience.delay(0, "600")) and slept == []
