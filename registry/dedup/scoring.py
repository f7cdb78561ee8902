"""Pair scoring: how alike two records are that share no hard key.

Title similarity is rapidfuzz's normalised InDel similarity (2·LCS / total length, which
difflib's ``SequenceMatcher.ratio`` approximates with a heuristic), computed for
all candidate pairs at once with :func:`rapidfuzz.process.cpdist` on all cores. Only pairs
whose titles are close enough to reach the queue threshold are scored in full by
:func:`score_pair` (first author, year, journal, pages, identifiers, notices, series).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel

from registry.dedup.keys import RecordKey, significant_words

# Score thresholds: >= HIGH links automatically, [LOW, HIGH) goes to the queue. Chosen so a
# title differing only by case/punctuation/diacritics/one typo with the same first author
# links (score ~0.97-1.0), while a different subtitle or a missing author lands in between.
HIGH = 0.92
LOW = 0.80
# Below this title similarity a pair is never linked automatically, whatever else agrees.
MIN_TITLE_AUTO = 0.90
# Titles with fewer significant words than this ("Editorial", "Reply") cannot identify a work.
SHORT_TITLE_WORDS = 4
# Titles at least this alike differ only by a typo, case or punctuation.
NEAR_IDENTICAL = 0.95
# Agreement on author, year, journal and page adds at most 0.11 to the title similarity,
# so a pair whose titles are less alike than LOW - 0.11 can never reach the queue.
SIM_FLOOR = LOW - 0.11
# A cut title or a dropped subtitle: the shorter title (at least this many significant
# words and characters: fewer say too little) matches the start of the longer one this
# closely (a typo allowed) ...
TRUNCATED_MIN_WORDS = SHORT_TITLE_WORDS
TRUNCATED_MIN_CHARS = 30
TRUNCATED_MIN_SIMILARITY = 0.95
# ... and then counts as this similar (links only when first author and year agree).
TRUNCATED_SIMILARITY = 0.9
# Words in the part a longer title adds that make it a different work, not a subtitle a
# database dropped (a protocol and its results, a trial and its follow-up).
COMPANION_TAIL = frozenset(
    "part protocol followup follow secondary extension rationale design update substudy "
    "interim erratum correction reply comment".split()
)
# "Part 1" / "Part II" / "Paper two": companion papers that share everything else.
_SERIES = re.compile(
    r"\b(part|paper|phase|chapter|section|volume|vol|series|stage|wave|round|experiment)\s+"
    r"(\d+|[ivx]+|one|two|three|four|five|six|seven|eight|nine|ten|[a-h])\b"
)
_DIGIT = re.compile(r"\d")
_ROMAN = frozenset("i ii iii iv v vi vii viii ix".split())
# Words an ISO journal abbreviation leaves out ("J Cataract Refract Surg" is "Journal of
# Cataract and Refractive Surgery"), in the languages PubMed journals are named in.
_JOURNAL_SKIP = frozenset("of the and for in on e y de del der des du et fur la le und".split())
_BELOW_HIGH = HIGH - 0.01


@dataclass(frozen=True, slots=True)
class PairScore:
    """How alike two records are: ``score`` in [0, 1] and why."""

    score: float
    title_similarity: float
    why: str


def _truncated(short: str, long_: str, start_similarity: float) -> bool:
    """True when ``short`` is ``long_`` cut short (or with its subtitle dropped)."""
    if start_similarity < TRUNCATED_MIN_SIMILARITY:
        return False
    if len(short) < TRUNCATED_MIN_CHARS or len(significant_words(short)) < TRUNCATED_MIN_WORDS:
        return False
    return not COMPANION_TAIL.intersection(long_[len(short):].split())


def title_similarity(a: str, b: str) -> float:
    """Similarity of two normalised titles in [0, 1]: normalised InDel similarity, raised
    to :data:`TRUNCATED_SIMILARITY` when one title is the other cut short (truncated by a
    database, or with its subtitle dropped). Same value as :func:`title_similarities`."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = Indel.normalized_similarity(a, b)
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if ratio < TRUNCATED_SIMILARITY:
        start = Indel.normalized_similarity(short, long_[: len(short)])
        if _truncated(short, long_, start):
            return TRUNCATED_SIMILARITY
    return ratio


def title_similarities(a: Sequence[str], b: Sequence[str], *, workers: int = -1) -> np.ndarray:
    """:func:`title_similarity` of ``a[i]`` and ``b[i]`` for every i, vectorised."""
    n = len(a)
    if n == 0:
        return np.zeros(0)
    sims = process.cpdist(a, b, scorer=Indel.normalized_similarity, workers=workers)
    sims = np.asarray(sims, dtype=float)
    la = np.fromiter(map(len, a), dtype=np.int64, count=n)
    lb = np.fromiter(map(len, b), dtype=np.int64, count=n)
    sims[(la == 0) | (lb == 0)] = 0.0
    # Only a pair below the raised value with a long enough shorter title can be a cut copy.
    long_enough = np.minimum(la, lb) >= TRUNCATED_MIN_CHARS
    maybe = np.nonzero((sims < TRUNCATED_SIMILARITY) & long_enough)[0]
    if len(maybe):
        shorts = [a[i] if la[i] <= lb[i] else b[i] for i in maybe]
        longs = [b[i] if la[i] <= lb[i] else a[i] for i in maybe]
        heads = [lg[: len(s)] for s, lg in zip(shorts, longs, strict=True)]
        start = process.cpdist(shorts, heads, scorer=Indel.normalized_similarity,
                               workers=workers)
        for j in np.nonzero(np.asarray(start) >= TRUNCATED_MIN_SIMILARITY)[0]:
            if _truncated(shorts[j], longs[j], float(start[j])):
                sims[maybe[j]] = TRUNCATED_SIMILARITY
    return sims


class _TitleFacts(NamedTuple):
    """What the guards and caps read off a normalised title."""

    series: frozenset[tuple[str, str]]  # "part 1", "phase ii" ...
    numbers: frozenset[str]  # number-like words (digits or roman numerals)
    numbers_cut: frozenset[str]  # the same without the last word (a cut title)
    significant: int  # how many significant words


def _facts(title_norm: str) -> _TitleFacts:
    """The title's series labels, its numbers (all, and without the last word: a title cut
    short may end in part of a number, "13" cut to "1"), its significant word count."""
    words = title_norm.split()
    if _DIGIT.search(title_norm):
        numbers = [w for w in words if w in _ROMAN or _DIGIT.search(w)]
    else:  # most titles: only roman numerals can be number-like
        numbers = [w for w in words if w in _ROMAN]
    every = frozenset(numbers)
    # When the last word is number-like it is the last of ``numbers``.
    cut = frozenset(numbers[:-1]) if numbers and numbers[-1] == words[-1] else every
    return _TitleFacts(frozenset(_SERIES.findall(title_norm)), every, cut,
                       len(significant_words(title_norm)))


@lru_cache(maxsize=65536)  # journal names repeat across pairs
def _abbreviates(short: str, full: str) -> bool:
    """True when ``short`` is an abbreviation of ``full``: each of its words begins the
    corresponding significant word of ``full`` (later words of ``full`` may follow: "Science
    (New York, N.Y.)")."""
    sw = short.split()
    fw = [w for w in full.split() if w not in _JOURNAL_SKIP]
    if not sw or len(sw) > len(fw) or short.startswith("issn:") or full.startswith("issn:"):
        return False
    return all(f.startswith(s) for s, f in zip(sw, fw, strict=False))


def journals_agree(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two records' journal keys name one journal: a shared name, abbreviation or ISSN, or
    one's abbreviation abbreviates the other's full name."""
    if set(a) & set(b):
        return True
    return any(_abbreviates(x, y) or _abbreviates(y, x) for x in a for y in b)


def _guard(a: RecordKey, b: RecordKey, fa: _TitleFacts, fb: _TitleFacts) -> PairScore | None:
    """A zero score for pairs that are never one work, else None."""
    if a.notice != b.notice:
        return PairScore(0.0, 0.0, f"notice {a.notice or 'article'} vs {b.notice or 'article'}")
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        return PairScore(0.0, 0.0, f"years {a.year} vs {b.year}")
    sa, sb = fa.series, fb.series
    if sa and sb and sa != sb:
        # "Part 1" and "Part 2" of one study: companion papers, never copies.
        return PairScore(0.0, 0.0, "companion papers (" + " / ".join(
            " ".join(sorted(" ".join(x) for x in s)) for s in (sa, sb)) + ")")
    return None


def _agreement(a: RecordKey, b: RecordKey, why: list[str]) -> tuple[float, bool]:
    """Score adjustment from first author, year, journal and start page, and whether the
    print pages conflict."""
    delta = 0.0
    if a.first_author and b.first_author:
        if a.first_author == b.first_author:
            delta += 0.04
            why.append("same first author")
        elif Indel.normalized_similarity(a.first_author, b.first_author) >= 0.8:
            why.append("similar first author")
        else:
            delta -= 0.2
            why.append(f"first author {a.first_author} vs {b.first_author}")
    if a.year is not None and b.year is not None:
        if a.year == b.year:
            delta += 0.02
        else:
            delta -= 0.03
            why.append(f"years {a.year}/{b.year}")
    if a.journal_keys and b.journal_keys:
        if journals_agree(a.journal_keys, b.journal_keys):
            delta += 0.03
            why.append("same journal")
        else:
            delta -= 0.04
            why.append("different journal")
    page_conflict = False
    if a.first_page and b.first_page:
        if a.first_page == b.first_page:
            delta += 0.02
        else:
            delta -= 0.1
            why.append(f"pages {a.first_page}/{b.first_page}")
            # Print pages that differ mean two articles (or a typo a person should see);
            # an e-locator against print pages is just two ways of citing one article.
            page_conflict = a.first_page.isdigit() and b.first_page.isdigit()
    return delta, page_conflict


def _cap(a: RecordKey, b: RecordKey, fa: _TitleFacts, fb: _TitleFacts, sim: float,
         page_conflict: bool, why: list[str]) -> float:
    """The highest score the pair may reach whatever else agrees."""
    # Agreement elsewhere cannot make up for a title that differs in substance
    # (a protocol and its results paper share authors, journal and often the year).
    cap = 1.0 if sim >= MIN_TITLE_AUTO else _BELOW_HIGH
    if sim < NEAR_IDENTICAL and not (a.first_author and a.first_author == b.first_author):
        # A cut or reworded title links only when the first author agrees too.
        cap = _BELOW_HIGH
    id_conflict = False
    if a.doi and b.doi and a.doi != b.doi:
        id_conflict = True
        why.append("different DOIs")
    if a.pmid and b.pmid and a.pmid != b.pmid:
        id_conflict = True
        why.append("different PMIDs")
    if id_conflict and page_conflict:
        # Own identifier and own pages: two items published separately, not a copy.
        return 0.0
    if id_conflict or page_conflict:
        cap = min(cap, _BELOW_HIGH)
    # A title cut short may end in part of a number: its last word does not count.
    cut = sim == TRUNCATED_SIMILARITY and len(a.title_norm) != len(b.title_norm)
    short_is_a = len(a.title_norm) < len(b.title_norm)
    na = fa.numbers_cut if cut and short_is_a else fa.numbers
    nb = fb.numbers_cut if cut and not short_is_a else fb.numbers
    if (na - nb and nb - na) or bool(fa.series) != bool(fb.series):
        # "... week 12" vs "week 13", "phase 2" vs "phase 3", "Part 1" vs no part: typos
        # rarely change numbers, series titles differ only there.
        cap = min(cap, _BELOW_HIGH)
        why.append("numbers in titles differ")
    if min(fa.significant, fb.significant) < SHORT_TITLE_WORDS:
        # A short title matches many works: it links on its own only when first author,
        # year, journal and start page all agree; with author and year alone a person
        # decides; otherwise it says nothing.
        why.append("short title")
        same_who_when = bool(a.first_author and a.first_author == b.first_author
                             and a.year == b.year)
        same_where = bool(journals_agree(a.journal_keys, b.journal_keys)
                          and a.first_page and a.first_page == b.first_page)
        if not same_who_when or id_conflict:
            cap = 0.0
        elif not (same_where and sim >= 0.97):
            cap = min(cap, _BELOW_HIGH)
    return cap


def score_pair(a: RecordKey, b: RecordKey, sim: float | None = None) -> PairScore:
    """Fuzzy score of two records that share no hard key.

    Title similarity (``sim`` when already computed) is the base; a matching first
    author, journal, year and start page add a little, a different first author takes a
    lot off (same-titled works by other people are common: "Editorial", protocols and
    their results papers). Conflicting DOIs or PMIDs cap the score below HIGH (a person
    decides); a notice never matches an article; years more than one apart never match;
    "Part 1" never matches "Part 2".
    """
    return _score(a, b, _facts(a.title_norm), _facts(b.title_norm), sim)


def _score(a: RecordKey, b: RecordKey, fa: _TitleFacts, fb: _TitleFacts,
           sim: float | None) -> PairScore:
    """:func:`score_pair` with the two titles' facts already read."""
    guard = _guard(a, b, fa, fb)
    if guard is not None:
        return guard
    if sim is None:
        sim = title_similarity(a.title_norm, b.title_norm)
    why = [f"title {sim:.2f}"]
    delta, page_conflict = _agreement(a, b, why)
    cap = _cap(a, b, fa, fb, sim, page_conflict, why)
    score = max(0.0, min(sim + delta, cap, 1.0))
    return PairScore(round(score, 4), round(sim, 4), "; ".join(why))


def close_candidates(
    title_a: Sequence[str], title_b: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the candidate pairs whose titles are alike enough to reach the queue
    whatever else agrees (similarity >= :data:`SIM_FLOOR`), and their similarities. All
    pairs are compared at once, vectorised."""
    sims = title_similarities(title_a, title_b)
    close = np.nonzero(sims >= SIM_FLOOR)[0]
    return close, sims[close]


def score_candidates(
    keys: Mapping[int, RecordKey], record_a: np.ndarray, record_b: np.ndarray, sims: np.ndarray
) -> list[tuple[int, int, PairScore]]:
    """Full scores of candidate pairs whose title similarities ``sims`` are known (see
    :func:`close_candidates`), kept when they can reach the queue (score >= LOW). Each
    title's facts are read once, however many pairs its record is in."""
    ids = set(record_a.tolist()) | set(record_b.tolist())
    facts = {rid: _facts(keys[rid].title_norm) for rid in ids}
    out: list[tuple[int, int, PairScore]] = []
    for a, b, sim in zip(record_a.tolist(), record_b.tolist(), sims.tolist(), strict=True):
        ps = _score(keys[a], keys[b], facts[a], facts[b], sim)
        if ps.score >= LOW:
            out.append((a, b, ps))
    return out
