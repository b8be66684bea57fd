"""A Jira Cloud (REST v3) front for the Cloud tests, held to Atlassian's own contract.

No Jira Cloud runs here and jira820 serves only REST v2. So this front speaks the v3 paths the
connector uses and keeps its state in a jira820 behind it (the issues, JQL, writes and remote
links are the emulator's, not ours); what it adds is only what v3 does differently:

* search by ``POST /rest/api/3/search/jql``, paged by an opaque ``nextPageToken`` with ``isLast``
  and no ``total`` (the old ``/rest/api/3/search`` and ``/rest/api/2/search`` answer 410 Gone);
* bodies and comments in Atlassian Document Format (one paragraph per line; its own small
  conversion, so the connector's ADF code is not checked against itself);
* users by ``accountId``.

**Every request it receives is validated against the spec subset (tests/data/jira), and every
response before it is sent.** A violation is kept in ``violations`` (the request is answered 400
so the connector fails loudly); the Cloud tests assert the list is empty, and ``validated``
counts the pairs checked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC = Path(__file__).parent / "data" / "jira" / "jira-cloud-platform-v3.sync-subset.json"
#: the server the spec names; requests are validated as if sent there
SPEC_HOST = "https://your-domain.atlassian.net"
PAGE_CAP = 100  # search/jql pages are capped, whatever maxResults asks

_spec_api: OpenAPI | None = None


def _spec_doc() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))


def spec_api() -> OpenAPI:
    global _spec_api
    if _spec_api is None:
        _spec_api = OpenAPI.from_file_path(str(SPEC))
    return _spec_api


class _Request:
    def __init__(self, method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes):
        self.host_url = SPEC_HOST
        self.path = path
        self.method = method.lower()
        self.body = body or None
        self.content_type = (headers.get("content-type") or "application/json").lower()
        self.parameters = RequestParameters(query=ImmutableMultiDict(query), header=Headers(headers),
                                            cookie=ImmutableMultiDict(), path={})


class _Response:
    def __init__(self, status: int, data: bytes):
        self.status_code = status
        self.data = data
        self.headers = Headers({"Content-Type": "application/json"} if data else {})
        self.content_type = "application/json" if data else ""


def rfc3339(stamp: str | None) -> str | None:
    """Jira's ``…+0000`` as the spec's date-time wants it (``…+00:00``)."""
    if stamp and re.search(r"[+-]\d{4}$", stamp):
        return stamp[:-2] + ":" + stamp[-2:]
    return stamp


def account_id(name: str) -> str:
    return hashlib.sha1(f"account:{name}".encode()).hexdigest()[:24]


def to_adf(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}]}
                  for line in text.split("\n") if line]
    return {"type": "doc", "version": 1, "content": paragraphs}


class NotADF(ValueError):
    pass


def from_adf(doc: Any) -> str:
    """Text of an ADF doc; v3 takes bodies only as ADF (a plain string is refused with 400)."""
    if doc is None:
        return ""
    if not (isinstance(doc, dict) and doc.get("type") == "doc" and doc.get("version") == 1
            and isinstance(doc.get("content"), list)):
        raise NotADF("Operation value must be an Atlassian Document (see the Atlassian Document Format)")
    lines = []
    for block in doc.get("content") or []:
        words = []
        for node in block.get("content") or []:
            if node.get("type") == "text":
                words.append(node.get("text") or "")
            elif node.get("type") == "hardBreak":
                words.append("\n")
        lines.append("".join(words))
    return "\n\n".join(lines)


class JiraCloud:
    def __init__(self, upstream: str, email: str = "alice@example.com", token: str = "test-token",
                 time_zone: str = "UTC") -> None:
        self.upstream = upstream.rstrip("/")
        #: the account's time zone (/myself), in which Jira reads the dates in a JQL
        self.time_zone = time_zone
        #: every JQL searched, in order
        self.searches: list[str] = []
        #: Cloud takes email + API token as HTTP Basic (the spec's basicAuth)
        self.auth = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
        self.violations: list[str] = []
        self.validated = 0
        self.seen: list[tuple[str, str, int]] = []
        self._names: dict[str, str] = {}
        #: comment id → the visibility it was posted with
        self.visibility: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=self.upstream, timeout=30)
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                front._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    # ------------------------------------------------------------------------ plumbing

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        path, query = parts.path, parse_qsl(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in h.headers.items()}
        if path in ("/rest/api/3/search", "/rest/api/2/search"):
            status, obj = 410, {"errorMessages": ["The requested API has been removed. Please migrate to the "
                                                  "/rest/api/3/search/jql API."], "errors": {}}
            self._send(h, path, status, obj)
            return
        if path.startswith("/rest/api/2/"):  # the rest of v2 as the site serves it
            resp = self._http.request(h.command, path, params=query, content=body or None,
                                      headers={"Content-Type": "application/json"})
            self._send(h, path, resp.status_code, resp.json() if resp.content else None)
            return
        if headers.get("authorization") != self.auth:
            self._send(h, path, 401, {"errorMessages": ["Client must be authenticated to access this resource."],
                                      "errors": {}})
            return
        request = _Request(h.command, path, query, headers, body)
        try:
            spec_api().validate_request(request)
        except Exception as exc:  # noqa: BLE001 — every kind of violation is reported the same way
            self._violation(f"request {h.command} {h.path}: {type(exc).__name__}: {exc}")
            self._send(h, path, 400, {"errorMessages": [f"request violates the spec: {exc}"], "errors": {}})
            return
        try:
            method = h.command
            status, obj = self._route(method, path, dict(query), json.loads(body) if body else None)
        except NotADF as exc:
            method = h.command
            status, obj = 400, {"errorMessages": [], "errors": {"body": str(exc)}}
        except httpx.HTTPStatusError as exc:
            method = h.command
            status = exc.response.status_code
            obj = {"errorMessages": (exc.response.json() or {}).get("errorMessages") or ["failed"], "errors": {}}
        data = json.dumps(obj).encode() if obj is not None else b""
        if status == 204:
            # the spec gives 204 a JSON body (an artefact of its generator); HTTP 204 has none:
            # checked is that the operation lists 204 at all
            operation = _spec_doc()["paths"].get(self._template(path), {}).get(method.lower(), {})
            if "204" not in operation.get("responses", {}):
                self._violation(f"response to {h.command} {h.path}: 204 is not an answer of this operation")
        elif status < 400:
            try:
                spec_api().validate_response(request, _Response(status, data))
                with self._lock:
                    self.validated += 1
            except Exception as exc:  # noqa: BLE001
                self._violation(f"response to {h.command} {h.path}: {type(exc).__name__}: {exc}")
        self._send(h, path, status, obj)

    @staticmethod
    def _template(path: str) -> str:
        for template in _spec_doc()["paths"]:
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, path):
                return template
        return path

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text[:2000])

    def _send(self, h: BaseHTTPRequestHandler, path: str, status: int, obj: Any) -> None:
        self.seen.append((h.command, path, status))
        data = json.dumps(obj).encode() if obj is not None else b""
        h.send_response(status)
        if data:
            h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _up(self, method: str, path: str, **kw: Any) -> Any:
        resp = self._http.request(method, "/rest/api/2/" + path, **kw)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    # ------------------------------------------------------------------------ v2 → v3

    def user(self, u: dict[str, Any] | None) -> dict[str, Any] | None:
        if not u:
            return None
        name = u.get("name") or "admin"
        acct = account_id(name)
        with self._lock:
            self._names[acct] = name
        return {"accountId": acct, "accountType": "atlassian", "active": True,
                "displayName": u.get("displayName") or name, "timeZone": u.get("timeZone") or "UTC",
                "self": f"{SPEC_HOST}/rest/api/3/user?accountId={acct}"}

    def issue(self, it: dict[str, Any]) -> dict[str, Any]:
        fields = dict(it.get("fields") or {})
        if "description" in fields:
            fields["description"] = to_adf(fields["description"])
        for key in ("assignee", "reporter", "creator"):
            if key in fields:
                fields[key] = self.user(fields[key])
        out = {"id": it["id"], "key": it["key"], "self": f"{SPEC_HOST}/rest/api/3/issue/{it['id']}", "fields": fields}
        if "changelog" in it:
            log = it["changelog"]
            out["changelog"] = {
                "startAt": log.get("startAt", 0), "maxResults": log.get("maxResults", 0), "total": log.get("total", 0),
                "histories": [{"id": h.get("id"), "author": self.user(h.get("author")), "created": h.get("created"),
                               "items": [{k: v for k, v in item.items()
                                          if k in ("field", "fieldtype", "fieldId", "from", "fromString", "to", "toString")}
                                         for item in h.get("items") or []]}
                              for h in log.get("histories") or []]}
        return out

    def comment(self, key: str, c: dict[str, Any]) -> dict[str, Any]:
        seen = self.visibility.get(str(c["id"]))
        return {**({"visibility": seen} if seen else {}),"id": str(c["id"]), "self": f"{SPEC_HOST}/rest/api/3/issue/{key}/comment/{c['id']}",
                "author": self.user(c.get("author")), "updateAuthor": self.user(c.get("updateAuthor") or c.get("author")),
                "body": to_adf(c.get("body") or ""), "created": rfc3339(c.get("created")),
                "updated": rfc3339(c.get("updated"))}

    def _fields_in(self, fields: dict[str, Any]) -> dict[str, Any]:
        out = dict(fields)
        if "description" in out:
            out["description"] = from_adf(out["description"])
        if isinstance(out.get("assignee"), dict) and "accountId" in out["assignee"]:
            out["assignee"] = {"name": self._names.get(out["assignee"]["accountId"])}
        return out

    # ------------------------------------------------------------------------ routes

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/rest/api/3/serverInfo":
            info = self._up("GET", "serverInfo")
            keep = ("baseUrl", "version", "versionNumbers", "buildNumber", "buildDate", "serverTime", "serverTitle")
            out = {**{k: info[k] for k in keep if k in info}, "deploymentType": "Cloud", "baseUrl": SPEC_HOST}
            for k in ("buildDate", "serverTime"):
                out[k] = rfc3339(out.get(k))
            return 200, out
        if method == "GET" and path == "/rest/api/3/myself":
            return 200, {**self.user(self._up("GET", "myself")), "timeZone": self.time_zone}
        if method == "GET" and path == "/rest/api/3/field":
            return 200, self._up("GET", "field")
        if method == "POST" and path == "/rest/api/3/search/jql":
            self.searches.append(body.get("jql") or "")
            start = int(base64.urlsafe_b64decode(body["nextPageToken"]).decode()) if body.get("nextPageToken") else 0
            size = min(int(body.get("maxResults") or 50), PAGE_CAP)
            page = self._up("GET", "search", params={"jql": body.get("jql") or "", "startAt": start, "maxResults": size,
                                                     "fields": ",".join(body.get("fields") or ["id"])})
            end = start + len(page["issues"])
            out: dict[str, Any] = {"issues": [self.issue(it) for it in page["issues"]], "isLast": end >= page["total"]}
            if not out["isLast"]:
                out["nextPageToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
            return 200, out
        if method == "POST" and path == "/rest/api/3/issue":
            made = self._up("POST", "issue", json={"fields": self._fields_in(body.get("fields") or {})})
            return 201, {"id": made["id"], "key": made["key"], "self": f"{SPEC_HOST}/rest/api/3/issue/{made['id']}"}
        m = re.fullmatch(r"/rest/api/3/issue/([^/]+)(/comment|/remotelink)?", path)
        if m is None:
            return 404, {"errorMessages": [f"no route for {method} {path} in this test front"], "errors": {}}
        key, tail = m.group(1), m.group(2)
        if tail is None and method == "GET":
            return 200, self.issue(self._up("GET", f"issue/{key}", params=query))
        if tail is None and method == "PUT":
            self._up("PUT", f"issue/{key}", json={"fields": self._fields_in(body.get("fields") or {})})
            return 204, None
        if tail == "/comment" and method == "GET":
            page = self._up("GET", f"issue/{key}/comment", params=query)
            return 200, {"startAt": page["startAt"], "maxResults": page["maxResults"], "total": page["total"],
                         "comments": [self.comment(key, c) for c in page["comments"]]}
        if tail == "/comment" and method == "POST":
            made = self._up("POST", f"issue/{key}/comment", json={"body": from_adf(body.get("body"))})
            if body.get("visibility"):  # jira820 keeps no visibility: the front keeps it
                with self._lock:
                    self.visibility[str(made["id"])] = body["visibility"]
            return 201, self.comment(key, made)
        if tail == "/remotelink" and method == "GET":
            return 200, [{k: v for k, v in link.items() if k in ("id", "self", "globalId", "relationship", "object", "application")}
                         for link in self._up("GET", f"issue/{key}/remotelink")]
        if tail == "/remotelink" and method == "POST":
            made = self._up("POST", f"issue/{key}/remotelink", json=body)
            return 201, {"id": made["id"], "self": made["self"]}
        return 404, {"errorMessages": [f"no route for {method} {path} in this test front"], "errors": {}}
