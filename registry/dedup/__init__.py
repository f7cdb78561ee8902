"""Deduplication across sources and runs.

Two records are the same work when they share a hard key (PMID, normalised DOI, PMCID) or,
failing that, when a fuzzy comparison of title, first author, year and journal scores above
:data:`HIGH`. Pairs scoring between :data:`LOW` and :data:`HIGH` (and hard-key matches that
look wrong) go to a queue a person works through (``registry dedup --walk``). Linked records
form clusters; each cluster has one primary record.

Modules, in the order a run uses them:

- :mod:`~registry.dedup.keys`: match keys of records, a batch at a time, column by column
  (pure); a run keys and saves records in bounded batches, so memory stays flat;
- :mod:`~registry.dedup.blocking`: which pairs are compared (hard keys, title blocks,
  sorted neighbourhood for oversized blocks), as hash joins in the store on saved keys;
- :mod:`~registry.dedup.scoring`: vectorised title similarity (rapidfuzz) and pair scores;
- :mod:`~registry.dedup.clustering`: union-find with "not duplicate" constraints, primary;
- :mod:`~registry.dedup.run`: one incremental run against the store, cluster export;
- :mod:`~registry.dedup.queue`: the uncertain pairs, interactively or through a CSV.
"""

from registry.dedup.blocking import MAX_BLOCK, Candidates, candidate_pairs, hard_key_matches
from registry.dedup.clustering import UnionFind, build_clusters
from registry.dedup.keys import (
    STOPWORDS,
    RecordKey,
    blocking_keys,
    first_page,
    journal_keys,
    make_key,
    make_keys,
    notice_kind,
    significant_words,
)
from registry.dedup.queue import (
    QUEUE_COLUMNS,
    ImportSummary,
    ReviewSummary,
    decide,
    export_queue,
    import_decisions,
    review_queue,
)
from registry.dedup.run import (
    CLUSTER_COLUMNS,
    DedupReport,
    DedupResult,
    dedup_and_count,
    deduplicate,
    export_clusters,
    prisma_identification,
)
from registry.dedup.scoring import HIGH, LOW, PairScore, score_pair, title_similarity

__all__ = [
    "CLUSTER_COLUMNS", "HIGH", "LOW", "MAX_BLOCK", "QUEUE_COLUMNS", "STOPWORDS", "Candidates",
    "DedupReport", "DedupResult", "ImportSummary", "PairScore", "RecordKey", "ReviewSummary",
    "UnionFind", "blocking_keys", "build_clusters", "candidate_pairs", "decide",
    "dedup_and_count", "deduplicate", "export_clusters", "export_queue", "first_page",
    "hard_key_matches", "import_decisions", "journal_keys", "make_key", "make_keys", "notice_kind",
    "prisma_identification", "review_queue", "score_pair", "significant_words",
    "title_similarity",
]
