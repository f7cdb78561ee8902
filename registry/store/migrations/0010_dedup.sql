-- Deduplication: per-record match keys, links between records, clusters, the uncertain-pair
-- queue and the curator's decisions (keyed by stable identities, not record ids).

-- Match keys computed once per record; a record missing here (or whose fingerprint changed)
-- is "new" for the next dedup run, which is what makes dedup incremental.
CREATE TABLE dedup_keys (
    record_id BIGINT PRIMARY KEY,
    source TEXT NOT NULL,
    identity TEXT NOT NULL,          -- stable identity: source_id, else derived from content
    pmid TEXT,
    doi TEXT,                        -- normalised
    pmcid TEXT,
    title_norm TEXT NOT NULL,
    first_author TEXT,
    journal_keys TEXT[],             -- normalised journal name / abbreviation / ISSNs
    year INTEGER,
    first_page TEXT,
    notice TEXT,                     -- erratum | retraction | comment | reply | ... (NULL: article)
    blocks TEXT[],                   -- blocking keys
    completeness INTEGER NOT NULL,   -- how many descriptive fields are filled (primary choice)
    fingerprint TEXT NOT NULL,       -- hash of the fields the keys came from
    keyed_at TIMESTAMP NOT NULL
);

-- Why two records are the same work: a shared hard key or a fuzzy match above the high
-- threshold. Clusters are the connected components of these links plus "duplicate"
-- decisions, minus "not duplicate" decisions.
CREATE TABLE dedup_links (
    record_a BIGINT NOT NULL,        -- record_a < record_b
    record_b BIGINT NOT NULL,
    reason TEXT NOT NULL,            -- pmid | doi | pmcid | fuzzy
    score DOUBLE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (record_a, record_b, reason)
);

-- Pairs scored between the two thresholds: a person decides.
CREATE TABLE dedup_pairs (
    record_a BIGINT NOT NULL,        -- record_a < record_b
    record_b BIGINT NOT NULL,
    score DOUBLE NOT NULL,
    title_similarity DOUBLE,
    why TEXT,                        -- short explanation of the score
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (record_a, record_b)
);

-- A person's verdict on a pair, keyed by (source, identity) of both records in sorted order
-- so a re-import (new record ids) or a re-run never re-opens it.
CREATE TABLE dedup_decisions (
    source_a TEXT NOT NULL,
    identity_a TEXT NOT NULL,
    source_b TEXT NOT NULL,
    identity_b TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('duplicate', 'not_duplicate')),
    decided_by TEXT,
    decided_at TIMESTAMP NOT NULL,
    note TEXT,
    PRIMARY KEY (source_a, identity_a, source_b, identity_b)
);

-- Members of clusters with two or more records; a record absent here is a singleton.
CREATE TABLE dedup_clusters (
    record_id BIGINT PRIMARY KEY,
    cluster_id BIGINT NOT NULL,      -- smallest record_id of the cluster (stable as it grows)
    is_primary BOOLEAN NOT NULL
);

-- One row per dedup run that changed something.
CREATE SEQUENCE dedup_run_id_seq START 1;
CREATE TABLE dedup_runs (
    dedup_run_id BIGINT PRIMARY KEY DEFAULT nextval('dedup_run_id_seq'),
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    records_examined INTEGER NOT NULL,
    hard_links INTEGER NOT NULL,
    fuzzy_links INTEGER NOT NULL,
    pairs_queued INTEGER NOT NULL,
    records_dropped INTEGER NOT NULL,   -- deleted records taken out of dedup
    duplicates INTEGER NOT NULL,        -- non-primary records after the run
    tool_version TEXT NOT NULL
);

-- Every record with its cluster; singletons are their own cluster. Deleted (NLM
-- DeleteCitation) records are never primary: they are out of the review.
CREATE VIEW v_record_cluster AS
SELECT r.record_id,
       coalesce(c.cluster_id, r.record_id) AS cluster_id,
       CASE WHEN r.deleted THEN FALSE ELSE coalesce(c.is_primary, TRUE) END AS is_primary
FROM records r
LEFT JOIN dedup_clusters c ON c.record_id = r.record_id;

-- Uncertain pairs still waiting for a person: no decision on the identity pair yet, both
-- records present and not deleted, and not already joined in one cluster by other links.
CREATE VIEW v_dedup_pending AS
SELECT p.record_a, p.record_b, p.score, p.title_similarity, p.why, p.created_at
FROM dedup_pairs p
JOIN dedup_keys ka ON ka.record_id = p.record_a
JOIN dedup_keys kb ON kb.record_id = p.record_b
JOIN records ra ON ra.record_id = p.record_a AND NOT ra.deleted
JOIN records rb ON rb.record_id = p.record_b AND NOT rb.deleted
LEFT JOIN dedup_decisions d
       ON (d.source_a = ka.source AND d.identity_a = ka.identity
           AND d.source_b = kb.source AND d.identity_b = kb.identity)
       OR (d.source_a = kb.source AND d.identity_a = kb.identity
           AND d.source_b = ka.source AND d.identity_b = ka.identity)
LEFT JOIN v_record_cluster ca ON ca.record_id = p.record_a
LEFT JOIN v_record_cluster cb ON cb.record_id = p.record_b
WHERE d.decision IS NULL AND ca.cluster_id <> cb.cluster_id;
