-- Dedup 2 (rapidfuzz scoring, a blocking key that survives a typo and a cut title, journal
-- abbreviations): the stored blocking keys were computed by the old rules, so every record
-- is keyed again, and compared again, at the next `registry dedup`. Links, queued pairs,
-- clusters and decisions are kept (decisions are keyed by identity, not by these rows).
DELETE FROM dedup_keys;
