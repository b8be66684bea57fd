"""What `backline sources check` says of a Jira source, reading only: the server and who we are,
what each mapped JQL matches, each mapped field found or not (with close names), values with no
map entry among the first issues, and what the writes go to. Mixed into JiraConnector, which
provides client, name, url, mapping, me, cloud, fields, _jql and _source_error."""

from __future__ import annotations

from backline_tui.sync.base import CheckReport, SourceError
from backline_tui.sync.jira.client import JiraError, JiraRefused
from backline_tui.sync.jira.mapping import field_maps, plain, user_name
from backline_tui.sync.jira.pull import PAGE, SUPPORTED_KINDS
from backline_tui.sync.mapping import FieldMap


class JiraCheck:
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
