"""Jira pull: issues read into interchange records (help requests with their comments, bugs with
their case links), incrementally by ``updated`` with an overlap, and the keys still matching the
JQL listed now and then so that the engine drops what left it. Mixed into JiraConnector, which
provides client, name, config, src, mapping, clock, cloud, _pool, _maps, _jql and _tz."""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from backline_tui.sync.base import Batch, valid_records
from backline_tui.sync.jira.adf import adf_to_text
from backline_tui.sync.jira.client import JiraError
from backline_tui.sync.jira.mapping import STATUS_BY_CATEGORY, jira_ts, plain, user_name
from backline_tui.sync.jira.versions import _GUARDED, _case_of_global_id, _h, _version
from backline_tui.sync.mapping import FieldMap

PAGE = 100
SUPPORTED_KINDS = ("bug", "help_request")


class JiraPull:
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
