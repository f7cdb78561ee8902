-- The queue asks about clusters, not record pairs: once two clusters have one decided pair
-- (or are joined), their other pairs are moot, and of several undecided pairs between the
-- same two clusters only the best-scoring one is shown.
CREATE OR REPLACE VIEW v_dedup_pending AS
WITH p AS (
    SELECT p.record_a, p.record_b, p.score, p.title_similarity, p.why, p.created_at,
           ka.source AS source_a, ka.identity AS identity_a,
           kb.source AS source_b, kb.identity AS identity_b,
           ca.cluster_id AS cluster_a, cb.cluster_id AS cluster_b
    FROM dedup_pairs p
    JOIN dedup_keys ka ON ka.record_id = p.record_a
    JOIN dedup_keys kb ON kb.record_id = p.record_b
    JOIN records ra ON ra.record_id = p.record_a AND NOT ra.deleted
    JOIN records rb ON rb.record_id = p.record_b AND NOT rb.deleted
    JOIN v_record_cluster ca ON ca.record_id = p.record_a
    JOIN v_record_cluster cb ON cb.record_id = p.record_b
    WHERE ca.cluster_id <> cb.cluster_id
),
decided AS (
    SELECT DISTINCT least(ca.cluster_id, cb.cluster_id) AS lo,
                    greatest(ca.cluster_id, cb.cluster_id) AS hi
    FROM dedup_decisions d
    JOIN dedup_keys ka ON ka.source = d.source_a AND ka.identity = d.identity_a
    JOIN dedup_keys kb ON kb.source = d.source_b AND kb.identity = d.identity_b
    JOIN v_record_cluster ca ON ca.record_id = ka.record_id
    JOIN v_record_cluster cb ON cb.record_id = kb.record_id
)
SELECT p.record_a, p.record_b, p.score, p.title_similarity, p.why, p.created_at,
       p.cluster_a, p.cluster_b
FROM p
WHERE NOT EXISTS (
    SELECT 1 FROM decided d
    WHERE d.lo = least(p.cluster_a, p.cluster_b) AND d.hi = greatest(p.cluster_a, p.cluster_b)
)
QUALIFY row_number() OVER (
    PARTITION BY least(p.cluster_a, p.cluster_b), greatest(p.cluster_a, p.cluster_b)
    ORDER BY p.score DESC, p.record_a, p.record_b
) = 1;
