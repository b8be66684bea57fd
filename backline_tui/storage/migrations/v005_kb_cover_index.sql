-- Frozen: this file is schema step 5 exactly as released. Never edit it; add a new step.
-- v5: the KB pane with a text filter, and its counts, read one index of the live articles that
-- holds every column they filter, sort and show (at a million cases: page 23 → 10 ms, count
-- 20 → 7 ms), where they fetched each article's row, body and all, in index order.
CREATE INDEX ix_articles_cover ON articles(state, open_flags, review_due_at, reuse_count, last_reused_at,
    created_at, title, ref, owner, product, component, updated_at, last_reviewed_at) WHERE state != 'archived';
