-- Dedup keys are staged in a temporary table of the run's connection (Store._stage in
-- registry/store/dedup.py): writing each batch to the file and then again into dedup_keys
-- cost more than computing the keys. The table of migration 0015 is no longer used; rows
-- left in it by a killed run were never indexed.
DROP TABLE IF EXISTS dedup_keys_staged;
