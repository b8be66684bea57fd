-- Frozen: this file is schema step 6 exactly as released. Never edit it; add a new step.
-- v6: pane filters and counts at a million cases.
-- - Small FTS5 tables ("filter tables") over the columns a pane filter reads, holding only the
--   records a pane can show (open help requests, open cases by severity, open bugs, live
--   articles), kept in step by triggers. A filter word of 3+ letters is a word-prefix MATCH there instead of a
--   substring LIKE over five columns of every open record (count of stale cases with "timeout":
--   ~50 → ~6 ms; help count ~13 → ~2 ms).
-- - ix_cases_stale gets id right after last_activity_at, so each stale stream is ordered by
--   (last_activity_at, id) straight from the index: equal activity times page deterministically.
-- - The stale count is two index-range counts per severity: cases idle past the cutoff
--   (ix_cases_idle), plus recently active ones that were reopened or wait on us
--   (ix_cases_attention, the few open cases with reopen_count >= 1 or a newer customer update);
--   ~22 → ~5 ms. ix_cases_open_id, ix_hr_open_id and ix_articles_live_id look open records up by
--   id, for the matches of a text filter (stale, help and KB counts, KB page).
-- The stale pane ranks each severity separately (four index-ordered streams), so the open cases'
-- filter table is split by severity: each stream tests its rows against its own severity's
-- matches, and the four together cost one pass over the matches instead of four. The severities
-- are config.SEVERITIES as of v6, spelled out so the migration never changes.
DROP INDEX IF EXISTS ix_cases_stale;
CREATE INDEX ix_cases_stale ON cases(severity, last_activity_at, id, reopen_count, last_customer_update_at,
    ref, subject, customer, tier, product, component, version, status, owner, created_at)
    WHERE status IN ('open','pending','on_hold');
CREATE INDEX ix_cases_idle ON cases(severity, last_activity_at, status, owner, product) WHERE status IN ('open','pending','on_hold');
CREATE INDEX ix_cases_attention ON cases(severity, last_activity_at, reopen_count, last_customer_update_at,
    status, owner, product) WHERE status IN ('open','pending','on_hold') AND (reopen_count >= 1 OR last_customer_update_at > last_activity_at);
CREATE INDEX ix_cases_open_id ON cases(id, severity, last_activity_at, reopen_count, last_customer_update_at,
    status, owner, product) WHERE status IN ('open','pending','on_hold');
CREATE INDEX ix_hr_open_id ON help_requests(id, status, owner, product) WHERE status IN ('new','claimed','answered');
CREATE INDEX ix_articles_live_id ON articles(id, state, open_flags, review_due_at, reuse_count, last_reused_at,
    created_at, title, ref, owner, product, component, updated_at, last_reviewed_at) WHERE state != 'archived';
CREATE VIRTUAL TABLE help_requests_filter USING fts5(ref, subject, asker, product, component, tokenize='unicode61 remove_diacritics 2');
INSERT INTO help_requests_filter(rowid, ref, subject, asker, product, component) SELECT id, ref, subject, asker, product, component FROM help_requests WHERE status IN ('new','claimed','answered');
CREATE TRIGGER help_requests_filter_ai AFTER INSERT ON help_requests WHEN new.status IN ('new','claimed','answered') BEGIN
  INSERT INTO help_requests_filter(rowid, ref, subject, asker, product, component) VALUES (new.id, new.ref, new.subject, new.asker, new.product, new.component);
END;
CREATE TRIGGER help_requests_filter_ad AFTER DELETE ON help_requests WHEN old.status IN ('new','claimed','answered') BEGIN
  DELETE FROM help_requests_filter WHERE rowid = old.id;
END;
CREATE TRIGGER help_requests_filter_au AFTER UPDATE ON help_requests WHEN (old.ref IS NOT new.ref OR old.subject IS NOT new.subject OR old.asker IS NOT new.asker OR old.product IS NOT new.product OR old.component IS NOT new.component OR old.status IS NOT new.status OR old.id IS NOT new.id) AND (old.status IN ('new','claimed','answered') OR new.status IN ('new','claimed','answered')) BEGIN
  DELETE FROM help_requests_filter WHERE rowid = old.id;
  INSERT INTO help_requests_filter(rowid, ref, subject, asker, product, component) SELECT new.id, new.ref, new.subject, new.asker, new.product, new.component WHERE new.status IN ('new','claimed','answered');
END;
CREATE VIRTUAL TABLE cases_filter_s1 USING fts5(ref, subject, customer, product, component, tokenize='unicode61 remove_diacritics 2');
INSERT INTO cases_filter_s1(rowid, ref, subject, customer, product, component) SELECT id, ref, subject, customer, product, component FROM cases WHERE status IN ('open','pending','on_hold') AND severity = 'S1';
CREATE TRIGGER cases_filter_s1_ai AFTER INSERT ON cases WHEN new.status IN ('open','pending','on_hold') AND new.severity = 'S1' BEGIN
  INSERT INTO cases_filter_s1(rowid, ref, subject, customer, product, component) VALUES (new.id, new.ref, new.subject, new.customer, new.product, new.component);
END;
CREATE TRIGGER cases_filter_s1_ad AFTER DELETE ON cases WHEN old.status IN ('open','pending','on_hold') AND old.severity = 'S1' BEGIN
  DELETE FROM cases_filter_s1 WHERE rowid = old.id;
END;
CREATE TRIGGER cases_filter_s1_au AFTER UPDATE ON cases WHEN (old.ref IS NOT new.ref OR old.subject IS NOT new.subject OR old.customer IS NOT new.customer OR old.product IS NOT new.product OR old.component IS NOT new.component OR old.status IS NOT new.status OR old.severity IS NOT new.severity OR old.id IS NOT new.id) AND (old.status IN ('open','pending','on_hold') AND old.severity = 'S1' OR new.status IN ('open','pending','on_hold') AND new.severity = 'S1') BEGIN
  DELETE FROM cases_filter_s1 WHERE rowid = old.id;
  INSERT INTO cases_filter_s1(rowid, ref, subject, customer, product, component) SELECT new.id, new.ref, new.subject, new.customer, new.product, new.component WHERE new.status IN ('open','pending','on_hold') AND new.severity = 'S1';
END;
CREATE VIRTUAL TABLE cases_filter_s2 USING fts5(ref, subject, customer, product, component, tokenize='unicode61 remove_diacritics 2');
INSERT INTO cases_filter_s2(rowid, ref, subject, customer, product, component) SELECT id, ref, subject, customer, product, component FROM cases WHERE status IN ('open','pending','on_hold') AND severity = 'S2';
CREATE TRIGGER cases_filter_s2_ai AFTER INSERT ON cases WHEN new.status IN ('open','pending','on_hold') AND new.severity = 'S2' BEGIN
  INSERT INTO cases_filter_s2(rowid, ref, subject, customer, product, component) VALUES (new.id, new.ref, new.subject, new.customer, new.product, new.component);
END;
CREATE TRIGGER cases_filter_s2_ad AFTER DELETE ON cases WHEN old.status IN ('open','pending','on_hold') AND old.severity = 'S2' BEGIN
  DELETE FROM cases_filter_s2 WHERE rowid = old.id;
END;
CREATE TRIGGER cases_filter_s2_au AFTER UPDATE ON cases WHEN (old.ref IS NOT new.ref OR old.subject IS NOT new.subject OR old.customer IS NOT new.customer OR old.product IS NOT new.product OR old.component IS NOT new.component OR old.status IS NOT new.status OR old.severity IS NOT new.severity OR old.id IS NOT new.id) AND (old.status IN ('open','pending','on_hold') AND old.severity = 'S2' OR new.status IN ('open','pending','on_hold') AND new.severity = 'S2') BEGIN
  DELETE FROM cases_filter_s2 WHERE rowid = old.id;
  INSERT INTO cases_filter_s2(rowid, ref, subject, customer, product, component) SELECT new.id, new.ref, new.subject, new.customer, new.product, new.component WHERE new.status IN ('open','pending','on_hold') AND new.severity = 'S2';
END;
CREATE VIRTUAL TABLE cases_filter_s3 USING fts5(ref, subject, customer, product, component, tokenize='unicode61 remove_diacritics 2');
INSERT INTO cases_filter_s3(rowid, ref, subject, customer, product, component) SELECT id, ref, subject, customer, product, component FROM cases WHERE status IN ('open','pending','on_hold') AND severity = 'S3';
CREATE TRIGGER cases_filter_s3_ai AFTER INSERT ON cases WHEN new.status IN ('open','pending','on_hold') AND new.severity = 'S3' BEGIN
  INSERT INTO cases_filter_s3(rowid, ref, subject, customer, product, component) VALUES (new.id, new.ref, new.subject, new.customer, new.product, new.component);
END;
CREATE TRIGGER cases_filter_s3_ad AFTER DELETE ON cases WHEN old.status IN ('open','pending','on_hold') AND old.severity = 'S3' BEGIN
  DELETE FROM cases_filter_s3 WHERE rowid = old.id;
END;
CREATE TRIGGER cases_filter_s3_au AFTER UPDATE ON cases WHEN (old.ref IS NOT new.ref OR old.subject IS NOT new.subject OR old.customer IS NOT new.customer OR old.product IS NOT new.product OR old.component IS NOT new.component OR old.status IS NOT new.status OR old.severity IS NOT new.severity OR old.id IS NOT new.id) AND (old.status IN ('open','pending','on_hold') AND old.severity = 'S3' OR new.status IN ('open','pending','on_hold') AND new.severity = 'S3') BEGIN
  DELETE FROM cases_filter_s3 WHERE rowid = old.id;
  INSERT INTO cases_filter_s3(rowid, ref, subject, customer, product, component) SELECT new.id, new.ref, new.subject, new.customer, new.product, new.component WHERE new.status IN ('open','pending','on_hold') AND new.severity = 'S3';
END;
CREATE VIRTUAL TABLE cases_filter_s4 USING fts5(ref, subject, customer, product, component, tokenize='unicode61 remove_diacritics 2');
INSERT INTO cases_filter_s4(rowid, ref, subject, customer, product, component) SELECT id, ref, subject, customer, product, component FROM cases WHERE status IN ('open','pending','on_hold') AND severity = 'S4';
CREATE TRIGGER cases_filter_s4_ai AFTER INSERT ON cases WHEN new.status IN ('open','pending','on_hold') AND new.severity = 'S4' BEGIN
  INSERT INTO cases_filter_s4(rowid, ref, subject, customer, product, component) VALUES (new.id, new.ref, new.subject, new.customer, new.product, new.component);
END;
CREATE TRIGGER cases_filter_s4_ad AFTER DELETE ON cases WHEN old.status IN ('open','pending','on_hold') AND old.severity = 'S4' BEGIN
  DELETE FROM cases_filter_s4 WHERE rowid = old.id;
END;
CREATE TRIGGER cases_filter_s4_au AFTER UPDATE ON cases WHEN (old.ref IS NOT new.ref OR old.subject IS NOT new.subject OR old.customer IS NOT new.customer OR old.product IS NOT new.product OR old.component IS NOT new.component OR old.status IS NOT new.status OR old.severity IS NOT new.severity OR old.id IS NOT new.id) AND (old.status IN ('open','pending','on_hold') AND old.severity = 'S4' OR new.status IN ('open','pending','on_hold') AND new.severity = 'S4') BEGIN
  DELETE FROM cases_filter_s4 WHERE rowid = old.id;
  INSERT INTO cases_filter_s4(rowid, ref, subject, customer, product, component) SELECT new.id, new.ref, new.subject, new.customer, new.product, new.component WHERE new.status IN ('open','pending','on_hold') AND new.severity = 'S4';
END;
CREATE VIRTUAL TABLE bugs_filter USING fts5(ref, title, product, component, tokenize='unicode61 remove_diacritics 2');
INSERT INTO bugs_filter(rowid, ref, title, product, component) SELECT id, ref, title, product, component FROM bugs WHERE status IN ('open','in_progress');
CREATE TRIGGER bugs_filter_ai AFTER INSERT ON bugs WHEN new.status IN ('open','in_progress') BEGIN
  INSERT INTO bugs_filter(rowid, ref, title, product, component) VALUES (new.id, new.ref, new.title, new.product, new.component);
END;
CREATE TRIGGER bugs_filter_ad AFTER DELETE ON bugs WHEN old.status IN ('open','in_progress') BEGIN
  DELETE FROM bugs_filter WHERE rowid = old.id;
END;
CREATE TRIGGER bugs_filter_au AFTER UPDATE ON bugs WHEN (old.ref IS NOT new.ref OR old.title IS NOT new.title OR old.product IS NOT new.product OR old.component IS NOT new.component OR old.status IS NOT new.status OR old.id IS NOT new.id) AND (old.status IN ('open','in_progress') OR new.status IN ('open','in_progress')) BEGIN
  DELETE FROM bugs_filter WHERE rowid = old.id;
  INSERT INTO bugs_filter(rowid, ref, title, product, component) SELECT new.id, new.ref, new.title, new.product, new.component WHERE new.status IN ('open','in_progress');
END;
CREATE VIRTUAL TABLE articles_filter USING fts5(ref, title, product, component, tokenize='unicode61 remove_diacritics 2');
INSERT INTO articles_filter(rowid, ref, title, product, component) SELECT id, ref, title, product, component FROM articles WHERE state != 'archived';
CREATE TRIGGER articles_filter_ai AFTER INSERT ON articles WHEN new.state != 'archived' BEGIN
  INSERT INTO articles_filter(rowid, ref, title, product, component) VALUES (new.id, new.ref, new.title, new.product, new.component);
END;
CREATE TRIGGER articles_filter_ad AFTER DELETE ON articles WHEN old.state != 'archived' BEGIN
  DELETE FROM articles_filter WHERE rowid = old.id;
END;
CREATE TRIGGER articles_filter_au AFTER UPDATE ON articles WHEN (old.ref IS NOT new.ref OR old.title IS NOT new.title OR old.product IS NOT new.product OR old.component IS NOT new.component OR old.state IS NOT new.state OR old.id IS NOT new.id) AND (old.state != 'archived' OR new.state != 'archived') BEGIN
  DELETE FROM articles_filter WHERE rowid = old.id;
  INSERT INTO articles_filter(rowid, ref, title, product, component) SELECT new.id, new.ref, new.title, new.product, new.component WHERE new.state != 'archived';
END;
