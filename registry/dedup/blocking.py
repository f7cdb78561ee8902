"""Blocking: which pairs of records are compared at all.

Hard keys (PMID, DOI, PMCID) link directly (:func:`hard_key_matches`). For the fuzzy step
every record has a handful of title blocking keys (:func:`registry.dedup.keys.blocking_keys`);
pairs sharing a key with years at most one apart are candidates (:func:`candidate_pairs`).
A block too large to compare all-against-all (a generic title such as "editorial") is not
skipped: its records are sorted by title and each is compared with its
:data:`WINDOW` nearest neighbours (sorted-neighbourhood), and the result says how many
blocks were treated so. Both run as hash joins inside the store on the saved keys (no
record is held in Python), so cost grows linearly with the records times their keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from registry.dedup.scoring import HIGH, PairScore, title_similarity
from registry.store.dedup import CANDIDATE_CHUNK

if TYPE_CHECKING:
    from registry.store import Store

# A (block key, year) shared by more records than this is compared by sorted neighbourhood
# instead of all-against-all. Stock phrases make such blocks ("... a randomized controlled
# trial" as the last words): all-against-all there grows with the square of the records.
MAX_BLOCK = 40
# Neighbours each record of such a block is compared with, after sorting by title.
WINDOW = 25


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs (``pairs``: record_a < record_b, title_a, title_b) and how many
    oversized blocks were compared by sorted neighbourhood rather than all-against-all."""

    pairs: pd.DataFrame
    windowed_blocks: int = 0


def candidate_pairs(
    store: Store,
    new_ids: Sequence[int],
    *,
    max_block: int = MAX_BLOCK,
    window: int = WINDOW,
) -> Candidates:
    """Pairs (record_a < record_b) of indexed records sharing a blocking key with years at
    most one apart, at least one of them new, all in one frame (see :func:`scan_candidates`
    for the bounded-memory form). Blocks with a (key, year) group larger than ``max_block``
    are compared by sorted neighbourhood (``window`` neighbours), never skipped."""
    frames: list[pd.DataFrame] = []
    _, windowed = scan_candidates(store, new_ids, frames.append, max_block=max_block,
                                  window=window)
    if not frames:
        return Candidates(pd.DataFrame({"record_a": pd.Series([], dtype="int64"),
                                        "record_b": pd.Series([], dtype="int64"),
                                        "title_a": pd.Series([], dtype=object),
                                        "title_b": pd.Series([], dtype=object)}), windowed)
    return Candidates(pd.concat(frames, ignore_index=True), windowed_blocks=windowed)


def scan_candidates(
    store: Store,
    new_ids: Sequence[int],
    consume: Callable[[pd.DataFrame], None],
    *,
    max_block: int = MAX_BLOCK,
    window: int = WINDOW,
    chunk: int = CANDIDATE_CHUNK,
) -> tuple[int, int]:
    """The candidate pairs of :func:`candidate_pairs`, handed to ``consume`` a bounded chunk
    at a time (record_a, record_b, title_a, title_b; in pair order). Returns (how many
    pairs, how many blocks were compared by sorted neighbourhood)."""
    if not new_ids:
        return 0, 0
    return store.dedup_candidate_pairs(new_ids, consume, max_block=max_block, window=window,
                                       chunk=chunk)


def hard_key_matches(
    store: Store, new_ids: Sequence[int]
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, PairScore]]]:
    """Links from shared PMID, DOI or PMCID involving at least one new record.

    Returns (links, doubtful): a DOI/PMCID shared by records with different PMIDs, or by a
    notice and an article, is doubtful and goes to the queue instead of linking. A shared
    PMID always links.
    """
    links: dict[tuple[int, int], str] = {}
    doubtful: dict[tuple[int, int], PairScore] = {}
    if not new_ids:
        return [], []
    # Rows come PMID first, then DOI, then PMCID: the strongest reason names a link.
    for attr, a, b, value, pmid_a, pmid_b, notice_a, notice_b, title_a, title_b in (
        store.dedup_shared_identifiers(new_ids)
    ):
        pair = (int(a), int(b))
        if pair in links:
            continue
        reason = None
        if attr != "pmid" and pmid_a and pmid_b and pmid_a != pmid_b:
            reason = f"same {attr.upper()} {value} but PMIDs {pmid_a}/{pmid_b}"
        elif attr != "pmid" and notice_a != notice_b:
            # One PMID is one PubMed citation whatever the titles say; a DOI on an
            # erratum and on its article is a database's mistake.
            reason = (f"same {attr.upper()} {value} but "
                      f"{notice_a or 'article'} vs {notice_b or 'article'}")
        if reason:
            sim = title_similarity(title_a or "", title_b or "")
            doubtful.setdefault(pair, PairScore(HIGH - 0.01, round(sim, 4), reason))
        else:
            links[pair] = attr
            doubtful.pop(pair, None)
    return (
        [(a, b, r) for (a, b), r in sorted(links.items())],
        [(a, b, s) for (a, b), s in sorted(doubtful.items())],
    )
