-- Dedup at scale (issue 11): a run's new match keys are written here batch by batch, each
-- batch committed, so the run's memory stays flat however many records it keys; the run's
-- one transaction then moves them into dedup_keys with one statement. Rows live here only
-- while a run is under way: a run empties the table when it ends, failed or not, and
-- before it starts (after a killed run).
CREATE TABLE dedup_keys_staged AS SELECT * FROM dedup_keys LIMIT 0;
