-- Frozen: this file is schema step 9 exactly as released. Never edit it; add a new step.
-- v9 (Insights at a million cases): rollup tables kept exact by triggers in the same transaction as
-- every write, so the Insights pane and `backline report` sum a few thousand rows per window
-- instead of re-reading every case and help request.
-- - ins_case_day: cases per created day, product, component, version (drivers, trend).
-- - ins_hr_day: help requests per created day, priority, product, component, with how many were
--   responded to, met or missed their OLA, are unresponded, resolved, answered and documented
--   (team counts, knowledge gaps by component). "Breached" also counts unresponded requests whose
--   OLA passed before the window's end: that part depends on the moment asked, so it is read live
--   through ix_hr_unresponded_due (few rows: only OLAs still in the future are subtracted).
-- - ins_hr_asker: per day, asker and product, with answers that an older article already held.
-- - ins_hr_subject: undocumented answered requests per day, product, component and subject.
-- - ins_hr_hist + ins_hr_time: exact medians of time to first response and to resolution. The
--   histogram (per day and priority, buckets by digit count and leading digit, so monotonic in the
--   value) finds the bucket holding the middle rank; ins_hr_time (one row per request and metric,
--   ordered by bucket and creation time) gives the exact value inside it.
-- The same step gives the outbox its retry schedule: next_attempt_at (an op in error is tried again
-- from then on; NULL on an op in error: it failed the same way too often and waits for the user)
-- and failures (how many times in a row it failed the same way). Ops already in error are due now.
-- Deleting an article sets its requests' article_id to NULL in a trigger before the delete (what
-- the foreign key's ON DELETE SET NULL would do), so the requests' triggers still see the article
-- they leave.
-- The statements between "-- rollups: fill" and "-- rollups: end fill" rebuild every rollup from
-- the record tables; storage/rollups.py runs them after bulk loads and config changes.
CREATE TABLE ins_case_day (day TEXT NOT NULL, product TEXT NOT NULL, component TEXT NOT NULL, version TEXT NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (day, product, component, version)) WITHOUT ROWID;
CREATE TABLE ins_hr_day (day TEXT NOT NULL, priority TEXT NOT NULL, product TEXT NOT NULL, component TEXT NOT NULL,
    requests INTEGER NOT NULL, responded INTEGER NOT NULL, met INTEGER NOT NULL, late INTEGER NOT NULL,
    unresponded INTEGER NOT NULL, resolved INTEGER NOT NULL, answered INTEGER NOT NULL, documented INTEGER NOT NULL,
    PRIMARY KEY (day, priority, product, component)) WITHOUT ROWID;
CREATE TABLE ins_hr_asker (day TEXT NOT NULL, asker TEXT NOT NULL, product TEXT NOT NULL, requests INTEGER NOT NULL,
    already_documented INTEGER NOT NULL, PRIMARY KEY (asker, product, day)) WITHOUT ROWID;
CREATE TABLE ins_hr_subject (day TEXT NOT NULL, product TEXT NOT NULL, component TEXT NOT NULL, subject TEXT NOT NULL,
    n INTEGER NOT NULL, last_at TEXT, ref TEXT, PRIMARY KEY (product, component, subject, day)) WITHOUT ROWID;
CREATE TABLE ins_hr_time (metric TEXT NOT NULL, bucket INTEGER NOT NULL, created_at TEXT NOT NULL, id INTEGER NOT NULL,
    priority TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (metric, bucket, created_at, id)) WITHOUT ROWID;
CREATE TABLE ins_hr_hist (metric TEXT NOT NULL, day TEXT NOT NULL, priority TEXT NOT NULL, bucket INTEGER NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (metric, day, priority, bucket)) WITHOUT ROWID;
CREATE INDEX ix_hr_unresponded_due ON help_requests(ola_due_at, created_at, priority) WHERE first_response_at IS NULL;
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT;
ALTER TABLE outbox ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET failures = 1, next_attempt_at = updated_at WHERE state = 'error';
-- rollups: fill
DELETE FROM ins_case_day;
DELETE FROM ins_hr_day;
DELETE FROM ins_hr_asker;
DELETE FROM ins_hr_subject;
DELETE FROM ins_hr_time;
DELETE FROM ins_hr_hist;
INSERT INTO ins_case_day SELECT substr(created_at, 1, 10), product, component, version, COUNT(*) FROM cases GROUP BY 1, 2, 3, 4;
INSERT INTO ins_hr_day SELECT substr(created_at, 1, 10), priority, product, component, COUNT(*),
    SUM(first_response_at IS NOT NULL), SUM(first_response_at IS NOT NULL AND first_response_at <= ola_due_at),
    SUM(first_response_at IS NOT NULL AND first_response_at > ola_due_at), SUM(first_response_at IS NULL),
    SUM(resolved_at IS NOT NULL), SUM(status IN ('answered','resolved')), SUM(status IN ('answered','resolved') AND article_id IS NOT NULL)
  FROM help_requests GROUP BY 1, 2, 3, 4;
INSERT INTO ins_hr_asker SELECT substr(h.created_at, 1, 10), h.asker, h.product, COUNT(*), SUM(IFNULL(a.created_at < h.created_at, 0))
  FROM help_requests h LEFT JOIN articles a ON a.id = h.article_id GROUP BY 1, 2, 3;
INSERT INTO ins_hr_subject SELECT substr(created_at, 1, 10), product, component, subject, COUNT(*), MAX(created_at), MAX(ref)
  FROM help_requests WHERE status IN ('answered','resolved') AND article_id IS NULL GROUP BY 1, 2, 3, 4;
INSERT INTO ins_hr_time SELECT metric, CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END, created_at, id, priority, v FROM (
    SELECT 'frt' AS metric, CAST(strftime('%s', first_response_at) AS INTEGER) - CAST(strftime('%s', created_at) AS INTEGER) AS v, created_at, id, priority
      FROM help_requests WHERE first_response_at IS NOT NULL
    UNION ALL SELECT 'ttr', CAST(strftime('%s', resolved_at) AS INTEGER) - CAST(strftime('%s', created_at) AS INTEGER), created_at, id, priority
      FROM help_requests WHERE resolved_at IS NOT NULL) WHERE v IS NOT NULL ORDER BY 1, 2, 3, 4;
INSERT INTO ins_hr_hist SELECT metric, substr(created_at, 1, 10), priority, bucket, COUNT(*) FROM ins_hr_time GROUP BY 1, 2, 3, 4;
-- rollups: end fill
-- rollups: triggers
CREATE TRIGGER ins_cases_ai AFTER INSERT ON cases BEGIN
  INSERT INTO ins_case_day VALUES (substr(new.created_at, 1, 10), new.product, new.component, new.version, 1)
    ON CONFLICT (day, product, component, version) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ins_cases_ad AFTER DELETE ON cases BEGIN
  UPDATE ins_case_day SET n = n - 1 WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND version = old.version;
  DELETE FROM ins_case_day WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND version = old.version AND n = 0;
END;
CREATE TRIGGER ins_cases_au AFTER UPDATE OF created_at, product, component, version ON cases
  WHEN old.created_at IS NOT new.created_at OR old.product IS NOT new.product OR old.component IS NOT new.component
    OR old.version IS NOT new.version BEGIN
  UPDATE ins_case_day SET n = n - 1 WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND version = old.version;
  DELETE FROM ins_case_day WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND version = old.version AND n = 0;
  INSERT INTO ins_case_day VALUES (substr(new.created_at, 1, 10), new.product, new.component, new.version, 1)
    ON CONFLICT (day, product, component, version) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ins_hr_ai AFTER INSERT ON help_requests BEGIN
  INSERT INTO ins_hr_day VALUES (substr(new.created_at, 1, 10), new.priority, new.product, new.component, 1,
    new.first_response_at IS NOT NULL, (new.first_response_at IS NOT NULL AND new.first_response_at <= new.ola_due_at),
    (new.first_response_at IS NOT NULL AND new.first_response_at > new.ola_due_at), new.first_response_at IS NULL,
    new.resolved_at IS NOT NULL, new.status IN ('answered','resolved'), (new.status IN ('answered','resolved') AND new.article_id IS NOT NULL))
    ON CONFLICT (day, priority, product, component) DO UPDATE SET requests = requests + 1, responded = responded + excluded.responded,
    met = met + excluded.met, late = late + excluded.late, unresponded = unresponded + excluded.unresponded,
    resolved = resolved + excluded.resolved, answered = answered + excluded.answered, documented = documented + excluded.documented;
  INSERT INTO ins_hr_asker VALUES (substr(new.created_at, 1, 10), new.asker, new.product, 1,
    IFNULL((SELECT a.created_at < new.created_at FROM articles a WHERE a.id = new.article_id), 0))
    ON CONFLICT (asker, product, day) DO UPDATE SET requests = requests + 1,
    already_documented = already_documented + excluded.already_documented;
  INSERT INTO ins_hr_subject SELECT substr(new.created_at, 1, 10), new.product, new.component, new.subject, 1, new.created_at, new.ref
    WHERE new.status IN ('answered','resolved') AND new.article_id IS NULL
    ON CONFLICT (product, component, subject, day) DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at),
    ref = max(ref, excluded.ref);
  INSERT INTO ins_hr_time SELECT metric, CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END, new.created_at, new.id, new.priority, v FROM (SELECT 'frt' AS metric, CAST(strftime('%s', new.first_response_at) AS INTEGER) - CAST(strftime('%s', new.created_at) AS INTEGER) AS v WHERE new.first_response_at IS NOT NULL UNION ALL SELECT 'ttr', CAST(strftime('%s', new.resolved_at) AS INTEGER) - CAST(strftime('%s', new.created_at) AS INTEGER) WHERE new.resolved_at IS NOT NULL) WHERE v IS NOT NULL;
  INSERT INTO ins_hr_hist SELECT metric, substr(new.created_at, 1, 10), new.priority, CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END, 1 FROM (SELECT 'frt' AS metric, CAST(strftime('%s', new.first_response_at) AS INTEGER) - CAST(strftime('%s', new.created_at) AS INTEGER) AS v WHERE new.first_response_at IS NOT NULL UNION ALL SELECT 'ttr', CAST(strftime('%s', new.resolved_at) AS INTEGER) - CAST(strftime('%s', new.created_at) AS INTEGER) WHERE new.resolved_at IS NOT NULL) WHERE v IS NOT NULL
    ON CONFLICT (metric, day, priority, bucket) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ins_hr_ad AFTER DELETE ON help_requests BEGIN
  UPDATE ins_hr_day SET requests = requests - 1, responded = responded - (old.first_response_at IS NOT NULL),
    met = met - (old.first_response_at IS NOT NULL AND old.first_response_at <= old.ola_due_at),
    late = late - (old.first_response_at IS NOT NULL AND old.first_response_at > old.ola_due_at),
    unresponded = unresponded - (old.first_response_at IS NULL), resolved = resolved - (old.resolved_at IS NOT NULL),
    answered = answered - (old.status IN ('answered','resolved')), documented = documented - (old.status IN ('answered','resolved') AND old.article_id IS NOT NULL)
    WHERE day = substr(old.created_at, 1, 10) AND priority = old.priority AND product = old.product AND component = old.component;
  DELETE FROM ins_hr_day WHERE day = substr(old.created_at, 1, 10) AND priority = old.priority AND product = old.product AND component = old.component AND requests = 0;
  UPDATE ins_hr_asker SET requests = requests - 1,
    already_documented = already_documented - IFNULL((SELECT a.created_at < old.created_at FROM articles a WHERE a.id = old.article_id), 0)
    WHERE day = substr(old.created_at, 1, 10) AND asker = old.asker AND product = old.product;
  DELETE FROM ins_hr_asker WHERE day = substr(old.created_at, 1, 10) AND asker = old.asker AND product = old.product AND requests = 0;
  UPDATE ins_hr_subject SET n = n - 1 WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND subject = old.subject AND old.status IN ('answered','resolved') AND old.article_id IS NULL;
  DELETE FROM ins_hr_subject WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND subject = old.subject AND n = 0;
  UPDATE ins_hr_subject SET (last_at, ref) = (SELECT MAX(h.created_at), MAX(h.ref) FROM help_requests h
      WHERE h.created_at >= substr(old.created_at, 1, 10) || 'T' AND h.created_at < substr(old.created_at, 1, 10) || 'U' AND h.product = old.product
      AND h.component = old.component AND h.subject = old.subject AND h.status IN ('answered','resolved') AND h.article_id IS NULL)
    WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND subject = old.subject AND old.status IN ('answered','resolved') AND old.article_id IS NULL AND (last_at = old.created_at OR ref = old.ref);
  DELETE FROM ins_hr_time WHERE (metric, bucket, created_at, id) IN
    (SELECT metric, CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END, old.created_at, old.id FROM (SELECT 'frt' AS metric, CAST(strftime('%s', old.first_response_at) AS INTEGER) - CAST(strftime('%s', old.created_at) AS INTEGER) AS v WHERE old.first_response_at IS NOT NULL UNION ALL SELECT 'ttr', CAST(strftime('%s', old.resolved_at) AS INTEGER) - CAST(strftime('%s', old.created_at) AS INTEGER) WHERE old.resolved_at IS NOT NULL) WHERE v IS NOT NULL);
  UPDATE ins_hr_hist SET n = n - 1 WHERE day = substr(old.created_at, 1, 10) AND priority = old.priority AND (metric, bucket) IN
    (SELECT metric, CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END FROM (SELECT 'frt' AS metric, CAST(strftime('%s', old.first_response_at) AS INTEGER) - CAST(strftime('%s', old.created_at) AS INTEGER) AS v WHERE old.first_response_at IS NOT NULL UNION ALL SELECT 'ttr', CAST(strftime('%s', old.resolved_at) AS INTEGER) - CAST(strftime('%s', old.created_at) AS INTEGER) WHERE old.resolved_at IS NOT NULL) WHERE v IS NOT NULL);
  DELETE FROM ins_hr_hist WHERE day = substr(old.created_at, 1, 10) AND priority = old.priority AND n = 0;
END;
CREATE TRIGGER ins_hr_au AFTER UPDATE OF id, ref, subject, asker, product, component, priority, status, created_at, first_response_at, resolved_at, ola_due_at, article_id ON help_requests
  WHEN old.id IS NOT new.id OR old.ref IS NOT new.ref OR old.subject IS NOT new.subject OR old.asker IS NOT new.asker OR old.product IS NOT new.product OR old.component IS NOT new.component OR old.priority IS NOT new.priority OR old.status IS NOT new.status OR old.created_at IS NOT new.created_at OR old.first_response_at IS NOT new.first_response_at OR old.resolved_at IS NOT new.resolved_at OR old.ola_due_at IS NOT new.ola_due_at OR old.article_id IS NOT new.article_id BEGIN
  UPDATE ins_hr_day SET requests = requests - 1, responded = responded - (old.first_response_at IS NOT NULL),
    met = met - (old.first_response_at IS NOT NULL AND old.first_response_at <= old.ola_due_at),
    late = late - (old.first_response_at IS NOT NULL AND old.first_response_at > old.ola_due_at),
    unresponded = unresponded - (old.first_response_at IS NULL), resolved = resolved - (old.resolved_at IS NOT NULL),
    answered = answered - (old.status IN ('answered','resolved')), documented = documented - (old.status IN ('answered','resolved') AND old.article_id IS NOT NULL)
    WHERE day = substr(old.created_at, 1, 10) AND priority = old.priority AND product = old.product AND component = old.component;
  DELETE FROM ins_hr_day WHERE day = substr(old.created_at, 1, 10) AND priority = old.priority AND product = old.product AND component = old.component AND requests = 0;
  UPDATE ins_hr_asker SET requests = requests - 1,
    already_documented = already_documented - IFNULL((SELECT a.created_at < old.created_at FROM articles a WHERE a.id = old.article_id), 0)
    WHERE day = substr(old.created_at, 1, 10) AND asker = old.asker AND product = old.product;
  DELETE FROM ins_hr_asker WHERE day = substr(old.created_at, 1, 10) AND asker = old.asker AND product = old.product AND requests = 0;
  UPDATE ins_hr_subject SET n = n - 1 WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND subject = old.subject AND old.status IN ('answered','resolved') AND old.article_id IS NULL;
  DELETE FROM ins_hr_subject WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND subject = old.subject AND n = 0;
  UPDATE ins_hr_subject SET (last_at, ref) = (SELECT MAX(h.created_at), MAX(h.ref) FROM help_requests h
      WHERE h.created_at >= substr(old.created_at, 1, 10) || 'T' AND h.created_at < substr(old.created_at, 1, 10) || 'U' AND h.product = old.product
      AND h.component = old.component AND h.subject = old.subject AND h.status IN ('answered','resolved') AND h.article_id IS NULL)
    WHERE day = substr(old.created_at, 1, 10) AND product = old.product AND component = old.component AND subject = old.subject AND old.status IN ('answered','resolved') AND old.article_id IS NULL AND (last_at = old.created_at OR ref = old.ref);
  DELETE FROM ins_hr_time WHERE (metric, bucket, created_at, id) IN
    (SELECT metric, CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END, old.created_at, old.id FROM (SELECT 'frt' AS metric, CAST(strftime('%s', old.first_response_at) AS INTEGER) - CAST(strftime('%s', old.created_at) AS INTEGER) AS v WHERE old.first_response_at IS NOT NULL UNION ALL SELECT 'ttr', CAST(strftime('%s', old.resolved_at) AS INTEGER) - CAST(strftime('%s', old.created_at) AS INTEGER) WHERE old.resolved_at IS NOT NULL) WHERE v IS NOT NULL);
  UPDATE ins_hr_hist SET n = n - 1 WHERE day = substr(old.created_at, 1, 10) AND priority = old.priority AND (metric, bucket) IN
    (SELECT metric, CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END FROM (SELECT 'frt' AS metric, CAST(strftime('%s', old.first_response_at) AS INTEGER) - CAST(strftime('%s', old.created_at) AS INTEGER) AS v WHERE old.first_response_at IS NOT NULL UNION ALL SELECT 'ttr', CAST(strftime('%s', old.resolved_at) AS INTEGER) - CAST(strftime('%s', old.created_at) AS INTEGER) WHERE old.resolved_at IS NOT NULL) WHERE v IS NOT NULL);
  DELETE FROM ins_hr_hist WHERE day = substr(old.created_at, 1, 10) AND priority = old.priority AND n = 0;
  INSERT INTO ins_hr_day VALUES (substr(new.created_at, 1, 10), new.priority, new.product, new.component, 1,
    new.first_response_at IS NOT NULL, (new.first_response_at IS NOT NULL AND new.first_response_at <= new.ola_due_at),
    (new.first_response_at IS NOT NULL AND new.first_response_at > new.ola_due_at), new.first_response_at IS NULL,
    new.resolved_at IS NOT NULL, new.status IN ('answered','resolved'), (new.status IN ('answered','resolved') AND new.article_id IS NOT NULL))
    ON CONFLICT (day, priority, product, component) DO UPDATE SET requests = requests + 1, responded = responded + excluded.responded,
    met = met + excluded.met, late = late + excluded.late, unresponded = unresponded + excluded.unresponded,
    resolved = resolved + excluded.resolved, answered = answered + excluded.answered, documented = documented + excluded.documented;
  INSERT INTO ins_hr_asker VALUES (substr(new.created_at, 1, 10), new.asker, new.product, 1,
    IFNULL((SELECT a.created_at < new.created_at FROM articles a WHERE a.id = new.article_id), 0))
    ON CONFLICT (asker, product, day) DO UPDATE SET requests = requests + 1,
    already_documented = already_documented + excluded.already_documented;
  INSERT INTO ins_hr_subject SELECT substr(new.created_at, 1, 10), new.product, new.component, new.subject, 1, new.created_at, new.ref
    WHERE new.status IN ('answered','resolved') AND new.article_id IS NULL
    ON CONFLICT (product, component, subject, day) DO UPDATE SET n = n + 1, last_at = max(last_at, excluded.last_at),
    ref = max(ref, excluded.ref);
  INSERT INTO ins_hr_time SELECT metric, CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END, new.created_at, new.id, new.priority, v FROM (SELECT 'frt' AS metric, CAST(strftime('%s', new.first_response_at) AS INTEGER) - CAST(strftime('%s', new.created_at) AS INTEGER) AS v WHERE new.first_response_at IS NOT NULL UNION ALL SELECT 'ttr', CAST(strftime('%s', new.resolved_at) AS INTEGER) - CAST(strftime('%s', new.created_at) AS INTEGER) WHERE new.resolved_at IS NOT NULL) WHERE v IS NOT NULL;
  INSERT INTO ins_hr_hist SELECT metric, substr(new.created_at, 1, 10), new.priority, CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END, 1 FROM (SELECT 'frt' AS metric, CAST(strftime('%s', new.first_response_at) AS INTEGER) - CAST(strftime('%s', new.created_at) AS INTEGER) AS v WHERE new.first_response_at IS NOT NULL UNION ALL SELECT 'ttr', CAST(strftime('%s', new.resolved_at) AS INTEGER) - CAST(strftime('%s', new.created_at) AS INTEGER) WHERE new.resolved_at IS NOT NULL) WHERE v IS NOT NULL
    ON CONFLICT (metric, day, priority, bucket) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ins_articles_au AFTER UPDATE OF created_at ON articles WHEN old.created_at IS NOT new.created_at BEGIN
  UPDATE ins_hr_asker SET already_documented = already_documented + (SELECT SUM((new.created_at < h.created_at) - (old.created_at < h.created_at)) FROM help_requests h
      WHERE h.article_id = new.id AND h.created_at >= ins_hr_asker.day || 'T' AND h.created_at < ins_hr_asker.day || 'U'
      AND h.asker = ins_hr_asker.asker AND h.product = ins_hr_asker.product)
    WHERE (day, asker, product) IN (SELECT substr(created_at, 1, 10), asker, product FROM help_requests WHERE article_id = new.id);
END;
CREATE TRIGGER ins_articles_bd BEFORE DELETE ON articles BEGIN
  UPDATE help_requests SET article_id = NULL WHERE article_id = old.id;
END;
