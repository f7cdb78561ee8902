-- Bibliographic records, the search/import runs that brought them, and which run saw which.
CREATE SEQUENCE record_id_seq START 1;
CREATE TABLE records (
    record_id BIGINT PRIMARY KEY DEFAULT nextval('record_id_seq'),
    source TEXT NOT NULL,            -- database the record came from: pubmed, embase, ...
    source_id TEXT,                  -- accession number in that source (PMID for PubMed)
    pmid TEXT,
    doi TEXT,                        -- normalised (lower case, no resolver prefix)
    pmcid TEXT,
    title TEXT NOT NULL,
    vernacular_title TEXT,
    abstract TEXT,
    abstract_sections JSON,          -- [{"label":..,"text":..,"nlm_category":..}]
    authors TEXT[],
    journal TEXT,
    journal_abbrev TEXT,
    issn TEXT,
    volume TEXT,
    issue TEXT,
    pages TEXT,
    year INTEGER,
    pub_date TEXT,                   -- as printed, e.g. '1998 Dec-1999 Jan'
    entrez_date DATE,
    publication_types TEXT[],
    mesh_terms TEXT[],
    keywords TEXT[],
    languages TEXT[],
    registry_ids TEXT[],             -- trial registrations (DataBankList / SecondaryId)
    comments JSON,                   -- [{"ref_type":"RetractionIn","ref_source":..,"pmid":..}]
    record_type TEXT NOT NULL DEFAULT 'article',   -- article | book
    retracted BOOLEAN NOT NULL DEFAULT FALSE,
    corrected BOOLEAN NOT NULL DEFAULT FALSE,      -- has an erratum / correction notice
    deleted BOOLEAN NOT NULL DEFAULT FALSE,        -- withdrawn by NLM (DeleteCitation)
    first_run_id BIGINT,
    added_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX records_pmid_idx ON records (pmid);
CREATE INDEX records_doi_idx ON records (doi);

CREATE SEQUENCE run_id_seq START 1;
CREATE TABLE search_runs (
    run_id BIGINT PRIMARY KEY DEFAULT nextval('run_id_seq'),
    review TEXT,                     -- review whose protocol asked for it (NULL: ad hoc)
    source TEXT NOT NULL,            -- pubmed, embase, cochrane, ...
    kind TEXT NOT NULL,              -- 'search' (live E-utilities) | 'import' (a file)
    query TEXT,
    query_translation TEXT,          -- NCBI's QueryTranslation
    date_field TEXT,                 -- 'crdt' for incremental windows
    mindate DATE,
    maxdate DATE,
    file_name TEXT,
    file_sha256 TEXT,
    file_format TEXT,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    hits INTEGER,
    new_records INTEGER,
    duplicate_records INTEGER,
    skipped_records INTEGER,
    tool_version TEXT NOT NULL,
    outcome TEXT NOT NULL,           -- running | ok | failed | interrupted
    error TEXT,
    state JSON                       -- resumable progress (history keys, windows, offsets)
);

CREATE TABLE run_records (
    run_id BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    is_new BOOLEAN NOT NULL,         -- first time the registry saw this record
    PRIMARY KEY (run_id, record_id)
);

CREATE TABLE parse_problems (
    run_id BIGINT,
    file TEXT,
    location TEXT,                   -- 'PMID 123' or 'record 17 (line 340)'
    message TEXT NOT NULL,
    logged_at TIMESTAMP NOT NULL
);
