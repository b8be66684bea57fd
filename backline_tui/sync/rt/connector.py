"""The Request Tracker 5 connector, on top of client.py (REST2) and mapping.py.

Layout in RT (scripts/rt-seed.initialdata): help requests, cases and bugs are tickets in three
queues (names from the SourceConfig), their fields are ticket custom fields, case → bug is a
``RefersTo`` ticket link, a bug's resolution target is the ticket's Due date; KB articles are
RT articles of one class, with the KCS state, owner, review dates and flags (JSON text) as
article custom fields; a help request documented in an article ``RefersTo`` the article.

Refs are ``RT#<id>`` for tickets and ``KB#<id>`` for articles; ``remote_version`` is RT's ETag
(the id of the record's latest transaction). Pulls follow RT's transaction feed
(``/transactions?query=… id > N``): transaction ids only go up, so the cursor neither skips nor
counts twice, which a 1-second ``LastUpdated`` watermark cannot promise.
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

from backline_tui.config import Config, SourceConfig
from backline_tui.sync.base import CheckReport, SourceError
from backline_tui.sync.rt.check import Checker, rt_message
from backline_tui.sync.rt.client import (RTAuthError, RTBusy, RTClient, RTError, RTNotFound, RTServerError,
                                        RTUnavailable)
from backline_tui.sync.rt.knowledge import KnowledgePush
from backline_tui.sync.rt.mapping import mapping_of, raw_values, read_field, ticket_ref
from backline_tui.sync.rt.pull import LOOKAHEAD, OFFER_SUBJECT, WORKERS, RTPull
from backline_tui.sync.rt.push import RTPush
from backline_tui.sync.secrets import resolve_secret

__all__ = ["RTConnector", "OFFER_SUBJECT"]


class RTConnector(RTPull, RTPush, KnowledgePush):
    def __init__(self, src: SourceConfig, config: Config) -> None:
        if not src.url:
            raise SourceError(f"source {src.name} (rt) needs a url")
        self.name = src.name
        self.src = src
        self.config = config
        self.url = src.url
        self.user = src.user or config.me
        self.mapping = mapping_of(src)
        password, token = resolve_secret(src)
        self.client = RTClient(src.url, user=self.user, password=password, token=token, timeout=src.timeout)
        self._class_id: int | None = None
        #: (kind, field) -> upstream values read that had no map entry (for `sources check`)
        self.unknown: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        # every request of a pull goes through _parallel (at most `workers` at once); _reader reads
        # whole collections (feeds, open work) and _batcher assembles batches ahead of the engine,
        # both by handing their requests to _parallel (whose tasks never wait on one another)
        self.workers = src.concurrency or WORKERS  # the source's `concurrency`, polite by default
        self._parallel = ThreadPoolExecutor(self.workers, thread_name_prefix=f"rt-{src.name}")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix=f"rt-{src.name}-read")
        self._batcher = ThreadPoolExecutor(LOOKAHEAD, thread_name_prefix=f"rt-{src.name}-batch")

    def check(self) -> CheckReport:
        """What `backline sources check` says of this source; reads RT, never writes."""
        report = CheckReport(self.name)
        Checker(self, report).run()
        return report

    def close(self) -> None:
        # a sync stopped half-way: requests still queued are never sent (whoever waits for them
        # gets CancelledError, and nobody waits for those results any more)
        self._parallel.shutdown(wait=False, cancel_futures=True)
        for pool in (self._reader, self._batcher, self._parallel):
            pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    @contextlib.contextmanager
    def _source_errors(self) -> Iterator[None]:
        try:
            yield
        except RTAuthError:
            raise SourceError(f"RT at {self.url} did not accept the credentials of {self.user} (check the password)") from None
        except RTBusy as exc:  # reached, and still rate limited or unavailable after the retries
            raise SourceError(exc.message, busy=True) from None
        except RTUnavailable as exc:
            raise SourceError(exc.message, unreachable=True) from None  # it names RT and its URL, once
        except RTServerError as exc:
            raise SourceError(f"RT at {self.url} failed with HTTP {exc.status} on {exc.method} {exc.path}") from None
        except RTError as exc:  # e.g. a mapping's TicketSQL RT cannot read
            raise SourceError(f"RT at {self.url} refused {exc.method} {exc.path}: {rt_message(exc)} "
                              f"(see: backline sources check {self.name})") from None

    @property
    def class_id(self) -> int:
        if self._class_id is None:
            name = self.mapping["article"].queue or ""
            try:
                self._class_id = self.client.class_id(name)
            except RTNotFound:
                raise SourceError(f"RT at {self.url} has no article class {name!r} (see: backline sources check {self.name})") from None
        return self._class_id

    @property
    def queues(self) -> dict[str, str]:
        """The queue of each kind mapped by queue (a kind mapped by TicketSQL has none)."""
        return {kind: km.queue for kind, km in self.mapping.items() if km.queue}

    def stream(self, kind: str) -> str:
        """The cursor's name for one mapped kind: each kind has its own, even when two read one queue."""
        km = self.mapping[kind]
        return f"{kind}:queue:{km.queue}" if km.queue else f"{kind}:query:{km.query}"

    def _cursor(self, kind: str, cursors: dict[str, str | None]) -> int:
        value = cursors.get(self.stream(kind))
        if value is None and self.mapping[kind].queue:  # a replica synced before streams were per kind
            old = f"class:{self.mapping[kind].queue}" if kind == "article" else f"queue:{self.mapping[kind].queue}"
            value = cursors.get(old)
        return int(value or 0)

    def reader(self, kind: str, record: dict[str, Any]):
        """get(field) -> our value of ``field`` in ``record`` through the mapping; values with no
        map entry are counted in ``self.unknown``."""
        km = self.mapping[kind]

        def get(field: str) -> Any:
            value, unknown = read_field(km, kind, field, record)
            if unknown is not None:
                self.unknown[(kind, field)][unknown] += 1
            return value

        return get

    def _refs(self, kind: str, field: str, record: dict[str, Any]) -> list[str]:
        """Ticket refs (RT#n) in a link-like field: an RT link type, or a CF holding ids or RT#n
        (several values, or one text separated by commas or spaces); then its fallback."""
        fm = self.mapping[kind].field(field)
        if fm is None:
            return []
        for name in (fm.source, fm.fallback):
            if not name:
                continue
            values = [p for v in raw_values(record, name) for p in v.replace(",", " ").split()]
            refs = [r for r in (ticket_ref(v) or self._foreign_ref(v) for v in values) if r]
            if refs:
                return refs
        return []

    def _foreign_ref(self, url: str) -> str | None:
        """``other:REF`` for a link to a record of another configured source (the URL a link
        pushed from Backline holds: see link_target)."""
        import re

        for other in self.config.sources:
            if other.name == self.name or not other.url:
                continue
            base = re.escape(other.url.rstrip("/"))
            if other.kind == "rt" and (m := re.fullmatch(base + r"/Ticket/Display\.html\?id=(\d+)", url)):
                return f"{other.name}:RT#{m[1]}"
            if other.kind == "jira" and (m := re.fullmatch(base + r"/browse/([A-Z][A-Z0-9_]*-\d+)", url)):
                return f"{other.name}:{m[1]}"
        return None
