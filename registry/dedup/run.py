"""One dedup run: key the new records, block, score, cluster and save in one transaction.

Incremental: only records that have no match keys yet (or whose source data changed) are
scored, against every record; rerunning with nothing new writes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from registry import __version__
from registry.csvout import write_csv
from registry.dedup.blocking import hard_key_matches, scan_candidates
from registry.dedup.clustering import UnionFind, build_clusters, same_clusters
from registry.dedup.keys import columns_frame, key_columns, keys_from_rows
from registry.dedup.scoring import HIGH, PairScore, close_candidates, score_candidates
from registry.errors import InputError
from registry.gcpolicy import bulk_allocations
from registry.store.dedup import DedupWrite

if TYPE_CHECKING:
    from registry.store import Store

Link = tuple[int, int, str, float | None]
# Close candidate pairs scored at a time: only their records' keys are loaded (at most
# twice as many keys, a few hundred bytes each).
SCORE_CHUNK = 200_000


@dataclass(frozen=True)
class DedupResult:
    """What one :func:`deduplicate` run did and where the registry stands afterwards."""

    examined: int  # records keyed and compared in this run
    hard_links: int  # new links from a shared PMID / DOI / PMCID
    fuzzy_links: int  # new links from a fuzzy score >= HIGH
    queued: int  # new uncertain pairs
    dropped: int  # deleted records taken out of dedup
    clusters: int  # clusters of two or more records
    duplicates: int  # records that are not their cluster's primary
    pending: int  # uncertain pairs awaiting a decision
    changed: bool  # False when the run wrote nothing
    seconds: float = 0.0
    candidates: int = 0  # fuzzy candidate pairs compared
    windowed_blocks: int = 0  # oversized blocks compared by sorted neighbourhood
    stages: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class _Clock:
    """CPU seconds per stage (for the bench and ``--json``; CPU, not wall, so a busy
    machine does not distort them) and wall seconds in all."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.c = time.process_time()
        self.stages: dict[str, float] = {}

    def lap(self, name: str, less: float = 0.0) -> None:
        """Close stage ``name``: CPU seconds since the previous lap, ``less`` seconds
        counted elsewhere (:meth:`add`), plus what was added to it before."""
        now = time.process_time()
        self.add(name, now - self.c - less)
        self.c = now

    def add(self, name: str, seconds: float) -> None:
        """Count ``seconds`` to stage ``name`` (work interleaved with another stage's)."""
        self.stages[name] = round(self.stages.get(name, 0.0) + seconds, 3)

    def total(self) -> float:
        """Wall seconds since the clock started."""
        return round(time.perf_counter() - self.t0, 3)


@dataclass
class _Keyed:
    """Records keyed this run: new or changed (``fresh``), touched upstream but unchanged
    for dedup (``bumped``: counted, not compared), changed ones whose old links go
    (``rekeyed``), deleted ones (``dropped``). Ids only: the keys are in the store."""

    fresh: list[int]
    bumped: int
    rekeyed: list[int]
    dropped: list[int]


def _key_records(store: Store, review: str | None) -> _Keyed:
    """Key the records that need it and stage the keys, one bounded batch at a time
    (memory stays flat in the number of records); the store tells which keys changed."""
    dropped = store.dedup_dropped()
    for batch in store.dedup_records_to_key(review):
        store.dedup_stage_keys(columns_frame(key_columns(batch)))
    fresh, rekeyed, bumped = store.dedup_staged_changes()
    return _Keyed(fresh, bumped, rekeyed, dropped)


def _old_links(store: Store) -> list[Link]:
    """The stored links (those of changed and deleted records are gone by now)."""
    return [
        (int(a), int(b), str(r), None if s is None or s != s else float(s))
        for a, b, r, s in store.dedup_links_frame().itertuples(index=False)
    ]


def _decided(store: Store) -> list[tuple[int, int, str]]:
    """Stored decisions (by identity) as (record_a, record_b, decision) on current ids."""
    return [(int(a), int(b), str(d))
            for a, b, d in store.dedup_decided_pairs().itertuples(index=False)]


class _Member(NamedTuple):
    """A linked record as clustering sees it."""

    source: str
    completeness: int


@dataclass
class _Found:
    """What this run found: hard links, doubtful hard matches and fuzzy scores."""

    hard: list[tuple[int, int, str]]
    fuzzy: list[tuple[int, int, float]]
    queue: list[tuple[int, int, PairScore]]
    candidates: int
    windowed_blocks: int


def _fuzzy(store: Store, new_ids: list[int], clock: _Clock,
           joined: Callable[[int, int], bool]) -> tuple[list[tuple[int, int, PairScore]], int, int]:
    """Candidate pairs by blocking, their titles compared a bounded chunk at a time, and the
    close ones not ``joined`` already scored in full as each chunk comes (their keys loaded
    from the store for that chunk alone: memory stays flat in the number of records).
    Returns the pairs that can reach the queue, how many candidates there were and how
    many blocks were windowed."""
    scored: list[tuple[int, int, PairScore]] = []
    scoring = [0.0]  # CPU seconds spent scoring, told apart from blocking

    def consume(pairs: pd.DataFrame) -> None:
        close, sims = close_candidates(pairs["title_a"].tolist(), pairs["title_b"].tolist())
        started = time.process_time()
        a, b = pairs["record_a"].to_numpy()[close], pairs["record_b"].to_numpy()[close]
        # A pair a hard key (or an earlier link or decision) joined has nothing to score.
        done = np.fromiter(map(joined, a.tolist(), b.tolist()), dtype=bool, count=len(a))
        a, b, sims = a[~done], b[~done], sims[~done]
        for i in range(0, len(a), SCORE_CHUNK):
            ca, cb = a[i:i + SCORE_CHUNK], b[i:i + SCORE_CHUNK]
            keys = keys_from_rows(store.dedup_key_rows(sorted(set(ca.tolist())
                                                              | set(cb.tolist()))))
            scored.extend(score_candidates(keys, ca, cb, sims[i:i + SCORE_CHUNK]))
        scoring[0] += time.process_time() - started

    total, windowed = scan_candidates(store, new_ids, consume)
    clock.lap("block", less=scoring[0])
    clock.add("score", scoring[0])
    return scored, total, windowed


def _match(
    store: Store, new_ids: list[int], old_links: list[Link],
    decided: list[tuple[int, int, str]], clock: _Clock,
) -> _Found:
    """Hard-key links, then fuzzy links and queued pairs among the candidates that are
    not already joined (by old links, hard keys or a decision) nor decided."""
    hard, doubtful = hard_key_matches(store, new_ids)
    clock.lap("hard")
    uf = UnionFind()
    for a, b, _, _ in old_links:
        uf.union(a, b)
    for a, b, _ in hard:
        uf.union(a, b)
    for a, b, d in decided:
        if d == "duplicate":
            uf.union(a, b)
    skip = {(a, b) for a, b, _ in decided} | {(a, b) for a, b, _ in hard}

    def joined(a: int, b: int) -> bool:
        """Decided, or one cluster already."""
        return (a, b) in skip or uf.find(a) == uf.find(b)

    scored, n_candidates, windowed = _fuzzy(store, new_ids, clock, joined)
    fuzzy: list[tuple[int, int, float]] = []
    queue: list[tuple[int, int, PairScore]] = []
    for a, b, ps in scored:
        if ps.score >= HIGH:
            fuzzy.append((a, b, ps.score))
        else:
            queue.append((a, b, ps))
    decided_set = {(a, b) for a, b, _ in decided}
    queue += [(a, b, ps) for a, b, ps in doubtful if (a, b) not in decided_set]
    clock.lap("score")
    return _Found(hard, fuzzy, queue, n_candidates, windowed)


def _clusters(store: Store, links: list[Link], decided: list[tuple[int, int, str]]
              ) -> pd.DataFrame:
    """Clusters from every link and decision; only the linked records' keys are loaded."""
    ids = {x for a, b, _, _ in links for x in (a, b)} | {x for a, b, _ in decided
                                                         for x in (a, b)}
    members = {rid: _Member(source, int(completeness))
               for rid, source, completeness in store.dedup_members(sorted(ids))}
    return build_clusters(members, links, decided)


def _write(store: Store, found: _Found, clusters: pd.DataFrame | None,
           run: dict[str, Any]) -> None:
    """Save links, queued pairs, clusters (when changed) and the run log."""
    links = pd.DataFrame(
        [(a, b, r, None) for a, b, r in found.hard]
        + [(a, b, "fuzzy", s) for a, b, s in found.fuzzy],
        columns=["record_a", "record_b", "reason", "score"],
    )
    pairs = pd.DataFrame(
        [(a, b, ps.score, ps.title_similarity, ps.why) for a, b, ps in found.queue],
        columns=["record_a", "record_b", "score", "title_similarity", "why"],
    )
    store.save_dedup(DedupWrite(links=links, pairs=pairs, clusters=clusters, run=run))


def _unchanged(store: Store, clock: _Clock) -> DedupResult:
    n_clusters, n_dup = store.dedup_cluster_stats()
    return DedupResult(
        examined=0, hard_links=0, fuzzy_links=0, queued=0, dropped=0, clusters=n_clusters,
        duplicates=n_dup, pending=store.dedup_pending_count(), changed=False,
        seconds=clock.total(), stages=clock.stages,
    )


def deduplicate(
    store: Store, review: str | None = None, *, progress: Callable[[str], None] | None = None
) -> DedupResult:
    """Find duplicates among records not examined before (incremental) and update clusters.

    ``review`` limits which new records are examined to those the review's runs brought
    in (they are compared against every record already in the dedup index). One
    transaction writes keys, links, queued pairs, clusters and the run log; with nothing
    new nothing is written.
    """
    say = progress or (lambda _msg: None)
    clock, started = _Clock(), _now()
    store.dedup_clear_staged()
    try:
        with store.dedup_memory(), bulk_allocations():
            say("computing match keys")
            keyed = _key_records(store, review)
            clock.lap("keys")
            with store.transaction():
                return _match_and_save(store, keyed, say, clock, started)
    finally:
        # Staged keys of a failed run go: the store is as it was before the run.
        store.dedup_clear_staged()


def _match_and_save(store: Store, keyed: _Keyed, say: Callable[[str], None], clock: _Clock,
                    started: dt.datetime) -> DedupResult:
    """The run's one transaction: index the staged keys, match, cluster and save."""
    decisions_new = store.dedup_decisions_since_last_run()
    if not (keyed.fresh or keyed.bumped or keyed.dropped or decisions_new):
        return _unchanged(store, clock)  # nothing new: nothing to compare or write
    say("loading the dedup index")
    store.dedup_index_staged()
    store.dedup_unindex(keyed.dropped, keyed.rekeyed)
    # Read after unindexing, which deletes changed records' cluster rows: compared with
    # the rows from before, clusters that came out the same were not written back and a
    # changed record lost its cluster.
    old_clusters = store.dedup_clusters_frame()
    old_links = _old_links(store)
    decided = _decided(store)
    clock.lap("load")
    say("matching")
    found = _match(store, keyed.fresh, old_links, decided, clock)
    say("building clusters")
    clusters = _clusters(store, old_links + [(a, b, r, None) for a, b, r in found.hard]
                         + [(a, b, "fuzzy", s) for a, b, s in found.fuzzy], decided)
    clusters_changed = not same_clusters(clusters, old_clusters)
    clock.lap("cluster")
    n_dup = int((~clusters["is_primary"]).sum()) if len(clusters) else 0
    changed = bool(keyed.fresh or keyed.bumped or keyed.dropped or clusters_changed
                   or decisions_new)
    if changed:
        say("saving")
        _write(store, found, clusters if clusters_changed else None, {
            "started_at": started, "finished_at": _now(),
            "records_examined": len(keyed.fresh), "hard_links": len(found.hard),
            "fuzzy_links": len(found.fuzzy), "pairs_queued": len(found.queue),
            "records_dropped": len(keyed.dropped), "duplicates": n_dup,
            "tool_version": __version__,
        })
        clock.lap("save")
    return DedupResult(
        examined=len(keyed.fresh), hard_links=len(found.hard), fuzzy_links=len(found.fuzzy),
        queued=len(found.queue), dropped=len(keyed.dropped),
        clusters=int(clusters["cluster_id"].nunique()) if len(clusters) else 0,
        duplicates=n_dup, pending=store.dedup_pending_count(), changed=changed,
        seconds=clock.total(), candidates=found.candidates,
        windowed_blocks=found.windowed_blocks, stages=clock.stages,
    )


def prisma_identification(store: Store, review: str | None = None) -> dict[str, Any]:
    """PRISMA identification counts (see ``Store.prisma_identification``)."""
    return store.prisma_identification(review)


@dataclass(frozen=True)
class DedupReport:
    """``registry dedup``: what the run did and the PRISMA identification counts."""

    result: DedupResult
    prisma: dict[str, Any]


def dedup_and_count(
    store: Store, review: str | None = None, *, progress: Callable[[str], None] | None = None
) -> DedupReport:
    """Deduplicate (scoped to ``review``'s new records), then count for PRISMA."""
    result = deduplicate(store, review, progress=progress)
    return DedupReport(result, store.prisma_identification(review))


CLUSTER_COLUMNS = ("source", "source_id", "record_id", "cluster_id", "is_primary",
                   "cluster_size", "deleted")


def export_clusters(store: Store, path: str | Path) -> int:
    """Bring the index up to date, then write every record's cluster to a CSV
    (:data:`CLUSTER_COLUMNS`; formula cells neutralised). Returns the row count."""
    deduplicate(store)
    try:
        return write_csv(path, CLUSTER_COLUMNS, store.dedup_cluster_rows())
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc}") from exc
