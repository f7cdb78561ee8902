-- File imports stage their records in Parquet files beside the database (see
-- registry/store/staging.py), written once and read back column by column, instead of in
-- this table (each staged row was logged, compressed at a checkpoint, read back and
-- compressed again in records). Withdrawals and problems keep their stage tables.
DROP TABLE import_staging;
