-- Staging for file imports (registry import). A large import writes its records here in
-- bounded, committed batches (so memory stays flat in the file size), then moves them
-- into records/run_records/parse_problems in one short transaction at the end. Rows are
-- keyed by a stage id from import_stage_seq; a failed import deletes its stage, and the
-- next import deletes any stage a killed process left behind. Columns mirror records.
CREATE SEQUENCE import_stage_seq START 1;
CREATE TABLE import_staging (
    stage BIGINT NOT NULL,
    ord BIGINT NOT NULL,             -- position in the file: the last copy of a key wins
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    pmid TEXT,
    doi TEXT,
    pmcid TEXT,
    title TEXT NOT NULL,
    vernacular_title TEXT,
    abstract TEXT,
    journal TEXT,
    journal_abbrev TEXT,
    issn TEXT,
    volume TEXT,
    issue TEXT,
    pages TEXT,
    pub_date TEXT,
    record_type TEXT NOT NULL,
    year INTEGER,
    entrez_date DATE,
    authors TEXT[],
    publication_types TEXT[],
    mesh_terms TEXT[],
    keywords TEXT[],
    languages TEXT[],
    registry_ids TEXT[],
    abstract_sections JSON,
    comments JSON,
    retracted BOOLEAN NOT NULL,
    corrected BOOLEAN NOT NULL
);
CREATE TABLE import_staging_deletions (
    stage BIGINT NOT NULL,
    ord BIGINT NOT NULL,             -- a record later in the file than its withdrawal wins
    pmid TEXT NOT NULL
);
CREATE TABLE import_staging_problems (
    stage BIGINT NOT NULL,
    file TEXT,
    location TEXT,
    message TEXT NOT NULL,
    logged_at TIMESTAMP NOT NULL
);
