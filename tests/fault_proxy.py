"""A small HTTP proxy that sits in front of a real server (jira820, RT) and injects the faults a
real Jira shows: 429 with Retry-After, 503, a storm of 500s, a connection reset, a response
held back after the request was forwarded (the write landed, the client times out), or one cut
half-way through its body; or a change made upstream just before a request goes on (``before``).

    proxy = FaultProxy(jira.url)
    proxy.fail(lambda method, path: method == "GET", times=1, status=429, headers={"Retry-After": "1"})
    ... connector against proxy.url ...
    proxy.stop()

Rules are tried in the order given; a rule with ``times`` runs out after that many matches. A
rule's ``match`` gets the method and the path; with ``whole=True`` it gets the method, the whole
target (path and query string) and the request's body, to pick one request among many to a path.
Everything not caught by a rule goes to the upstream unchanged; ``seen`` lists every request,
``log`` the same with the moment (time.monotonic()) each was answered, and ``sent`` each
request's method, whole target and body in the order they came.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

Match = Callable[[str, str], bool]


@dataclass
class Rule:
    match: Match
    times: int | None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    #: forward the request, then sleep this long before answering (the client times out)
    stall: float = 0.0
    #: forward the request, then drop the connection half-way through the answer's body
    truncate: bool = False
    #: with ``status``: answer this (content type, body) instead of a Jira error
    body: tuple[str, bytes] | None = None
    #: ``match`` is called as match(method, target, body): the whole target and the body
    whole: bool = False
    #: called (no arguments) before the request goes on to the upstream: a change made meanwhile
    before: Callable[[], None] | None = None


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.seen: list[tuple[str, str, int | None]] = []
        self.log: list[tuple[float, str, str, int | None]] = []
        self.sent: list[tuple[str, str, bytes]] = []
        #: requests being served right now, and the most there ever were at once
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=self.upstream, timeout=30)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def fail(self, match: Match, *, times: int | None = None, status: int | None = None,
             headers: dict[str, str] | None = None, reset: bool = False, stall: float = 0.0,
             truncate: bool = False, body: tuple[str, bytes] | None = None, whole: bool = False,
             before: Callable[[], None] | None = None) -> Rule:
        rule = Rule(match, times, status, dict(headers or {}), reset, stall, truncate, body, whole, before)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def _saw(self, method: str, path: str, status: int | None) -> None:
        with self._lock:
            self.seen.append((method, path, status))
            self.log.append((time.monotonic(), method, path, status))

    def _rule_for(self, method: str, target: str, body: bytes) -> Rule | None:
        path = target.split("?", 1)[0]
        with self._lock:
            self.sent.append((method, target, body))
            for rule in self.rules:
                if rule.times is not None and rule.times <= 0:
                    continue
                if rule.match(method, target, body) if rule.whole else rule.match(method, path):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self._forward(h)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _forward(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = h.path
        rule = self._rule_for(h.command, path, body)
        if rule is not None and rule.reset:
            self._saw(h.command, path, None)
            h.close_connection = True
            h.connection.close()
            return
        if rule is not None and rule.status is not None:
            self._saw(h.command, path, rule.status)
            ctype, payload = rule.body or ("application/json", b'{"errorMessages":["injected by the test proxy"],"errors":{}}')
            h.send_response(rule.status)
            for k, v in rule.headers.items():
                h.send_header(k, v)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        if rule is not None and rule.before is not None:
            rule.before()
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        resp = self._http.request(h.command, path, content=body, headers=headers)
        self._saw(h.command, path, resp.status_code)
        if rule is not None and rule.stall:
            time.sleep(rule.stall)
            h.close_connection = True
            h.connection.close()
            return
        h.send_response(resp.status_code)
        for k, v in resp.headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(resp.content)))
        h.end_headers()
        if rule is not None and rule.truncate:
            h.wfile.write(resp.content[: len(resp.content) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.close()
            return
        h.wfile.write(resp.content)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()
