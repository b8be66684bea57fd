-- Frozen: this file is schema step 7 exactly as released. Never edit it; add a new step.
-- v7 (knowledge in the flow of work): an article link says whether it is a reuse. The request a
-- draft was written from is its source, not a reuse (reuse 0); every other link, pulled or made
-- by linking an article as the answer, is one (reuse 1, the default, so existing links count).
-- ix_cases_customer: a case's detail shows the customer's other open and recent cases (the whole
-- story of a customer), newest activity first, and an escalation counts the customer's open cases.
ALTER TABLE article_links ADD COLUMN reuse INTEGER NOT NULL DEFAULT 1;
CREATE INDEX ix_cases_customer ON cases(customer, last_activity_at);
