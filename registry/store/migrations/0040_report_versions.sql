-- Report versions of a review and the analysis results each one presented.
CREATE SEQUENCE report_version_seq START 1;
CREATE TABLE report_versions (
    version_id BIGINT PRIMARY KEY DEFAULT nextval('report_version_seq'),
    review TEXT NOT NULL,
    label TEXT NOT NULL,             -- 'YYYY-MM-DD.<hash8>'
    created_at TIMESTAMP NOT NULL,
    data_hash TEXT NOT NULL,         -- sha256 of the data the report used
    tool_version TEXT NOT NULL,
    preset TEXT,
    n_records INTEGER,
    n_studies INTEGER,
    study_ids TEXT[],
    summary JSON                     -- what's new, as shown in the report
);

CREATE TABLE analysis_results (
    version_id BIGINT NOT NULL,
    analysis_id TEXT NOT NULL,       -- outcome/time_point[/subgroup_set=level][/sensitivity]
    outcome TEXT NOT NULL,
    time_point TEXT,
    subgroup_set TEXT,
    subgroup TEXT,
    sensitivity TEXT,
    measure TEXT,
    model TEXT,
    k INTEGER,
    n_participants INTEGER,
    estimate DOUBLE,
    ci_lb DOUBLE,
    ci_ub DOUBLE,
    pval DOUBLE,
    tau2 DOUBLE,
    i2 DOUBLE,
    PRIMARY KEY (version_id, analysis_id)
);
