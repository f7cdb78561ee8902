-- Screening decisions: one row per decision ever made (append-only, so nothing is lost and a
-- changed mind stays visible). The current decision of a reviewer is the latest row for the
-- record's cluster; see registry/screening/state.py.
CREATE SEQUENCE screening_decision_id_seq START 1;
CREATE TABLE screening_decisions (
    decision_id BIGINT PRIMARY KEY DEFAULT nextval('screening_decision_id_seq'),
    review TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('title_abstract', 'full_text')),
    record_id BIGINT NOT NULL,       -- record decided on, as numbered when the decision was made
    source TEXT NOT NULL,            -- its stable identity (source, source_id): a re-imported
    source_id TEXT,                  -- record with a new record_id still finds its decision
    reviewer TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'screen' CHECK (role IN ('screen', 'resolution')),
    decision TEXT NOT NULL CHECK (decision IN ('include', 'exclude', 'maybe', 'not_retrieved')),
    reason TEXT,                     -- protocol eligibility.exclusion_reasons id
    reason_label TEXT,               -- that reason's label when the decision was made
    note TEXT,
    study_id TEXT,                   -- full-text include: the study this record reports
    via TEXT,                        -- 'interactive' | 'csv:<file name>' | 'api'
    decided_at TIMESTAMP NOT NULL,
    CHECK (decision <> 'not_retrieved' OR stage = 'full_text'),
    CHECK (stage <> 'full_text' OR decision <> 'exclude' OR reason IS NOT NULL)
);
CREATE INDEX screening_decisions_review_idx ON screening_decisions (review, stage);
CREATE INDEX screening_decisions_identity_idx ON screening_decisions (source, source_id);
