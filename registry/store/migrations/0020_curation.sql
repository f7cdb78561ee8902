-- Curation: extracted study data, published results, protocol snapshots and the audit log.
-- Column lists mirror schemas/extraction.py (a test checks they agree). Review-specific
-- characteristics and per-value provenance columns (X_source, X_location) live in `extra`.
CREATE TABLE cur_reviews (
    review TEXT PRIMARY KEY,
    protocol_yaml TEXT NOT NULL,     -- snapshot of protocol.yaml when last loaded
    protocol_sha256 TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE cur_studies (
    review TEXT NOT NULL,
    "study_id" TEXT,
    "citation" TEXT,
    "first_author" TEXT,
    "year" BIGINT,
    "pmid" TEXT,
    "doi" TEXT,
    "registration" TEXT,
    "country" TEXT,
    "design_reported" TEXT,
    "design_assessed" TEXT,
    "design_assessed_source" TEXT,
    "population" TEXT,
    "intervention" TEXT,
    "comparator" TEXT,
    "follow_up" TEXT,
    "included_in" TEXT,
    "notes" TEXT,
    "source" TEXT,
    "location" TEXT,
    extra JSON,                      -- characteristics, X_source / X_location
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cur_studies_idx ON cur_studies (review, study_id);

CREATE TABLE cur_arms (
    review TEXT NOT NULL,
    "study_id" TEXT,
    "arm_id" TEXT,
    "role" TEXT,
    "label" TEXT,
    "description" TEXT,
    "n_randomised" BIGINT,
    "n_analysed" BIGINT,
    "notes" TEXT,
    "source" TEXT,
    "location" TEXT,
    extra JSON,                      -- characteristics, X_source / X_location
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cur_arms_idx ON cur_arms (review, study_id);

CREATE TABLE cur_outcomes (
    review TEXT NOT NULL,
    "study_id" TEXT,
    "arm_id" TEXT,
    "outcome" TEXT,
    "time_point" TEXT,
    "time_weeks" DOUBLE,
    "value_type" TEXT,
    "unit" TEXT,
    "n" BIGINT,
    "mean" DOUBLE,
    "sd" DOUBLE,
    "se" DOUBLE,
    "ci_lower" DOUBLE,
    "ci_upper" DOUBLE,
    "ci_level" DOUBLE,
    "median" DOUBLE,
    "q1" DOUBLE,
    "q3" DOUBLE,
    "min" DOUBLE,
    "max" DOUBLE,
    "events" BIGINT,
    "total" BIGINT,
    "derivation" TEXT,
    "source" TEXT,
    "location" TEXT,
    "notes" TEXT,
    extra JSON,                      -- characteristics, X_source / X_location
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cur_outcomes_idx ON cur_outcomes (review, study_id);

CREATE TABLE cur_risk_of_bias (
    review TEXT NOT NULL,
    "study_id" TEXT,
    "tool" TEXT,
    "domain" TEXT,
    "judgement" TEXT,
    "support" TEXT,
    "source" TEXT,
    "location" TEXT,
    "notes" TEXT,
    extra JSON,                      -- characteristics, X_source / X_location
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cur_risk_of_bias_idx ON cur_risk_of_bias (review, study_id);

CREATE TABLE cur_adverse_events (
    review TEXT NOT NULL,
    "study_id" TEXT,
    "arm_id" TEXT,
    "event" TEXT,
    "count" BIGINT,
    "serious" BOOLEAN,
    "reported_text" TEXT,
    "source" TEXT,
    "location" TEXT,
    "notes" TEXT,
    extra JSON,                      -- characteristics, X_source / X_location
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cur_adverse_events_idx ON cur_adverse_events (review, study_id);

CREATE TABLE cur_published_results (
    review TEXT NOT NULL,
    "result_id" TEXT,
    "outcome" TEXT,
    "time_point" TEXT,
    "subgroup" TEXT,
    "k" BIGINT,
    "n_participants" BIGINT,
    "n_experimental" BIGINT,
    "n_control" BIGINT,
    "measure" TEXT,
    "model" TEXT,
    "estimate" DOUBLE,
    "ci_lower" DOUBLE,
    "ci_upper" DOUBLE,
    "p_value" TEXT,
    "i2" DOUBLE,
    "tau2" DOUBLE,
    "source" TEXT,
    "location" TEXT,
    "notes" TEXT,
    extra JSON,                      -- characteristics, X_source / X_location
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cur_published_results_idx ON cur_published_results (review);

CREATE SEQUENCE cur_change_id_seq START 1;
CREATE TABLE cur_audit (
    change_id BIGINT PRIMARY KEY DEFAULT nextval('cur_change_id_seq'),
    batch_id TEXT NOT NULL,          -- one add-trial / load-review call
    review TEXT NOT NULL,
    study_id TEXT,                   -- NULL for review-level rows (published results)
    table_name TEXT NOT NULL,        -- sheet: studies, arms, outcomes, ...
    row_key TEXT NOT NULL,           -- key columns joined by ' | '
    column_name TEXT NOT NULL,
    action TEXT NOT NULL,            -- insert | update | delete
    old_value TEXT,
    new_value TEXT,
    curator TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    origin TEXT                      -- file or folder the change came from
);
CREATE INDEX cur_audit_study_idx ON cur_audit (review, study_id);
