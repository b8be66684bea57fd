-- Frozen: this file is schema step 1 exactly as released. Never edit it; add a new step.
-- v1: the records, their links and messages, the outbox, sync cursors and log, and one
-- external-content FTS5 table per record table kept in step by triggers.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL DEFAULT 'local',
    remote_id TEXT,
    remote_version TEXT,
    synced_at TEXT,
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
CREATE INDEX ix_cases_stale ON cases(severity, last_activity_at) WHERE status IN ('open','pending','on_hold');
CREATE INDEX ix_cases_product_created ON cases(product, created_at);
CREATE INDEX ix_cases_created ON cases(created_at);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL DEFAULT 'local',
    remote_id TEXT,
    remote_version TEXT,
    synced_at TEXT,
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

CREATE TABLE help_requests (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL DEFAULT 'local',
    remote_id TEXT,
    remote_version TEXT,
    synced_at TEXT,
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
    WHERE status IN ('new','claimed','answered');
CREATE INDEX ix_hr_case ON help_requests(case_id);
CREATE INDEX ix_hr_article ON help_requests(article_id);
CREATE INDEX ix_hr_created ON help_requests(created_at);

CREATE TABLE bugs (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL DEFAULT 'local',
    remote_id TEXT,
    remote_version TEXT,
    synced_at TEXT,
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
CREATE INDEX ix_bugs_impact ON bugs(impact_score DESC, created_at) WHERE status IN ('open','in_progress');

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
    payload TEXT NOT NULL DEFAULT '{}',
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
CREATE VIRTUAL TABLE help_requests_fts USING fts5(subject, body, content='help_requests', content_rowid='id', tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER help_requests_fts_ai AFTER INSERT ON help_requests BEGIN
  INSERT INTO help_requests_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;
CREATE TRIGGER help_requests_fts_ad AFTER DELETE ON help_requests BEGIN
  INSERT INTO help_requests_fts(help_requests_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
END;
CREATE TRIGGER help_requests_fts_au AFTER UPDATE OF subject, body ON help_requests BEGIN
  INSERT INTO help_requests_fts(help_requests_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
  INSERT INTO help_requests_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;

CREATE VIRTUAL TABLE cases_fts USING fts5(subject, body, content='cases', content_rowid='id', tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER cases_fts_ai AFTER INSERT ON cases BEGIN
  INSERT INTO cases_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;
CREATE TRIGGER cases_fts_ad AFTER DELETE ON cases BEGIN
  INSERT INTO cases_fts(cases_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
END;
CREATE TRIGGER cases_fts_au AFTER UPDATE OF subject, body ON cases BEGIN
  INSERT INTO cases_fts(cases_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
  INSERT INTO cases_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;

CREATE VIRTUAL TABLE bugs_fts USING fts5(title, body, content='bugs', content_rowid='id', tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER bugs_fts_ai AFTER INSERT ON bugs BEGIN
  INSERT INTO bugs_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER bugs_fts_ad AFTER DELETE ON bugs BEGIN
  INSERT INTO bugs_fts(bugs_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER bugs_fts_au AFTER UPDATE OF title, body ON bugs BEGIN
  INSERT INTO bugs_fts(bugs_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
  INSERT INTO bugs_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', content_rowid='id', tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
  INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
  INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, body ON articles BEGIN
  INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
  INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
