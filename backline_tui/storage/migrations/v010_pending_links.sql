-- Frozen: this file is schema step 10 exactly as released. Never edit it; add a new step.
-- v10: pending_links.
-- pending_links: a link a pull read before its other end arrived (a case's RefersTo an article
-- that a later batch brings), kept until that end is in the replica, so that a sync cut in
-- between loses none. `link` is the link record as the connector made it (JSON); `holder` the
-- ref of the end that was there (the record that carried the link): when that record is pulled
-- again, its links come again with it and the ones waiting here are dropped.
CREATE TABLE pending_links (
    source TEXT NOT NULL,
    link TEXT NOT NULL,
    holder TEXT NOT NULL,
    PRIMARY KEY (source, link)
);
CREATE INDEX pending_links_holder ON pending_links(source, holder);
