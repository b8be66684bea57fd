"""The Jira connector: bugs from Jira Cloud (REST v3) or Data Center (REST v2).

* **Which issues.** ``[sources.mapping.bug]`` (and optionally ``[sources.mapping.help_request]``):
  a JQL (``query``) or a project key (``queue``); fields as jira/mapping.py says.
* **Pull, incremental.** JQL's ``updated >= "yyyy-MM-dd HH:mm"`` has minute precision (in the
  searching user's time zone) and Cloud's search index lags, so each search reaches back
  ``overlap_minutes`` before the newest ``updated`` we hold. Issues we already hold at the same
  version are not written again. The version is ``updated`` plus a digest of what we read, so a
  second change within the same minute (same ``updated``) still arrives.
* **Issues that left the JQL** (moved, deleted, changed so that they no longer match): the keys
  matching the JQL are listed (keys only, paged) at most every ``reconcile_minutes``; the
  engine drops our bugs of this source that are not among them.
* **Push, exactly once, without ETags.** Priority and target are set only when the field still
  holds what the op was based on (``updated`` and the field's digest in the version); otherwise
  the op is a conflict said in words. A resend after a crash finds what it did: a comment by its
  text among our recent comments, a link by its ``globalId`` (Jira upserts on it), a created bug
  by its marker label.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backline_tui.clock import Clock
from backline_tui.config import Config, ConfigError, SourceConfig
from backline_tui.sync.base import Batch, CheckReport, PushResult, SourceError, valid_records
from backline_tui.sync.jira.adf import adf_to_text, text_to_adf
from backline_tui.sync.jira.client import (
    JiraAuthError, JiraClient, JiraError, JiraGone, JiraNotFound, JiraRefused, JiraServerError, JiraUnavailable,
    JiraUnsure, Patience,
)
from backline_tui.sync.jira.mapping import (
    FIELD_WORDS, STATUS_BY_CATEGORY, FieldIndex, field_maps, jira_ts, plain, user_name,
)
from backline_tui.sync.mapping import FieldMap, KindMap, NotMapped, parse_mapping
from backline_tui.sync.secrets import resolve_secret

__all__ = ["JiraConnector", "case_global_id"]

PAGE = 100
SUPPORTED_KINDS = ("bug", "help_request")
MARKER_PREFIX = "backline-"
#: slots of the version string after the digest: a field's own digest, for conflicts
_GUARDED = ("priority", "duedate", "assignee")


def case_global_id(case_source: str, case_ref: str) -> str:
    """The remote link's globalId for a case: stable, so Jira's upsert makes a resend harmless."""
    return f"backline:{case_source}:{case_ref}"


def _case_of_global_id(global_id: str, sources: set[str] | frozenset[str] = frozenset()) -> str | None:
    """The case a remote link made by Backline names: ``source:REF`` when its source is another
    configured one (the engine binds it to that source's case once every source has synced),
    else REF."""
    if not global_id.startswith("backline:"):
        return None
    rest = global_id[len("backline:"):]
    source, _, ref = rest.partition(":")
    if not ref:
        return None
    return f"{source}:{ref}" if source in sources else ref


def _h(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _version(updated: str | None, digest: str, raw_fields: dict[str, Any]) -> str:
    return f"{updated or ''}#{digest}." + ".".join(_h(plain(raw_fields.get(f))) for f in _GUARDED)


def _version_part(version: str | None, field: str) -> str | None:
    if not version or "#" not in version:
        return None
    parts = version.split("#", 1)[1].split(".")
    try:
        return parts[1 + _GUARDED.index(field)]
    except (ValueError, IndexError):
        return None


class JiraConnector:
    def __init__(self, src: SourceConfig, config: Config, *, patience: Patience | None = None,
                 clock: Clock | None = None) -> None:
        if not src.url:
            raise SourceError(f"source {src.name} (jira) needs a url")
        self.name = src.name
        self.src = src
        self.config = config
        self.url = src.url.rstrip("/")
        self.clock = clock or Clock()
        try:
            self.mapping: dict[str, KindMap] = parse_mapping(src.name, src.mapping or {})
        except ConfigError as exc:
            raise SourceError(str(exc)) from None
        if not self.mapping:
            raise SourceError(f"source {src.name} (jira) maps nothing: add [sources.mapping.bug] with a JQL query")
        other = [k for k in self.mapping if k not in SUPPORTED_KINDS]
        if other:
            raise SourceError(f"source {src.name} (jira): mapping {', '.join(other)} is not supported yet "
                              "(bug and help_request are)")
        self._patience = patience
        self._client: JiraClient | None = None
        self._fields: FieldIndex | None = None
        self._me: dict[str, Any] | None = None
        self._pool = ThreadPoolExecutor(src.concurrency, thread_name_prefix=f"jira-{src.name}")

    # ------------------------------------------------------------------------------ plumbing

    @property
    def client(self) -> JiraClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> JiraClient:
        password, token = resolve_secret(self.src)
        secret = token or password
        deployment = self.src.deployment
        common = {"timeout": self.src.timeout, "concurrency": self.src.concurrency,
                  "patience": self._patience}
        if deployment is None:
            probe = JiraClient(self.url, api="2", **common)
            try:
                info = probe.server_info()
            except JiraError as exc:
                raise self._source_error(exc) from None
            finally:
                probe.close()
            deployment = "cloud" if str(info.get("deploymentType") or "").lower() == "cloud" else "datacenter"
        self.deployment = deployment
        if deployment == "cloud":
            if not self.src.email:
                raise SourceError(f"source {self.name} (jira cloud) needs email = \"you@example.com\" for its API token")
            return JiraClient(self.url, api="3", email=self.src.email, token=secret, **common)
        if token or not self.src.user:
            return JiraClient(self.url, api="2", token=secret, **common)
        return JiraClient(self.url, api="2", user=self.src.user, password=password, **common)

    @property
    def cloud(self) -> bool:
        return self.client.api == "3"

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._client is not None:
            self._client.close()

    def _source_error(self, exc: JiraError) -> SourceError:
        if isinstance(exc, JiraAuthError):
            return SourceError(f"Jira at {self.url} did not accept the credentials of source {self.name} "
                               "(check the token, and the email for Cloud)")
        if isinstance(exc, JiraGone):
            return SourceError(f"Jira at {self.url} retired {exc.path} (HTTP 410); this Jira needs "
                               "deployment = \"cloud\" (search by /rest/api/3/search/jql)")
        if isinstance(exc, JiraUnsure):
            return SourceError(f"Jira at {self.url} failed on a change ({exc.message}); it stays queued and is "
                               "checked before it is sent again")
        if isinstance(exc, JiraUnavailable):  # no status: no answer at all (else rate limited)
            return SourceError(f"Jira at {self.url}: {exc.message}; gave up for now, changes stay queued",
                               unreachable=exc.status is None)
        if isinstance(exc, JiraServerError):
            return SourceError(f"Jira at {self.url} kept failing ({exc.message}); changes stay queued, try again later")
        return SourceError(f"Jira at {self.url}: {exc.message}")

    @property
    def fields(self) -> FieldIndex:
        if self._fields is None:
            self._fields = FieldIndex(self.client.fields())
        return self._fields

    @property
    def me(self) -> dict[str, Any]:
        if self._me is None:
            self._me = self.client.myself()
        return self._me

    def _tz(self) -> ZoneInfo | timezone:
        try:
            return ZoneInfo(str(self.me.get("timeZone") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            return timezone.utc

    def _field_id(self, fm: FieldMap, ours: str, kind: str = "bug") -> str:
        fid = self.fields.resolve(fm.source)
        if fid is None:
            close = self.fields.close_names(fm.source)
            hint = f" (close: {', '.join(close)})" if close else ""
            raise SourceError(f"source {self.name}: mapping.{kind}.fields.{ours} reads {fm.source!r}, "
                              f"which is not a field in this Jira{hint}")
        return fid

    def _maps(self, kind: str) -> dict[str, tuple[FieldMap, str]]:
        """Our field → (its map, the Jira field id)."""
        return {ours: (fm, self._field_id(fm, ours, kind))
                for ours, fm in field_maps(self.mapping[kind], kind).items()}

    def _jql(self, kind: str) -> str:
        km = self.mapping[kind]
        return km.query or f'project = "{km.queue}"'

    # ------------------------------------------------------------------------------ reading issues

    def _text(self, value: Any) -> str:
        return adf_to_text(value) if isinstance(value, dict) else (value or "")

    def _help_record(self, issue: dict[str, Any], maps: dict[str, tuple[FieldMap, str]],
                     thread: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A help request and its comments: replies (public) and notes (restricted)."""
        f = issue.get("fields") or {}
        key = issue["key"]
        rec: dict[str, Any] = {"type": "help_request", "ref": key, "source": self.name,
                               "remote_id": str(issue.get("id") or "") or None,
                               "created_at": jira_ts(f.get("created")), "updated_at": jira_ts(f.get("updated"))}
        for ours, (fm, fid) in maps.items():
            raw = f.get(fid)
            if ours in ("subject", "body"):
                rec[ours] = self._text(raw)
            elif ours in ("asker", "owner"):
                rec[ours] = user_name(raw) if raw else None
            else:
                value, _ = fm.read(plain(raw))
                rec[ours] = value if value is not None else ("P3" if ours == "priority" else "")
        rec["asker"] = rec.get("asker") or "unknown"
        messages = []
        for c in thread:
            author = user_name(c.get("author")) or "unknown"
            messages.append({
                "type": "message", "ref": f"{key}/comment/{c.get('id')}", "source": self.name,
                "remote_id": str(c.get("id")), "parent_type": "help_request", "parent_ref": key, "author": author,
                "body": self._text(c.get("body")), "kind": "note" if c.get("visibility") else "reply",
                "created_at": jira_ts(c.get("created"))})
        replies = [m for m in messages if m["kind"] == "reply" and m["author"] != rec["asker"]]
        cat = ((f.get("status") or {}).get("statusCategory") or {}).get("key")
        owner = rec.get("owner")
        if cat == "done":
            status = "resolved"
        elif owner and any(m["author"] == owner for m in replies):
            status = "answered"
        elif owner:
            status = "claimed"
        else:
            status = "answered" if replies else "new"
        rec["status"] = status
        rec["first_response_at"] = replies[0]["created_at"] if replies else None
        rec["resolved_at"] = jira_ts(f.get("resolutiondate")) if status == "resolved" else None
        digest = _h([rec, [(m["ref"], m["body"], m["kind"]) for m in messages]])
        rec["remote_version"] = _version(f.get("updated"), digest, f)
        return valid_records([rec, *messages])

    def _bug_record(self, issue: dict[str, Any], maps: dict[str, tuple[FieldMap, str]],
                    links: list[str]) -> list[dict[str, Any]]:
        f = issue.get("fields") or {}
        rec: dict[str, Any] = {"type": "bug", "ref": issue["key"], "source": self.name,
                               "remote_id": str(issue.get("id") or "") or None,
                               "created_at": jira_ts(f.get("created")), "updated_at": jira_ts(f.get("updated"))}
        for ours, (fm, fid) in maps.items():
            raw = f.get(fid)
            if ours in ("title", "body"):
                rec[ours] = self._text(raw)
            elif ours == "target_at":
                rec[ours] = jira_ts(raw if isinstance(raw, str) else None)
            elif ours == "eng_owner":
                rec[ours] = user_name(raw) if raw else None
            elif ours == "status":
                name = plain(raw)
                value, known = fm.read(name) if fm.map else (None, False)
                if not known or value is None:
                    cat = ((raw or {}).get("statusCategory") or {}).get("key") if isinstance(raw, dict) else None
                    value = STATUS_BY_CATEGORY.get(cat or "", "open")
                rec[ours] = value
            else:
                value, _ = fm.read(plain(raw))
                rec[ours] = value if value is not None else (None if ours in ("priority_override", "fix_version") else "")
        rec.setdefault("severity", "S3")
        rec.setdefault("priority_override", None)
        rec["severity"] = rec["severity"] or "S3"
        link_recs = [{"type": "link", "kind": "case_bug", "from_ref": case, "to_ref": issue["key"], "created_at": None}
                     for case in links]
        digest = _h([rec, sorted(links)])
        rec["remote_version"] = _version(f.get("updated"), digest, f)
        return valid_records([rec]) + link_recs

    def _links_of(self, key: str) -> list[str]:
        others = {src.name for src in self.config.sources if src.name != self.name}
        return sorted({case for link in self.client.remote_links(key)
                       if (case := _case_of_global_id(str(link.get("globalId") or ""), others))})

    def _records(self, kind: str, issues: list[dict[str, Any]],
                 maps: dict[str, tuple[FieldMap, str]]) -> list[dict[str, Any]]:
        if kind == "help_request":
            threads = list(self._pool.map(lambda it: self.client.comments(it["key"], max_results=1000), issues))
            return [r for issue, thread in zip(issues, threads) for r in self._help_record(issue, maps, thread)]
        # Cloud: Atlassian's spec gives GET .../remotelink one RemoteIssueLink (the form asked by
        # globalId), while the listing a pull needs is an array there; not read on Cloud until
        # checked against a live site (a link made by this replica is held locally all the same)
        if self.mapping["bug"].options.get("links", True) and not self.cloud:
            links = list(self._pool.map(lambda it: self._links_of(it["key"]), issues))
        else:
            links = [[] for _ in issues]
        out: list[dict[str, Any]] = []
        for issue, case_refs in zip(issues, links):
            out += self._bug_record(issue, maps, case_refs)
        return out

    def _fetch_fields(self, maps: dict[str, tuple[FieldMap, str]]) -> list[str]:
        return sorted({fid for _, fid in maps.values()}
                      | {"updated", "created", "status", "summary", "resolutiondate", *_GUARDED})

    # ------------------------------------------------------------------------------ pull

    def pull(self, cursors: dict[str, str | None]) -> Iterator[Batch]:
        try:
            for kind in SUPPORTED_KINDS:  # bugs first: help requests may name cases that link them
                if kind in self.mapping:
                    yield from self._pull_kind(kind, cursors)
        except JiraError as exc:
            raise self._source_error(exc) from None

    def _pages(self, jql: str, fields: list[str]) -> Iterator[list[dict[str, Any]]]:
        """Pages of issues in the JQL's order. Data Center pages after the first are asked for
        ahead (their offsets are known once the total is), while the engine writes the last one;
        the client keeps at most ``concurrency`` requests in flight. Cloud pages follow
        ``nextPageToken`` one after the other."""
        if self.cloud:
            token = None
            while True:
                page = self.client.search_page(jql, fields, max_results=PAGE, next_page_token=token)
                yield page.get("issues") or []
                token = page.get("nextPageToken")
                if not token or page.get("isLast"):
                    return
        first = self.client.search_page(jql, fields, start_at=0, max_results=PAGE)
        yield first.get("issues") or []
        total = int(first.get("total") or 0)
        starts = list(range(len(first.get("issues") or []) or PAGE, total, PAGE))
        ahead = 2 * max(1, self.src.concurrency)  # pages asked for while the engine writes the last one
        pending: deque = deque()
        for start in starts:
            pending.append(self._pool.submit(self.client.search_page, jql, fields, start_at=start, max_results=PAGE))
            if len(pending) >= ahead:
                yield pending.popleft().result().get("issues") or []
        while pending:
            yield pending.popleft().result().get("issues") or []

    def _pull_kind(self, kind: str, cursors: dict[str, str | None]) -> Iterator[Batch]:
        stream = f"jql:{kind}"
        state = json.loads(cursors.get(stream) or "{}")
        since: str | None = state.get("since")
        km = self.mapping[kind]
        maps = self._maps(kind)
        fields = self._fetch_fields(maps)
        base = self._jql(kind)
        if since:
            overlap = float(km.options.get("overlap_minutes", 5))
            start = datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) - timedelta(minutes=overlap)
            local = start.astimezone(self._tz()).strftime("%Y-%m-%d %H:%M")
            jql = f'({base}) AND updated >= "{local}" ORDER BY updated ASC, key ASC'
        else:
            jql = f"({base}) ORDER BY updated ASC, key ASC"
        seen: list[str] = []
        newest = since
        for issues in self._pages(jql, fields):
            if not issues:
                continue
            seen += [it["key"] for it in issues]
            stamps = [jira_ts((it.get("fields") or {}).get("updated")) for it in issues]
            newest = max([s for s in stamps if s] + ([newest] if newest else []), default=newest)
            state["since"] = newest
            yield Batch(stream, self._records(kind, issues, maps), json.dumps(state, sort_keys=True))
        now = self.clock.now().astimezone(timezone.utc)
        every = float(km.options.get("reconcile_minutes", 60))
        last = state.get("reconciled")
        due = last is None or now - datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) >= timedelta(minutes=every)
        if not since:
            present = seen  # a full listing: nothing else matches
        elif due:
            present = [it["key"] for page in self._pages(f"({base}) ORDER BY key ASC", ["key"]) for it in page]
        else:
            return
        state["reconciled"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        state.setdefault("since", newest)
        yield Batch(stream, [], json.dumps(state, sort_keys=True), kind=kind, present=present)

    # ------------------------------------------------------------------------------ push

    def push(self, op: dict[str, Any], *, resend: bool = False) -> PushResult:
        verb = op["op"].replace("_", " ")
        ref = op["record_ref"]
        handler = getattr(self, f"_push_{op['op']}", None)
        if handler is None:
            return PushResult("error", f"Jira cannot take a {verb} on {ref}")
        try:
            return handler(op, resend)
        except SourceError:
            raise
        except NotMapped as exc:
            return PushResult("error", str(exc))
        except JiraNotFound:
            return PushResult("error", f"{ref} is not in Jira (or source {self.name} cannot see it); the {verb} stays queued")
        except JiraRefused as exc:
            return PushResult("error", f"Jira refused the {verb} on {ref}: {exc.message}")
        except JiraError as exc:
            raise self._source_error(exc) from None

    def _fresh(self, key: str, kind: str = "bug") -> tuple[dict[str, Any], list[dict[str, Any]]]:
        maps = self._maps(kind)
        issue = self.client.issue(key, fields=",".join(self._fetch_fields(maps)))
        return issue, self._records(kind, [issue], maps)

    def _who_changed(self, key: str, field: str) -> str:
        """Who last changed ``field`` of an issue, from its changelog; "someone" when it says not."""
        try:
            issue = self.client.issue(key, fields="updated", expand="changelog")
        except JiraError:
            return "someone"
        histories = ((issue.get("changelog") or {}).get("histories")) or []
        for h in reversed(histories):
            if any((item.get("field") or "").lower() == field.lower() or item.get("fieldId") == field
                   for item in h.get("items") or []):
                return user_name(h.get("author")) or "someone"
        return "someone"

    def _set_field(self, op: dict[str, Any], resend: bool, fid: str, value: Any, shown: str | None) -> PushResult:
        """Set one field, unless someone else changed it since the op's base version."""
        key = op["record_ref"]
        issue, records = self._fresh(key)
        current = (issue.get("fields") or {}).get(fid)
        if plain(current) == plain(value):
            return PushResult("done", records=records, already_applied=resend)
        base = _version_part(op.get("base_version"), fid) if fid in _GUARDED else None
        if base is not None and base != _h(plain(current)):
            who = self._who_changed(key, fid)
            word = FIELD_WORDS.get(fid, self.fields.name_of(fid))
            now = plain(current)
            said = f" to {now}" if now not in (None, "", []) else " (cleared it)"
            return PushResult("conflict", f"{who} set {key}'s {word}{said} first; your change to {shown or 'nothing'} "
                                          "was not sent", records=records)
        self.client.update_issue(key, {fid: value})
        _, records = self._fresh(key)
        return PushResult("done", records=records)

    def _write_map(self, ours: str) -> tuple[FieldMap, str]:
        fm = field_maps(self.mapping["bug"]).get(ours)
        if fm is None or not fm.write:
            raise NotMapped(f"{ours.replace('_', ' ')} is not mapped for source {self.name}")
        return fm, self._field_id(fm, ours)

    def _push_bug_priority(self, op: dict[str, Any], resend: bool) -> PushResult:
        fm, fid = self._write_map("priority_override")
        ours = op["payload"].get("priority")
        if ours is None:
            return PushResult("error", f"Jira keeps a priority on every issue: set one on {op['record_ref']} "
                                       "instead of clearing the override")
        name = fm.upstream_value(ours)
        if name is None:
            return PushResult("error", f"no Jira priority maps to {ours} for source {self.name} "
                                       "(add it to mapping.bug.fields.priority_override.map)")
        return self._set_field(op, resend, fid, {"name": name}, name)

    def _push_bug_target(self, op: dict[str, Any], resend: bool) -> PushResult:
        _, fid = self._write_map("target_at")
        target = op["payload"].get("target_at")
        day = target[:10] if target else None
        return self._set_field(op, resend, fid, day, day)

    def _push_comment(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post_comment(op, resend, None)

    def _find_comment(self, key: str, text: str) -> str | None:
        """Our comment with this text among the issue's recent ones (a resend after a crash)."""
        for c in reversed(self.client.comments(key)):
            if self._is_me(c.get("author")) and self._text(c.get("body")).strip() == text.strip():
                return str(c.get("id"))
        return None

    def _case_url(self, source: str, ref: str) -> str:
        """Where a person opens the case: its RT page when the case's source is an RT we know."""
        for s in self.config.sources:
            if s.name == source and s.kind == "rt" and s.url and ref.startswith("RT#") and ref[3:].isdigit():
                return f"{s.url.rstrip('/')}/Ticket/Display.html?id={ref[3:]}"
        return f"backline:{source}:{ref}"

    def _link_case(self, bug_key: str, case_source: str, case_ref: str, title: str | None = None) -> None:
        self.client.put_remote_link(bug_key, case_global_id(case_source, case_ref), self._case_url(case_source, case_ref),
                                    title or f"Case {case_ref}", relationship="customer case")

    def _push_link(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        key = p.get("bug_ref") or ""
        self._link_case(key, op["source"], op["record_ref"])
        _, records = self._fresh(key)
        return PushResult("done", records=records, already_applied=resend)

    def _marker(self, op: dict[str, Any]) -> str:
        seed = f"{op['source']}:{op['record_ref']}:{op['created_at']}:{op.get('id')}"
        return MARKER_PREFIX + hashlib.sha1(seed.encode()).hexdigest()[:12]

    def _push_create_bug(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        km = self.mapping["bug"]
        marker = self._marker(op)
        project = km.options.get("project") or km.queue
        if not project:
            return PushResult("error", f"source {self.name}: say which project new bugs go to "
                                       "(mapping.bug.queue or mapping.bug.options.project)")
        key = issue_id = None
        if resend:
            for issue in self.client.search(f'labels = "{marker}"', ["key"], page_size=5):
                key, issue_id = issue["key"], str(issue.get("id") or "") or None
                break
        if key is None:
            body = p.get("body") or ""
            created = self.client.create_issue({
                "project": {"key": project}, "issuetype": {"name": km.options.get("issue_type", "Bug")},
                "summary": p.get("title") or "", "description": text_to_adf(body) if self.cloud else body,
                "labels": [marker],
            })
            key, issue_id = created["key"], str(created.get("id") or "") or None
        if p.get("case_ref"):
            self._link_case(key, p.get("case_source") or op["source"], p["case_ref"])
        _, records = self._fresh(key)
        return PushResult("done", records=records, renames=[("bug", op["record_ref"], key, issue_id)],
                          already_applied=resend and key is not None)

    #: an escalation (the workbench's escalate) is a bug filed from a case or help request, with
    #: the same payload keys: Jira creates it as it creates any bug
    _push_escalate = _push_create_bug

    # ------------------------------------------------------------------------------ help requests

    def _me_as_assignee(self) -> dict[str, Any]:
        me = self.me
        return {"accountId": me.get("accountId")} if self.cloud else {"name": me.get("name")}

    def _is_me(self, user: Any) -> bool:
        if not isinstance(user, dict):
            return False
        me = self.me
        return bool({user.get("name"), user.get("accountId")} - {None} & {me.get("name"), me.get("accountId")} - {None})

    def _push_claim(self, op: dict[str, Any], resend: bool) -> PushResult:
        key = op["record_ref"]
        issue, records = self._fresh(key, "help_request")
        assignee = (issue.get("fields") or {}).get("assignee")
        if self._is_me(assignee):
            return PushResult("done", records=records, already_applied=resend)
        if assignee:
            return PushResult("conflict", f"{user_name(assignee)} claimed {key} first", records=records)
        self.client.update_issue(key, {"assignee": self._me_as_assignee()})
        _, records = self._fresh(key, "help_request")
        return PushResult("done", records=records)

    def _push_unclaim(self, op: dict[str, Any], resend: bool) -> PushResult:
        key = op["record_ref"]
        issue, records = self._fresh(key, "help_request")
        assignee = (issue.get("fields") or {}).get("assignee")
        if assignee and not self._is_me(assignee):
            return PushResult("conflict", f"{user_name(assignee)} owns {key} now; your unclaim was not applied",
                              records=records)
        if assignee:
            self.client.update_issue(key, {"assignee": None})
            _, records = self._fresh(key, "help_request")
        return PushResult("done", records=records)

    def _push_take_over(self, op: dict[str, Any], resend: bool) -> PushResult:
        """A request someone else owns becomes ours: the assignee changes to us (the issue's
        history names who had it). If a third person took it meanwhile, that is a conflict."""
        key = op["record_ref"]
        before = op["payload"].get("previous_owner")
        issue, records = self._fresh(key, "help_request")
        assignee = (issue.get("fields") or {}).get("assignee")
        if self._is_me(assignee):
            return PushResult("done", records=records, already_applied=resend)
        if assignee and user_name(assignee) != before:
            return PushResult("conflict", f"{user_name(assignee)} owns {key} now; your take-over from {before} "
                              "was not applied", records=records)
        self.client.update_issue(key, {"assignee": self._me_as_assignee()})
        _, records = self._fresh(key, "help_request")
        return PushResult("done", records=records)

    def _post_comment(self, op: dict[str, Any], resend: bool, visibility: dict[str, str] | None) -> PushResult:
        key = op["record_ref"]
        text = op["payload"].get("body") or ""
        found = self._find_comment(key, text) if resend else None
        if found is None:
            made = self.client.add_comment(key, text_to_adf(text) if self.cloud else text, visibility)
            found_id, already = str(made.get("id")), False
        else:
            found_id, already = found, True
        refs = {}
        if op["payload"].get("message_id"):
            refs[int(op["payload"]["message_id"])] = (f"{key}/comment/{found_id}", found_id)
        kind = op.get("record_type") or "help_request"
        _, records = self._fresh(key, kind if kind in self.mapping else "bug")
        return PushResult("done", records=records, message_refs=refs, already_applied=already)

    def _push_respond(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post_comment(op, resend, None)

    def _push_note(self, op: dict[str, Any], resend: bool) -> PushResult:
        km = self.mapping.get(op.get("record_type") or "help_request")
        visibility = km.options.get("note_visibility") if km else None
        if not isinstance(visibility, dict) or not visibility.get("type") or not visibility.get("value"):
            raise NotMapped(f"note visibility is not mapped for source {self.name} "
                            "(mapping.help_request.options.note_visibility = { type = \"role\", value = \"…\" })")
        return self._post_comment(op, resend, {"type": str(visibility["type"]), "value": str(visibility["value"])})

    def _push_resolve(self, op: dict[str, Any], resend: bool) -> PushResult:
        key = op["record_ref"]
        name = self.mapping["help_request"].transitions.get("resolved")
        if not name:
            raise NotMapped(f"resolve is not mapped for source {self.name} (mapping.help_request.transitions.resolved)")
        issue, records = self._fresh(key, "help_request")
        status = (issue.get("fields") or {}).get("status") or {}
        if (status.get("statusCategory") or {}).get("key") == "done":
            return PushResult("done", records=records, already_applied=resend)
        options = self.client.transitions(key)
        chosen = next((t for t in options if str(t.get("name", "")).casefold() == name.casefold()
                       or str((t.get("to") or {}).get("name", "")).casefold() == name.casefold()), None)
        if chosen is None:
            shown = ", ".join(str(t.get("name")) for t in options) or "none"
            return PushResult("error", f"{key} has no transition {name!r} from {status.get('name') or 'its status'} "
                                       f"(it has: {shown})", records=records)
        self.client.transition(key, str(chosen["id"]))
        _, records = self._fresh(key, "help_request")
        return PushResult("done", records=records)

    # ------------------------------------------------------------------------------ check

    def check(self) -> CheckReport:
        """What `backline sources check` says of this source; reads only."""
        report = CheckReport(self.name)
        try:
            self._check(report)
        except SourceError as exc:
            report.add("problem", str(exc))
        except JiraError as exc:
            report.add("problem", str(self._source_error(exc)))
        return report

    def _check(self, report: CheckReport) -> None:
        info = self.client.server_info()
        deployment = "Cloud" if self.cloud else "Data Center"
        report.add("ok", f"Jira {deployment} {info.get('version') or ''} at {self.url}".replace("  ", " "))
        report.add("ok", f"signed in as {user_name(self.me)}")
        for kind in SUPPORTED_KINDS:
            if kind in self.mapping:
                self._check_kind(report, kind)

    def _check_kind(self, report: CheckReport, kind: str) -> None:
        km = self.mapping[kind]
        jql = self._jql(kind)
        try:
            count = self.client.count(jql)
        except JiraRefused as exc:
            report.add("problem", f"{kind}: JQL {jql!r} is refused: {exc.message}")
            return
        report.add("ok" if count else "warn", f"{kind}: {jql} matches {count if count is not None else 'over 10000'} issue(s)")
        maps: dict[str, tuple[FieldMap, str]] = {}
        problems = False
        for ours, fm in field_maps(km, kind).items():
            fid = self.fields.resolve(fm.source)
            if fid is None:
                close = self.fields.close_names(fm.source)
                hint = f" (close: {', '.join(close)})" if close else ""
                report.add("problem", f"{kind}.{ours}: field {fm.source!r} not found in Jira{hint}")
                problems = True
                continue
            maps[ours] = (fm, fid)
            shown = fm.source if fid == fm.source else f"{fm.source} ({fid})"
            report.add("ok", f"{kind}.{ours} ← {shown}" + (" (default)" if ours not in km.fields else ""))
        defaults = ((("severity", "S3"), ("priority_override", "set by impact")) if kind == "bug"
                    else (("priority", "P3"),))
        for ours, default in defaults:
            if ours not in km.fields:
                report.add("info", f"{kind}.{ours}: not mapped; default {default}")
        if problems:
            return
        unknown: dict[str, dict[str, int]] = {}
        fields = sorted({fid for _, fid in maps.values()})
        for n, issue in enumerate(self.client.search(jql, fields, page_size=PAGE)):
            if n >= 500:
                break
            f = issue.get("fields") or {}
            for ours, (fm, fid) in maps.items():
                if not (fm.map or fm.ranges):
                    continue
                value = plain(f.get(fid))
                if fm.read(value)[1]:
                    continue
                shown = str(value[0] if isinstance(value, list) and value else value)
                shown += " (by category)" if ours == "status" else ""
                unknown.setdefault(ours, {}).setdefault(shown, 0)
                unknown[ours][shown] += 1
        for ours, values in unknown.items():
            listed = ", ".join(f"{v} ({n})" for v, n in sorted(values.items(), key=lambda kv: -kv[1]))
            level = "info" if ours == "status" else "warn"
            report.add(level, f"{kind}.{ours}: values with no map entry: {listed}")
        if kind == "help_request":
            visibility = km.options.get("note_visibility")
            report.add("info", "writes: claim → assignee; respond → comment; note → "
                               + (f"comment visible to {visibility.get('type')} {visibility.get('value')}"
                                  if isinstance(visibility, dict) else "not mapped (options.note_visibility); refused")
                               + "; resolve → " + (f"transition {km.transitions['resolved']!r}"
                                                   if km.transitions.get("resolved") else "not mapped; refused"))
            return
        for ours, word in (("priority_override", "priority override"), ("target_at", "resolution target")):
            pair = maps.get(ours)
            if pair and pair[0].write:
                report.add("info", f"writes: {word} → {self.fields.name_of(pair[1])}")
            else:
                report.add("info", f"writes: {word} is not mapped; that action is refused")
        report.add("info", "writes: comment → comment; case link → remote link (globalId backline:<source>:<case ref>)")
