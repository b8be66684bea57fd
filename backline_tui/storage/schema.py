"""Schema versions. Each migration moves the database forward by one version."""

from __future__ import annotations

OPEN_HELP = "status IN ('new','claimed','answered')"
OPEN_CASE = "status IN ('open','pending','on_hold')"
OPEN_BUG = "status IN ('open','in_progress')"

_RECORD_COLS = """
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL DEFAULT 'local',
    remote_id TEXT,
    remote_version TEXT,
    synced_at TEXT"""

V1 = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);

CREATE TABLE cases ({_RECORD_COLS},
    subject TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    customer TEXT NOT NULL,
    tier TEXT NOT NULL DEFAULT 'standard',
    product TEXT NOT NULL DEFAULT '',
    component TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT 'S3',
    status TEXT NOT NULL DEFAULT 'open',
    owner TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_activity_at TEXT NOT NULL,
    last_customer_update_at TEXT,
    reopen_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_cases_stale ON cases(severity, last_activity_at) WHERE {OPEN_CASE};
CREATE INDEX ix_cases_product_created ON cases(product, created_at);
CREATE INDEX ix_cases_created ON cases(created_at);

CREATE TABLE articles ({_RECORD_COLS},
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'wip',
    owner TEXT,
    product TEXT NOT NULL DEFAULT '',
    component TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_reviewed_at TEXT,
    review_due_at TEXT,
    open_flags INTEGER NOT NULL DEFAULT 0,
    reuse_count INTEGER NOT NULL DEFAULT 0,
    last_reused_at TEXT
);
CREATE INDEX ix_articles_review ON articles(state, open_flags, review_due_at);

CREATE TABLE help_requests ({_RECORD_COLS},
    subject TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    asker TEXT NOT NULL,
    case_id INTEGER REFERENCES cases(id) ON DELETE SET NULL,
    product TEXT NOT NULL DEFAULT '',
    component TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT 'P3',
    status TEXT NOT NULL DEFAULT 'new',
    owner TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    first_response_at TEXT,
    resolved_at TEXT,
    ola_due_at TEXT NOT NULL,
    article_id INTEGER REFERENCES articles(id) ON DELETE SET NULL
);
CREATE INDEX ix_hr_queue ON help_requests((first_response_at IS NOT NULL), ola_due_at, priority, created_at)
    WHERE {OPEN_HELP};
CREATE INDEX ix_hr_case ON help_requests(case_id);
CREATE INDEX ix_hr_article ON help_requests(article_id);
CREATE INDEX ix_hr_created ON help_requests(created_at);

CREATE TABLE bugs ({_RECORD_COLS},
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    product TEXT NOT NULL DEFAULT '',
    component TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT 'S3',
    status TEXT NOT NULL DEFAULT 'open',
    eng_owner TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    target_at TEXT,
    priority_override TEXT,
    fix_version TEXT,
    impact_score INTEGER NOT NULL DEFAULT 0,
    case_count INTEGER NOT NULL DEFAULT 0,
    customer_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_bugs_impact ON bugs(impact_score DESC, created_at) WHERE {OPEN_BUG};

CREATE TABLE case_bugs (
    case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    bug_id INTEGER NOT NULL REFERENCES bugs(id) ON DELETE CASCADE,
    created_at TEXT,
    PRIMARY KEY (case_id, bug_id)
) WITHOUT ROWID;
CREATE INDEX ix_case_bugs_bug ON case_bugs(bug_id, case_id);

CREATE TABLE article_links (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    target_type TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    created_at TEXT,
    PRIMARY KEY (article_id, target_type, target_id)
) WITHOUT ROWID;
CREATE INDEX ix_article_links_target ON article_links(target_type, target_id);

CREATE TABLE article_flags (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    who TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX ix_article_flags_article ON article_flags(article_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    ref TEXT UNIQUE,
    source TEXT NOT NULL DEFAULT 'local',
    remote_id TEXT,
    parent_type TEXT NOT NULL,
    parent_id INTEGER NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_messages_parent ON messages(parent_type, parent_id, created_at);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    op TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_ref TEXT NOT NULL,
    source TEXT NOT NULL,
    base_version TEXT,
    payload TEXT NOT NULL DEFAULT '{{}}',
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX ix_outbox_state ON outbox(state, id);

CREATE TABLE sync_cursors (
    source TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor TEXT,
    updated_at TEXT,
    PRIMARY KEY (source, stream)
);

CREATE TABLE sync_log (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    pulled INTEGER NOT NULL DEFAULT 0,
    pushed INTEGER NOT NULL DEFAULT 0,
    conflicts INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
"""

# Full-text search: one external-content FTS5 table per record table, kept in step by triggers.
FTS_TABLES = {
    "help_requests": ("help_requests_fts", ("subject", "body")),
    "cases": ("cases_fts", ("subject", "body")),
    "bugs": ("bugs_fts", ("title", "body")),
    "articles": ("articles_fts", ("title", "body")),
}


def fts_triggers_sql(table: str) -> str:
    fts, cols = FTS_TABLES[table]
    c = ", ".join(cols)
    new = ", ".join(f"new.{x}" for x in cols)
    old = ", ".join(f"old.{x}" for x in cols)
    return f"""
CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN
  INSERT INTO {fts}(rowid, {c}) VALUES (new.id, {new});
END;
CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN
  INSERT INTO {fts}({fts}, rowid, {c}) VALUES ('delete', old.id, {old});
END;
CREATE TRIGGER {fts}_au AFTER UPDATE OF {c} ON {table} BEGIN
  INSERT INTO {fts}({fts}, rowid, {c}) VALUES ('delete', old.id, {old});
  INSERT INTO {fts}(rowid, {c}) VALUES (new.id, {new});
END;
"""


def fts_drop_triggers_sql(table: str) -> str:
    fts, _ = FTS_TABLES[table]
    return "".join(f"DROP TRIGGER IF EXISTS {fts}_{s};\n" for s in ("ai", "ad", "au"))


def _fts_sql() -> str:
    parts = []
    for table, (fts, cols) in FTS_TABLES.items():
        parts.append(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(cols)}, content='{table}', "
            f"content_rowid='id', tokenize='unicode61 remove_diacritics 2');"
        )
        parts.append(fts_triggers_sql(table))
    return "\n".join(parts)


# v2: the partial indexes behind the help queue and the stale cases cover every column their pages
# read and filter on, so a page, a count and a text filter read only the (small) index of open
# records, never the big table. At a million cases: stale count ~170 → ~11 ms, stale page with a
# text filter ~45 → ~8 ms, help queue with a text filter ~8 → ~1.5 ms.
V2 = f"""
DROP INDEX IF EXISTS ix_cases_stale;
CREATE INDEX ix_cases_stale ON cases(severity, last_activity_at, reopen_count, last_customer_update_at,
    ref, subject, customer, tier, product, component, version, status, owner, created_at)
    WHERE {OPEN_CASE};
DROP INDEX IF EXISTS ix_hr_queue;
CREATE INDEX ix_hr_queue ON help_requests((first_response_at IS NOT NULL), ola_due_at, priority, created_at,
    ref, subject, asker, product, component, status, owner, first_response_at, case_id, article_id)
    WHERE {OPEN_HELP};
"""

# v3 (Insights): case volume per day, product, component and version over a window is read from
# one index that covers it (no table row is read): 26 weeks at a million cases went from ~1.8 s of
# row lookups to ~0.4 s. It starts with created_at, so it serves everything ix_cases_created did.
V3 = """
CREATE INDEX ix_cases_created_pcv ON cases(created_at, product, component, version);
DROP INDEX IF EXISTS ix_cases_created;
"""

# v4: one small index per stream of the KB review pane (flagged, review overdue, drafts, archive
# candidates), so its first page walks four short index ranges instead of sorting every article.
# They replace ix_articles_review, which the planner preferred to them and then sorted.
V4 = """
DROP INDEX IF EXISTS ix_articles_review;
CREATE INDEX ix_articles_flagged ON articles(reuse_count DESC, id) WHERE open_flags > 0 AND state != 'archived';
CREATE INDEX ix_articles_due ON articles(review_due_at) WHERE state != 'archived';
CREATE INDEX ix_articles_drafts ON articles(created_at) WHERE state IN ('wip','not_validated');
CREATE INDEX ix_articles_unused ON articles(COALESCE(last_reused_at, created_at)) WHERE state = 'validated';
"""

# v5: the KB pane with a text filter, and its counts, read one index of the live articles that
# holds every column they filter, sort and show (at a million cases: page 23 → 10 ms, count
# 20 → 7 ms), where they fetched each article's row, body and all, in index order.
V5 = """
CREATE INDEX ix_articles_cover ON articles(state, open_flags, review_due_at, reuse_count, last_reused_at,
    created_at, title, ref, owner, product, component, updated_at, last_reviewed_at) WHERE state != 'archived';
"""

# v6: pane filters and counts at a million cases.
# - Small FTS5 tables ("filter tables") over the columns a pane filter reads, holding only the
#   records a pane can show (open help requests, open cases by severity, open bugs, live
#   articles), kept in step by triggers. A filter word of 3+ letters is a word-prefix MATCH there instead of a
#   substring LIKE over five columns of every open record (count of stale cases with "timeout":
#   ~50 → ~6 ms; help count ~13 → ~2 ms).
# - ix_cases_stale gets id right after last_activity_at, so each stale stream is ordered by
#   (last_activity_at, id) straight from the index: equal activity times page deterministically.
# - The stale count is two index-range counts per severity: cases idle past the cutoff
#   (ix_cases_idle), plus recently active ones that were reopened or wait on us
#   (ix_cases_attention, the few open cases with reopen_count >= 1 or a newer customer update);
#   ~22 → ~5 ms. ix_cases_open_id, ix_hr_open_id and ix_articles_live_id look open records up by
#   id, for the matches of a text filter (stale, help and KB counts, KB page).
# The stale pane ranks each severity separately (four index-ordered streams), so the open cases'
# filter table is split by severity: each stream tests its rows against its own severity's
# matches, and the four together cost one pass over the matches instead of four. The severities
# are config.SEVERITIES as of v6, spelled out so the migration never changes.
CASE_FILTER_SEVERITIES = ("S1", "S2", "S3", "S4")
_CASE_TEXT = ("ref", "subject", "customer", "product", "component")

# filter table -> (record table, its columns, which records it holds, the columns that move a record in or out)
FILTER_TABLES: dict[str, tuple[str, tuple[str, ...], str, tuple[str, ...]]] = {
    "help_requests_filter": ("help_requests", ("ref", "subject", "asker", "product", "component"), OPEN_HELP,
                             ("status",)),
    **{f"cases_filter_{sev.lower()}": ("cases", _CASE_TEXT, f"{OPEN_CASE} AND severity = '{sev}'", ("status", "severity"))
       for sev in CASE_FILTER_SEVERITIES},
    "bugs_filter": ("bugs", ("ref", "title", "product", "component"), OPEN_BUG, ("status",)),
    "articles_filter": ("articles", ("ref", "title", "product", "component"), "state != 'archived'", ("state",)),
}


def case_filter_table(severity: str) -> str:
    return f"cases_filter_{severity.lower()}"


def _on(prefix: str, live: str, names: tuple[str, ...]) -> str:
    for name in names:
        live = live.replace(name, f"{prefix}.{name}")
    return live


def filter_create_statements(fts: str) -> list[str]:
    """Create and fill the filter table `fts`, and the triggers that keep it in step."""
    table, cols, live, moves = FILTER_TABLES[fts]
    c = ", ".join(cols)
    new = ", ".join(f"new.{x}" for x in cols)
    old_live, new_live = _on("old", live, moves), _on("new", live, moves)
    changed = " OR ".join(f"old.{x} IS NOT new.{x}" for x in (*cols, *moves, "id"))
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({c}, tokenize='unicode61 remove_diacritics 2')",
        f"INSERT INTO {fts}(rowid, {c}) SELECT id, {c} FROM {table} WHERE {live}",
        f"""CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} WHEN {new_live} BEGIN
  INSERT INTO {fts}(rowid, {c}) VALUES (new.id, {new});
END""",
        f"""CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} WHEN {old_live} BEGIN
  DELETE FROM {fts} WHERE rowid = old.id;
END""",
        f"""CREATE TRIGGER {fts}_au AFTER UPDATE ON {table} WHEN ({changed}) AND ({old_live} OR {new_live}) BEGIN
  DELETE FROM {fts} WHERE rowid = old.id;
  INSERT INTO {fts}(rowid, {c}) SELECT new.id, {new} WHERE {new_live};
END""",
    ]


def filter_drop_statements(fts: str) -> list[str]:
    """Drop the filter table `fts` and its triggers (a bulk load refills it in one pass
    afterwards: one FTS5 segment, where row-by-row inserts left hundreds)."""
    return [f"DROP TRIGGER IF EXISTS {fts}_{s}" for s in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]


V6 = f"""
DROP INDEX IF EXISTS ix_cases_stale;
CREATE INDEX ix_cases_stale ON cases(severity, last_activity_at, id, reopen_count, last_customer_update_at,
    ref, subject, customer, tier, product, component, version, status, owner, created_at)
    WHERE {OPEN_CASE};
CREATE INDEX ix_cases_idle ON cases(severity, last_activity_at, status, owner, product) WHERE {OPEN_CASE};
CREATE INDEX ix_cases_attention ON cases(severity, last_activity_at, reopen_count, last_customer_update_at,
    status, owner, product) WHERE {OPEN_CASE} AND (reopen_count >= 1 OR last_customer_update_at > last_activity_at);
CREATE INDEX ix_cases_open_id ON cases(id, severity, last_activity_at, reopen_count, last_customer_update_at,
    status, owner, product) WHERE {OPEN_CASE};
CREATE INDEX ix_hr_open_id ON help_requests(id, status, owner, product) WHERE {OPEN_HELP};
CREATE INDEX ix_articles_live_id ON articles(id, state, open_flags, review_due_at, reuse_count, last_reused_at,
    created_at, title, ref, owner, product, component, updated_at, last_reviewed_at) WHERE state != 'archived';
""" + "".join(stmt + ";\n" for fts in FILTER_TABLES for stmt in filter_create_statements(fts))

# drafts: what the user typed and did not send yet (a refused reply, a compose open at quit or
# crash), one per record and action, reopened by the same key on the same record
V7 = """
CREATE TABLE drafts (
    record_type TEXT NOT NULL,
    record_ref TEXT NOT NULL,
    action TEXT NOT NULL,
    body TEXT NOT NULL,
    title TEXT,
    reason TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (record_type, record_ref, action)
);
"""

# index i holds the SQL that moves a database from version i to i+1
MIGRATIONS: list[str] = [V1 + _fts_sql(), V2, V3, V4, V5, V6, V7]
SCHEMA_VERSION = len(MIGRATIONS)
