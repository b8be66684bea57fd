-- Frozen: this file is schema step 11 exactly as released. Never edit it; add a new step.
-- v11 (first sync, open work first): the first sync of a kind pulls its open records with their
-- current fields only, then every record with its thread history as a backfill.
-- - history_pending: a record written without its thread history, until a batch holding it lands
--   (the detail view fetches it first when opened).
-- - history_backfill: a kind whose history backfill runs, with how many records of it the
--   upstream held when it began (what "history: 42% synced" counts against) and whether it has
--   ended; a source's rows go once every kind of it has ended.
CREATE TABLE history_pending (source TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL,
    PRIMARY KEY (kind, ref)) WITHOUT ROWID;
CREATE INDEX ix_history_pending_source ON history_pending(source, kind);
CREATE TABLE history_backfill (source TEXT NOT NULL, kind TEXT NOT NULL, total INTEGER,
    done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (source, kind)) WITHOUT ROWID;
