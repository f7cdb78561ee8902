-- Trial-registry records (ClinicalTrials.gov) as their own record type, and which live
-- search run saw which trial. Runs themselves are logged in search_runs (source
-- 'clinicaltrials'), like every other search.
CREATE TABLE trials (
    nct_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    official_title TEXT,
    status TEXT,                     -- overallStatus: RECRUITING, COMPLETED, WITHDRAWN, ...
    why_stopped TEXT,
    study_type TEXT,
    phases TEXT[],
    allocation TEXT,
    enrollment INTEGER,
    enrollment_type TEXT,            -- ACTUAL | ESTIMATED
    conditions TEXT[],
    interventions TEXT[],
    arms JSON,
    primary_outcomes JSON,
    secondary_outcomes JSON,
    has_results BOOLEAN NOT NULL,    -- results posted on the registry
    linked_pmids TEXT[],             -- the registry's RESULT/DERIVED references
    "references" JSON,
    secondary_ids TEXT[],
    sponsor TEXT,
    start_date TEXT,                 -- as given: YYYY-MM-DD or YYYY-MM
    primary_completion_date TEXT,
    completion_date TEXT,
    first_posted TEXT,
    last_update_posted TEXT,
    results_first_posted TEXT,
    version TEXT,                    -- versionHolder of the registry data
    first_run_id BIGINT,
    added_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE run_trials (
    run_id BIGINT NOT NULL,
    nct_id TEXT NOT NULL,
    is_new BOOLEAN NOT NULL,         -- first time the registry saw this trial
    PRIMARY KEY (run_id, nct_id)
);
