"""The Insights facade: the voice of the customer and the team's own numbers, over a window of weeks.

No textual here: the pane and the `backline report` command both read these plain dataclasses.
Every figure is computed by SQLite (see queries.py, and rolled.py for the rollups); Python only
sums the small grouped results, names them and applies the domain rules (bug priority and target).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from backline_tui.clock import Clock, to_ts
from backline_tui.config import PRIORITIES, Config
from backline_tui.domain import rules
from backline_tui.insights import queries as q
from backline_tui.insights import rolled
from backline_tui.insights.topics import Topic, cluster
from backline_tui.insights.window import Window, default_since, parse_since

__all__ = [
    "AskerStats", "BugImpact", "Driver", "Drivers", "GapGroup", "Gaps", "Insights", "LEVELS",
    "PriorityStats", "Snapshot", "Team", "WeekStats", "Window", "default_since",
]

LEVELS = ("product", "component", "version")  # Pareto levels: product, product/component, product/version


# -- drivers ----------------------------------------------------------------------------------------


@dataclass
class Driver:
    product: str
    component: str | None
    version: str | None
    cases: int
    share: float  # of all cases in the window
    cumulative: float  # share of this driver and every bigger one (the Pareto curve)

    @property
    def label(self) -> str:
        second = self.component if self.component is not None else self.version
        if second is None:
            return self.product or "(none)"
        return f"{self.product or '(none)'} / {second or '(none)'}"


@dataclass
class Drivers:
    window: Window
    total: int
    pareto: dict[str, list[Driver]]  # by level (LEVELS), biggest first
    trend: dict[str, list[int]]  # product -> cases per week (aligned with window.weeks), biggest product first

    def vital_few(self, level: str = "component", share: float = 0.8) -> int:
        """How many drivers make `share` of the cases."""
        for i, d in enumerate(self.pareto[level], 1):
            if d.cumulative >= share - 1e-9:
                return i
        return len(self.pareto[level])


def _pareto(counts: dict[tuple, int], level: str, total: int) -> list[Driver]:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    out, running = [], 0
    for key, n in items:
        running += n
        product = key[0]
        component = key[1] if level == "component" else None
        version = key[1] if level == "version" else None
        out.append(Driver(product, component, version, n, n / total if total else 0.0, running / total if total else 0.0))
    return out


# -- bugs ---------------------------------------------------------------------------------------------------


@dataclass
class BugImpact:
    ref: str
    title: str
    product: str
    component: str
    severity: str
    status: str
    impact_score: int
    open_cases: int
    linked_cases: int
    customers: int
    priority: str
    priority_overridden: bool
    target: str  # storage timestamp
    target_explicit: bool
    target_state: str  # 'overdue', 'near' or ''

    @property
    def overdue(self) -> bool:
        return self.target_state == "overdue"


# -- gaps --------------------------------------------------------------------------------------------------------


@dataclass
class GapGroup:
    product: str
    component: str
    answered: int
    undocumented: int

    @property
    def share(self) -> float:
        return self.undocumented / self.answered if self.answered else 0.0


@dataclass
class Gaps:
    window: Window
    by_component: list[GapGroup]
    topics: list[Topic]

    @property
    def answered(self) -> int:
        return sum(g.answered for g in self.by_component)

    @property
    def undocumented(self) -> int:
        return sum(g.undocumented for g in self.by_component)


# -- team -----------------------------------------------------------------------------------------------------------


@dataclass
class WeekStats:
    """Help requests asked in one week (or the whole window), and what became of them."""

    label: str  # week start 'YYYY-MM-DD', or 'all'
    requests: int = 0
    responded: int = 0
    met: int = 0  # first response within the OLA
    breached: int = 0  # first response late, or none and the OLA has passed
    resolved: int = 0
    answered: int = 0  # status answered or resolved: a chance to document
    documented: int = 0  # ...and linked to an article
    median_first_response: float | None = None  # seconds
    median_resolve: float | None = None  # seconds

    @property
    def ola_met_rate(self) -> float | None:
        judged = self.met + self.breached
        return self.met / judged if judged else None

    @property
    def document_rate(self) -> float | None:
        return self.documented / self.answered if self.answered else None


@dataclass
class PriorityStats(WeekStats):
    ola_minutes: int = 0

    @property
    def median_vs_ola(self) -> float | None:
        """Median first response as a share of the OLA target (below 1: typically in time)."""
        if self.median_first_response is None:
            return None
        return self.median_first_response / (self.ola_minutes * 60)


@dataclass
class AskerStats:
    asker: str
    requests: int
    per_week: float
    already_documented: int  # answered by an article that existed before they asked
    products: int


@dataclass
class Team:
    window: Window
    weeks: list[WeekStats]
    priorities: list[PriorityStats]
    overall: WeekStats
    askers: list[AskerStats]


@dataclass
class Snapshot:
    window: Window
    drivers: Drivers
    bugs: list[BugImpact]
    gaps: Gaps
    team: Team
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


# -- the facade ----------------------------------------------------------------------------------------------------------


class Insights:
    """Insights over the replica. Thread-safe as the Replica is (one connection per thread):
    call it from a worker thread."""

    def __init__(self, replica, config: Config | None = None, clock: Clock | None = None, *,
                 recompute: bool = False) -> None:
        self.replica = replica
        self.config = config or Config()
        self.clock = clock or Clock()
        # recompute=True reads every figure from the record tables instead of the rollups: the
        # reference the rollups are tested against
        self.recompute = recompute

    @property
    def _conn(self):
        return self.replica.conn

    def window(self, since: str | date | datetime | None = None, until: datetime | None = None) -> Window:
        now = until or self.clock.now()
        start = parse_since(since, now)
        if start > now:
            raise ValueError(f"the start date {start:%Y-%m-%d} is after now ({now:%Y-%m-%d})")
        return Window(start, now)

    def _rolled(self, w: Window) -> bool:
        """Whether to read the rollups: they hold whole UTC days, so a window that starts at a
        midnight (the default, or --since DATE) reads them; any other start is read live."""
        return not self.recompute and w.since_ts.endswith("T00:00:00Z")

    # drivers

    def drivers(self, window: Window | None = None) -> Drivers:
        w = window or self.window()
        if self._rolled(w):
            totals = weekly = rolled.case_volume(self._conn, w.since_ts, w.until_ts)  # rows by week: both
        else:  # per-day rows: summed below as totals are
            totals = q.case_volume_by_day(self._conn, w.since_ts, w.until_ts)
            weekly = [{"week": w.week_of(r["day"]), "product": r["product"], "n": r["n"]} for r in totals]
        n_weeks = len(w.weeks)
        by: dict[str, dict[tuple, int]] = {level: {} for level in LEVELS}
        total = 0
        for r in totals:
            n, p = r["n"], r["product"]
            total += n
            by["product"][(p,)] = by["product"].get((p,), 0) + n
            by["component"][(p, r["component"])] = by["component"].get((p, r["component"]), 0) + n
            by["version"][(p, r["version"])] = by["version"].get((p, r["version"]), 0) + n
        trend: dict[str, list[int]] = {}
        for r in weekly:
            if 0 <= r["week"] < n_weeks:
                trend.setdefault(r["product"], [0] * n_weeks)[r["week"]] += r["n"]
        pareto = {level: _pareto(by[level], level, total) for level in LEVELS}
        order = [d.product for d in pareto["product"]]
        return Drivers(w, total, pareto, {p: trend.get(p, [0] * n_weeks) for p in order})

    def cases(
        self,
        product: str | None = None,
        component: str | None = None,
        version: str | None = None,
        window: Window | None = None,
        limit: int = 200,
    ) -> tuple[list[dict], int]:
        """The cases behind a driver, newest first (at most `limit`), and how many in all."""
        w = window or self.window()
        return q.cases_matching(self._conn, w.since_ts, w.until_ts, product, component, version, limit)

    # bugs

    def bugs(self, limit: int = 10) -> list[BugImpact]:
        imp, now = self.config.impact, self.clock.now()
        out = []
        for r in q.top_bugs(self._conn, limit):
            priority = rules.effective_priority(r["impact_score"], r["priority_override"], imp)
            target = r["target_at"] or to_ts(rules.resolution_target(r["created_at"], priority, imp))
            out.append(BugImpact(
                ref=r["ref"], title=r["title"], product=r["product"], component=r["component"],
                severity=r["severity"], status=r["status"], impact_score=r["impact_score"],
                open_cases=r["open_cases"], linked_cases=r["linked_cases"], customers=r["customers"],
                priority=priority, priority_overridden=r["priority_override"] is not None,
                target=target, target_explicit=r["target_at"] is not None,
                target_state=rules.target_state(target, now, imp),
            ))
        return out

    # knowledge gaps

    def gaps(self, window: Window | None = None, topics: int = 10) -> Gaps:
        w = window or self.window()
        by_component = rolled.gaps_by_component_rolled if self._rolled(w) else q.gaps_by_component
        groups = [GapGroup(r["product"], r["component"], r["answered"], r["undocumented"])
                  for r in by_component(self._conn, w.since_ts, w.until_ts)]
        subjects = (rolled.gap_subjects_rolled if self._rolled(w) else q.gap_subjects)(self._conn, w.since_ts, w.until_ts)
        return Gaps(w, groups, cluster(subjects, limit=topics))

    # team

    def team(self, window: Window | None = None, askers: int = 15) -> Team:
        w = window or self.window()
        conn = self._conn
        weeks = [WeekStats(d.isoformat()) for d in w.weeks]
        prios = [PriorityStats(p, ola_minutes=self.config.ola.minutes(p)) for p in PRIORITIES]
        overall = WeekStats("all")
        counted = ("requests", "responded", "met", "breached", "resolved", "answered", "documented")

        def target(kind: str, key) -> WeekStats | None:
            if kind == "all":
                return overall
            if kind == "priority":
                return next((p for p in prios if p.label == key), None)
            i = int(key)
            return weeks[i] if 0 <= i < len(weeks) else None

        stats = (rolled.team_stats_rolled if self._rolled(w) else q.team_stats)(conn, w.since_ts, w.until_ts, askers)
        for r in stats["counts"]:
            for target_stats in (target("week", r["week"]), target("priority", r["priority"]), overall):
                if target_stats is not None:
                    for k in counted:
                        setattr(target_stats, k, getattr(target_stats, k) + (r[k] or 0))
        for r in stats["medians"]:
            target_stats = target(r["kind"], r["key"])
            if target_stats is not None:
                attr = "median_first_response" if r["metric"] == "frt" else "median_resolve"
                setattr(target_stats, attr, r["median"])
        people = [AskerStats(r["asker"], r["requests"], r["requests"] / w.n_weeks, r["already_documented"] or 0, r["products"])
                  for r in stats["askers"]]
        return Team(w, weeks, prios, overall, people)

    def snapshot(self, since: str | date | datetime | None = None, *, workers: int = 1) -> Snapshot:
        """Every section. With ``workers`` > 1 the sections are computed side by side, each thread
        on its own connection (SQLite runs without the GIL): for the report command, which has no
        UI thread to keep responsive."""
        w = self.window(since)
        if workers <= 1:
            return Snapshot(w, self.drivers(w), self.bugs(), self.gaps(w), self.team(w), generated_at=self.clock.now())
        from concurrent.futures import ThreadPoolExecutor  # here: the one-thread path does without it

        with ThreadPoolExecutor(workers, thread_name_prefix="insights") as pool:
            # the longest first, so the pool's last free thread takes the quick ones
            team, gaps, drivers = (pool.submit(self.team, w), pool.submit(self.gaps, w), pool.submit(self.drivers, w))
            bugs = pool.submit(self.bugs)
            return Snapshot(w, drivers.result(), bugs.result(), gaps.result(), team.result(), generated_at=self.clock.now())
