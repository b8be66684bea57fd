-- Frozen: this file is schema step 8 exactly as released. Never edit it; add a new step.
-- v8: drafts.
-- drafts: what the user typed and did not send yet (a refused reply, a compose open at quit or
-- crash), one per record and action, reopened by the same key on the same record
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
