-- Frozen: this file is schema step 12 exactly as released. Never edit it; add a new step.
-- v12 (Insights at a million cases, weekly): three of the daily rollups summed per week, so a
-- window of 26 weeks sums about a seventh of the rows. "day" holds the Monday (UTC) the week starts.
-- - ins_case_week: ins_case_day per week (drivers, trend).
-- - ins_hr_week: ins_hr_day per week (team counts, knowledge gaps by component).
-- - ins_hr_hist_week: ins_hr_hist per week (the histograms that find each median's bucket).
-- A window that starts on a Monday at midnight (the default window) reads its whole weeks from
-- these, the days of its last week from the daily rollups and the day it ends in live.
-- - ix_hr_time_value: ins_hr_time in value order within a metric and bucket, so the middle value
--   of a whole window (overall, per priority) is read by walking the index, not by sorting the
--   bucket (a week's is still read in creation order: its few rows sort quickly).
-- Triggers on the daily rollups keep these exact in the same transaction: whatever a daily row
-- gains or loses, its week's row does. A daily row's key never changes (step 9's triggers move
-- only its counts, and delete it once it holds nothing); a week's row is deleted with the last
-- daily row of it that held anything. The statements between "CREATE INDEX ix_hr_time_value ON ins_hr_time(metric, bucket, value, created_at, priority);
-- rollups: fill" and "-- rollups: end fill" rebuild them
-- from the daily rollups; storage/rollups.py runs them after those of step 9.
CREATE TABLE ins_case_week (day TEXT NOT NULL, product TEXT NOT NULL, component TEXT NOT NULL, version TEXT NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (day, product, component, version)) WITHOUT ROWID;
CREATE TABLE ins_hr_week (day TEXT NOT NULL, priority TEXT NOT NULL, product TEXT NOT NULL, component TEXT NOT NULL,
    requests INTEGER NOT NULL, responded INTEGER NOT NULL, met INTEGER NOT NULL, late INTEGER NOT NULL,
    unresponded INTEGER NOT NULL, resolved INTEGER NOT NULL, answered INTEGER NOT NULL, documented INTEGER NOT NULL,
    PRIMARY KEY (day, priority, product, component)) WITHOUT ROWID;
CREATE TABLE ins_hr_hist_week (metric TEXT NOT NULL, day TEXT NOT NULL, priority TEXT NOT NULL, bucket INTEGER NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (metric, day, priority, bucket)) WITHOUT ROWID;
CREATE INDEX ix_hr_time_value ON ins_hr_time(metric, bucket, value, created_at, priority);
-- rollups: fill
DELETE FROM ins_case_week;
DELETE FROM ins_hr_week;
DELETE FROM ins_hr_hist_week;
INSERT INTO ins_case_week SELECT date(day, '-6 days', 'weekday 1'), product, component, version, SUM(n)
  FROM ins_case_day GROUP BY 1, 2, 3, 4;
INSERT INTO ins_hr_week SELECT date(day, '-6 days', 'weekday 1'), priority, product, component, SUM(requests), SUM(responded),
  SUM(met), SUM(late), SUM(unresponded), SUM(resolved), SUM(answered), SUM(documented) FROM ins_hr_day GROUP BY 1, 2, 3, 4;
INSERT INTO ins_hr_hist_week SELECT metric, date(day, '-6 days', 'weekday 1'), priority, bucket, SUM(n)
  FROM ins_hr_hist GROUP BY 1, 2, 3, 4;
-- rollups: end fill
-- rollups: triggers
CREATE TRIGGER ins_wk_case_ai AFTER INSERT ON ins_case_day BEGIN
  INSERT INTO ins_case_week VALUES (date(new.day, '-6 days', 'weekday 1'), new.product, new.component, new.version, new.n)
    ON CONFLICT (day, product, component, version) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER ins_wk_case_au AFTER UPDATE ON ins_case_day BEGIN
  UPDATE ins_case_week SET n = n + new.n - old.n
    WHERE day = date(new.day, '-6 days', 'weekday 1') AND product = new.product AND component = new.component AND version = new.version;
END;
CREATE TRIGGER ins_wk_case_ad AFTER DELETE ON ins_case_day BEGIN
  UPDATE ins_case_week SET n = n - old.n
    WHERE day = date(old.day, '-6 days', 'weekday 1') AND product = old.product AND component = old.component AND version = old.version;
  DELETE FROM ins_case_week
    WHERE day = date(old.day, '-6 days', 'weekday 1') AND product = old.product AND component = old.component AND version = old.version AND n = 0;
END;
CREATE TRIGGER ins_wk_hr_ai AFTER INSERT ON ins_hr_day BEGIN
  INSERT INTO ins_hr_week VALUES (date(new.day, '-6 days', 'weekday 1'), new.priority, new.product, new.component, new.requests, new.responded, new.met,
    new.late, new.unresponded, new.resolved, new.answered, new.documented)
    ON CONFLICT (day, priority, product, component) DO UPDATE SET requests = requests + excluded.requests,
    responded = responded + excluded.responded, met = met + excluded.met, late = late + excluded.late,
    unresponded = unresponded + excluded.unresponded, resolved = resolved + excluded.resolved,
    answered = answered + excluded.answered, documented = documented + excluded.documented;
END;
CREATE TRIGGER ins_wk_hr_au AFTER UPDATE ON ins_hr_day BEGIN
  UPDATE ins_hr_week SET requests = requests + new.requests - old.requests, responded = responded + new.responded - old.responded,
    met = met + new.met - old.met, late = late + new.late - old.late, unresponded = unresponded + new.unresponded - old.unresponded,
    resolved = resolved + new.resolved - old.resolved, answered = answered + new.answered - old.answered,
    documented = documented + new.documented - old.documented
    WHERE day = date(new.day, '-6 days', 'weekday 1') AND priority = new.priority AND product = new.product AND component = new.component;
END;
CREATE TRIGGER ins_wk_hr_ad AFTER DELETE ON ins_hr_day BEGIN
  UPDATE ins_hr_week SET requests = requests - old.requests, responded = responded - old.responded, met = met - old.met,
    late = late - old.late, unresponded = unresponded - old.unresponded, resolved = resolved - old.resolved,
    answered = answered - old.answered, documented = documented - old.documented
    WHERE day = date(old.day, '-6 days', 'weekday 1') AND priority = old.priority AND product = old.product AND component = old.component;
  DELETE FROM ins_hr_week
    WHERE day = date(old.day, '-6 days', 'weekday 1') AND priority = old.priority AND product = old.product AND component = old.component AND requests = 0;
END;
CREATE TRIGGER ins_wk_hist_ai AFTER INSERT ON ins_hr_hist BEGIN
  INSERT INTO ins_hr_hist_week VALUES (new.metric, date(new.day, '-6 days', 'weekday 1'), new.priority, new.bucket, new.n)
    ON CONFLICT (metric, day, priority, bucket) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER ins_wk_hist_au AFTER UPDATE ON ins_hr_hist BEGIN
  UPDATE ins_hr_hist_week SET n = n + new.n - old.n
    WHERE metric = new.metric AND day = date(new.day, '-6 days', 'weekday 1') AND priority = new.priority AND bucket = new.bucket;
END;
CREATE TRIGGER ins_wk_hist_ad AFTER DELETE ON ins_hr_hist BEGIN
  UPDATE ins_hr_hist_week SET n = n - old.n
    WHERE metric = old.metric AND day = date(old.day, '-6 days', 'weekday 1') AND priority = old.priority AND bucket = old.bucket;
  DELETE FROM ins_hr_hist_week
    WHERE metric = old.metric AND day = date(old.day, '-6 days', 'weekday 1') AND priority = old.priority AND bucket = old.bucket AND n = 0;
END;
