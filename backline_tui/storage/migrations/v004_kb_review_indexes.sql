-- Frozen: this file is schema step 4 exactly as released. Never edit it; add a new step.
-- v4: one small index per stream of the KB review pane (flagged, review overdue, drafts, archive
-- candidates), so its first page walks four short index ranges instead of sorting every article.
-- They replace ix_articles_review, which the planner preferred to them and then sorted.
DROP INDEX IF EXISTS ix_articles_review;
CREATE INDEX ix_articles_flagged ON articles(reuse_count DESC, id) WHERE open_flags > 0 AND state != 'archived';
CREATE INDEX ix_articles_due ON articles(review_due_at) WHERE state != 'archived';
CREATE INDEX ix_articles_drafts ON articles(created_at) WHERE state IN ('wip','not_validated');
CREATE INDEX ix_articles_unused ON articles(COALESCE(last_reused_at, created_at)) WHERE state = 'validated';
