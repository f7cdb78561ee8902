-- Dedup keys are staged in a temporary table of the run's connection (Store._stage in
-- registry/store/dedup.py): writing each batch to the file and then again into dedup_keys
-- cost more than computing the keys. The table of migration 0015 is no longer used; rows
-- left in it by a killed run were never indexed.
DROP TABLE IF EXISTS dedup_keys_staged;

-- Blocking keys are stored as one text, joined by chr(31) (registry.store.dedup.KEY_SEPARATOR),
-- not as a list: only blocking reads them (splitting them there is cheap) and writing the
-- lists was half the cost of saving a run's keys.
ALTER TABLE dedup_keys ALTER blocks SET DATA TYPE TEXT USING array_to_string(blocks, chr(31));
