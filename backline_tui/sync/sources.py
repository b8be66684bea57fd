"""`backline sources check [NAME]` and `backline sources forget NAME`: the logic, as functions
that return reports and lines (cli/sources.py only asks and prints).

check asks each source's connector for a read-only ``check()`` (sync/base.py CheckReport): it
connects, authenticates and says, for each mapped kind, the queue or query and how many records
match, each mapped field found or missing (with close names), the values with no map entry, and
where each action would write. It never writes upstream.
"""

from __future__ import annotations

from backline_tui.config import Config, ConfigError, SourceConfig
from backline_tui.sync.base import CheckReport, SourceError

MARKS = {"ok": "ok  ", "info": "    ", "warn": "warn", "problem": "FAIL"}
KIND_WORDS = {"help_request": "help requests", "case": "cases", "bug": "bugs", "article": "articles",
              "message": "messages", "op": "queued changes"}


def check_source(src: SourceConfig, config: Config) -> CheckReport:
    """One source's report; every failure to set up or reach it is a "problem" line."""
    from backline_tui.sync.engine import connector_for

    report = CheckReport(src.name)
    try:
        connector = connector_for(src, config)
    except (SourceError, ConfigError) as exc:
        report.add("problem", str(exc))
        return report
    try:
        check = getattr(connector, "check", None)
        if check is None:
            report.add("info", f"{src.kind} source: nothing upstream to check")
            return report
        return check()
    except SourceError as exc:
        report.add("problem", str(exc))
        return report
    finally:
        connector.close()


def check_sources(config: Config, name: str | None = None) -> list[CheckReport]:
    sources = [config.source(name)] if name else list(config.sources)
    if not sources:
        raise ConfigError("no sources configured; add one under [[sources]] in the config")
    return [check_source(src, config) for src in sources]


def report_lines(report: CheckReport, src: SourceConfig | None = None) -> list[str]:
    """The report as printed: upstream names and answers folded onto one line by the sanitiser."""
    from backline_tui.text import one_line

    where = f" ({src.kind}{', ' + src.url if src and src.url else ''})" if src else ""
    lines = [one_line(f"source {report.source}{where}")]
    lines += [f"  {MARKS[line.level]}  {one_line(line.text)}" for line in report.lines]
    problems = report.problems
    lines.append(f"  => {'usable' if not problems else 'NOT usable: ' + str(len(problems)) + ' problem(s)'}")
    return lines


def forget_summary(counts: dict[str, int]) -> str:
    parts = [f"{n} {KIND_WORDS[k]}" for k, n in counts.items() if n]
    return ", ".join(parts) or "no records"
