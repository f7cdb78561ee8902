"""Deduplication across sources and runs.

Two records are the same work when they share a hard key (PMID, normalised DOI, PMCID) or,
failing that, when a fuzzy comparison of title, first author, year and journal scores above
:data:`HIGH`. Pairs scoring between :data:`LOW` and :data:`HIGH` (and hard-key matches that
look wrong, e.g. one DOI on two different PMIDs) go to a queue a person works through
(``registry dedup --review``). Linked records form clusters (connected components); each
cluster has one primary record: PubMed first, then the most complete, then the oldest.

Decisions are stored under the records' stable identities (source + accession number), so a
re-import never re-opens them, and a "not duplicate" decision keeps the two records apart
even when the links say otherwise (a cannot-link constraint in the union-find).

Incremental: only records that have no match keys yet (or whose source data changed) are
scored, against every record; rerunning with nothing new writes nothing.

Everything except :func:`deduplicate`, :func:`review_queue`, :func:`export_queue`,
:func:`import_decisions` and :func:`decide` is a pure function on keys.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ingest.normalise import first_author_key, normalise_doi, normalise_title, strip_diacritics
from registry import __version__
from registry.errors import InputError
from registry.store.dedup import DedupWrite

# Score thresholds: >= HIGH links automatically, [LOW, HIGH) goes to the queue. Chosen so a
# title differing only by case/punctuation/diacritics/one typo with the same first author
# links (score ~0.97-1.0), while a different subtitle or a missing author lands in between.
HIGH = 0.92
LOW = 0.80
# Below this title similarity a pair is never linked automatically, whatever else agrees.
MIN_TITLE_AUTO = 0.90
# A (block key, year) shared by more records than this says nothing about identity
# (e.g. "editorial"); it is skipped rather than compared all-against-all.
MAX_BLOCK = 200
# Titles with fewer significant words than this ("Editorial", "Reply") cannot identify a work.
SHORT_TITLE_WORDS = 4

STOPWORDS = frozenset(
    "a an and are as at be by for from in into is of on or the to with without vs versus "
    "its their than that this these those via".split()
)

# Notices about another article: an erratum/retraction/comment must never merge with the
# article it is about, even though its title usually repeats that article's title.
_NOTICE_TITLE = [
    (re.compile(r"^(erratum|errata|corrigendum|corrigenda|addendum)\b"), "erratum"),
    (re.compile(r"^correction(s| notice)?\s*(to|of|for|on)?\s*[:\-\u2013\u2014\"\u201c'\[(]"),
     "erratum"),
    (re.compile(r"^(notice of retraction|retraction note|retraction notice|retracted article)\b"),
     "retraction"),
    (re.compile(r"^(retraction|retracted)\s*(to|of|for|on)?\s*[:\-\u2013\u2014\"\u201c'\[(]"),
     "retraction"),
    (re.compile(r"^(editorial )?(expression|notice) of concern\b"), "concern"),
    (re.compile(r"^(withdrawn|withdrawal|notice of withdrawal)\s*[:\-\u2013\u2014\[(]"),
     "withdrawal"),
    (re.compile(r"^(comment|commentary)\s+(on|to)\b"), "comment"),
    (re.compile(r"^(comment|commentary)\s*[:\-\u2013\u2014]"), "comment"),
    (re.compile(r"^re\s*:"), "comment"),
    (re.compile(r"^(reply to|in reply to|in reply\b|authors?'?s?'? (reply|response)\b)"), "reply"),
    (re.compile(r"^(reply|response)\s*(to|on)?\s*[:\-\u2013\u2014\"\u201c\[(]"), "reply"),
    (re.compile(r"^(reply|response|answer) to (the |a )?(letter|comment|commentary|editor|"
                r"editorial|article|correspondence|critique)"), "reply"),
    (re.compile(r"^letter to the editor\b|^letter\s*[:\-\u2013\u2014]"), "comment"),
]
_NOTICE_PUBTYPE = {
    "published erratum": "erratum",
    "erratum": "erratum",
    "correction": "erratum",
    "retraction of publication": "retraction",
    "retraction notice": "retraction",
    "expression of concern": "concern",
}
_PAGE = re.compile(r"[A-Za-z]*\d+")
_ISSN = re.compile(r"\b\d{4}-?\d{3}[\dXx]\b")


# -- keys -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RecordKey:
    """What dedup compares: one record's match keys."""

    record_id: int
    source: str
    identity: str
    pmid: str | None = None
    doi: str | None = None
    pmcid: str | None = None
    title_norm: str = ""
    first_author: str | None = None
    journal_keys: tuple[str, ...] = ()
    year: int | None = None
    first_page: str | None = None
    notice: str | None = None
    blocks: tuple[str, ...] = ()
    completeness: int = 0
    fingerprint: str = ""


def _s(value: Any) -> str | None:
    """A clean string or None (pandas gives NaN/NA/None for missing)."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _list(value: Any) -> list[str]:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if v is not None and str(v).strip()]


def _int(value: Any) -> int | None:
    if value is None or value is pd.NA:
        return None
    try:
        if isinstance(value, float) and value != value:
            return None
        return int(value)
    except (TypeError, ValueError):
        return None


def notice_kind(title: str | None, publication_types: Iterable[str] = ()) -> str | None:
    """"erratum", "retraction", "concern", "withdrawal", "comment", "reply" when the record
    is a notice about another article, else None."""
    for pt in publication_types:
        kind = _NOTICE_PUBTYPE.get(pt.strip().casefold())
        if kind:
            return kind
    if not title:
        return None
    t = (title if title.isascii() else strip_diacritics(title)).casefold().lstrip(" [(\"'\u201c")
    for pattern, kind in _NOTICE_TITLE:
        if pattern.match(t):
            return kind
    return None


def significant_words(title_norm: str) -> list[str]:
    """Title words that carry meaning (no stop words, no one-letter words)."""
    return [w for w in title_norm.split() if len(w) > 1 and w not in STOPWORDS]


def blocking_keys(title_norm: str) -> tuple[str, ...]:
    """Keys that put probable duplicates in one block: the first four and the last four
    significant words, the three longest words (and the prefixes of the four longest), and
    the words at even and at odd positions.
    One typo or one dropped word changes only some of them (a typo never both the even and
    the odd key), so a true pair still shares at least one key."""
    words = significant_words(title_norm)
    if not words:
        return ()
    longest = sorted(set(words), key=lambda w: (-len(w), w))[:3]
    keys = {
        "f:" + " ".join(words[:4]),
        "l:" + " ".join(words[-4:]),
        "s:" + " ".join(sorted(longest)),
    }
    # Prefixes of the four longest words survive a late typo together with a dropped word.
    keys.add("p:" + " ".join(sorted(w[:4] for w in sorted(
        words, key=lambda w: (-len(w), w))[:4])))
    if len(words) > 2:
        keys.add("e:" + " ".join(words[0::2][:5]))
        keys.add("o:" + " ".join(words[1::2][:5]))
    return tuple(sorted(keys))


def first_page(pages: str | None) -> str | None:
    """Start page ("349-69" -> "349", "e1234" -> "e1234")."""
    if not pages:
        return None
    m = _PAGE.search(pages)
    if not m:
        return None
    return m.group(0).lower().lstrip("0") or None


@lru_cache(maxsize=65536)  # journal names repeat across records; normalising is the cost
def journal_keys(journal: str | None, abbrev: str | None, issn: str | None) -> tuple[str, ...]:
    """Normalised journal name and abbreviation plus ISSNs: two records share a journal
    when these sets overlap (databases spell journal names differently)."""
    out = {normalise_title(j) for j in (journal, abbrev) if j}
    for m in _ISSN.findall(issn or ""):
        out.add("issn:" + m.replace("-", "").upper())
    out.discard("")
    return tuple(sorted(out))


_COMPLETENESS_FIELDS = (
    "pmid", "doi", "pmcid", "abstract", "authors", "journal", "year", "volume", "issue",
    "pages", "publication_types", "mesh_terms", "languages",
)


def make_key(row: Mapping[str, Any]) -> RecordKey:
    """Match keys of one record (a mapping with the ``records`` column names)."""
    title = _s(row.get("title")) or ""
    authors = _list(row.get("authors"))
    pubtypes = _list(row.get("publication_types"))
    pmid = _s(row.get("pmid"))
    doi = normalise_doi(_s(row.get("doi")))
    pmcid = _s(row.get("pmcid"))
    pmcid = pmcid.upper() if pmcid else None
    if pmcid and not pmcid.startswith("PMC"):
        pmcid = "PMC" + pmcid
    year = _int(row.get("year"))
    title_norm = normalise_title(title)
    author = first_author_key(authors) or None
    jkeys = journal_keys(_s(row.get("journal")), _s(row.get("journal_abbrev")),
                         _s(row.get("issn")))
    page = first_page(_s(row.get("pages")))
    notice = notice_kind(title, pubtypes)
    completeness = 0
    for f in _COMPLETENESS_FIELDS:
        v = row.get(f)
        if f in ("authors", "publication_types", "mesh_terms", "languages"):
            completeness += v is not None and not isinstance(v, float) and len(v) > 0
        else:
            completeness += _s(v) is not None
    source = _s(row.get("source")) or ""
    identity = _s(row.get("source_id")) or _content_identity(pmid, doi, title_norm, year, author)
    basis = repr((source, identity, pmid, doi, pmcid, title_norm, author, jkeys, year, page,
                  notice, completeness))
    return RecordKey(
        record_id=int(row["record_id"]),
        source=source,
        identity=identity,
        pmid=pmid,
        doi=doi,
        pmcid=pmcid,
        title_norm=title_norm,
        first_author=author,
        journal_keys=jkeys,
        year=year,
        first_page=page,
        notice=notice,
        blocks=blocking_keys(title_norm),
        completeness=completeness,
        fingerprint=hashlib.sha1(basis.encode("utf-8")).hexdigest()[:20],
    )


def _content_identity(
    pmid: str | None, doi: str | None, title_norm: str, year: int | None, author: str | None
) -> str:
    """Identity for a record without an accession number (the records store normally gives
    one; this only matters for rows written by other means)."""
    if pmid:
        return f"pmid:{pmid}"
    if doi:
        return f"doi:{doi}"
    basis = f"{title_norm}|{year or ''}|{author or ''}"
    return "key:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:20]


def keys_frame(keys: Sequence[RecordKey]) -> pd.DataFrame:
    """RecordKeys as a DataFrame with the ``dedup_keys`` columns."""
    cols = [f.name for f in fields(RecordKey)]
    data: dict[str, Any] = {c: [getattr(k, c) for k in keys] for c in cols}
    frame = pd.DataFrame(
        {
            c: pd.Series(
                [list(v) for v in data[c]] if c in ("journal_keys", "blocks") else data[c],
                dtype="Int64" if c in ("record_id", "year", "completeness") else object,
            )
            for c in cols
        }
    )
    return frame


def keys_from_frame(frame: pd.DataFrame) -> dict[int, RecordKey]:
    """Stored ``dedup_keys`` rows back as RecordKeys, by record id (column-wise: this runs
    over every stored record on each incremental run)."""
    if frame.empty:
        return {}

    def col(name: str) -> list[Any]:
        return frame[name].astype(object).where(frame[name].notna(), None).tolist()

    out: dict[int, RecordKey] = {}
    for (rid, source, identity, pmid, doi, pmcid, title_norm, author, jkeys, year, page,
         notice, blocks, completeness, fingerprint) in zip(
            *(col(c) for c in ("record_id", "source", "identity", "pmid", "doi", "pmcid",
                               "title_norm", "first_author", "journal_keys", "year",
                               "first_page", "notice", "blocks", "completeness",
                               "fingerprint")), strict=True):
        rid = int(rid)
        out[rid] = RecordKey(
            record_id=rid,
            source=source,
            identity=identity,
            pmid=pmid,
            doi=doi,
            pmcid=pmcid,
            title_norm=title_norm or "",
            first_author=author,
            journal_keys=tuple(jkeys) if jkeys is not None else (),
            year=None if year is None else int(year),
            first_page=page,
            notice=notice,
            blocks=tuple(blocks) if blocks is not None else (),
            completeness=int(completeness),
            fingerprint=fingerprint,
        )
    return out


# -- scoring --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PairScore:
    """How alike two records are: ``score`` in [0, 1] and why."""

    score: float
    title_similarity: float
    why: str


def title_similarity(a: str, b: str) -> float:
    """Similarity of two normalised titles in [0, 1]: difflib's ratio (2·matches / total
    length), raised to 0.9 when one title is the other with a subtitle dropped."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(significant_words(short)) >= 6 and long_.startswith(short + " "):
        ratio = max(ratio, 0.9)
    return ratio


def _numbers(title_norm: str) -> set[str]:
    return {w for w in title_norm.split() if any(c.isdigit() for c in w)}


def score_pair(a: RecordKey, b: RecordKey) -> PairScore:
    """Fuzzy score of two records that share no hard key.

    Title similarity is the base; a matching first author, journal, year and start page
    add a little, a different first author takes a lot off (same-titled works by other
    people are common: "Editorial", protocols and their results papers). Conflicting DOIs
    or PMIDs cap the score below HIGH (a person decides); a notice never matches an
    article; years more than one apart never match.
    """
    if a.notice != b.notice:
        return PairScore(0.0, 0.0, f"notice {a.notice or 'article'} vs {b.notice or 'article'}")
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        return PairScore(0.0, 0.0, f"years {a.year} vs {b.year}")
    sim = title_similarity(a.title_norm, b.title_norm)
    score = sim
    why = [f"title {sim:.2f}"]
    if a.first_author and b.first_author:
        if a.first_author == b.first_author:
            score += 0.04
            why.append("same first author")
        elif SequenceMatcher(None, a.first_author, b.first_author).ratio() >= 0.8:
            why.append("similar first author")
        else:
            score -= 0.2
            why.append(f"first author {a.first_author} vs {b.first_author}")
    if a.year is not None and b.year is not None:
        if a.year == b.year:
            score += 0.02
        else:
            score -= 0.03
            why.append(f"years {a.year}/{b.year}")
    if a.journal_keys and b.journal_keys:
        if set(a.journal_keys) & set(b.journal_keys):
            score += 0.03
            why.append("same journal")
        else:
            score -= 0.04
            why.append("different journal")
    page_conflict = False
    if a.first_page and b.first_page:
        if a.first_page == b.first_page:
            score += 0.02
        else:
            score -= 0.1
            why.append(f"pages {a.first_page}/{b.first_page}")
            # Print pages that differ mean two articles (or a typo a person should see);
            # an e-locator against print pages is just two ways of citing one article.
            page_conflict = a.first_page.isdigit() and b.first_page.isdigit()
    # Agreement elsewhere cannot make up for a title that differs in substance
    # (a protocol and its results paper share authors, journal and often the year).
    cap = 1.0 if sim >= MIN_TITLE_AUTO else HIGH - 0.01
    id_conflict = False
    if a.doi and b.doi and a.doi != b.doi:
        id_conflict = True
        why.append("different DOIs")
    if a.pmid and b.pmid and a.pmid != b.pmid:
        id_conflict = True
        why.append("different PMIDs")
    if id_conflict and page_conflict:
        # Own identifier and own pages: two items published separately, not a copy.
        cap = 0.0
    elif id_conflict or page_conflict:
        cap = min(cap, HIGH - 0.01)
    na, nb = _numbers(a.title_norm), _numbers(b.title_norm)
    if na - nb and nb - na:
        # "... report, week 12" vs "week 13", "phase 2" vs "phase 3": typos rarely
        # change numbers, series titles differ only there.
        cap = min(cap, HIGH - 0.01)
        why.append("numbers in titles differ")
    if min(len(significant_words(a.title_norm)), len(significant_words(b.title_norm))) < (
        SHORT_TITLE_WORDS
    ):
        # A short title matches many works: it links on its own only when first author,
        # year, journal and start page all agree; with author and year alone a person
        # decides; otherwise it says nothing.
        why.append("short title")
        same_who_when = bool(a.first_author and a.first_author == b.first_author
                             and a.year == b.year)
        same_where = bool(set(a.journal_keys) & set(b.journal_keys)
                          and a.first_page and a.first_page == b.first_page)
        if not same_who_when or id_conflict:
            cap = 0.0
        elif not (same_where and sim >= 0.97):
            cap = min(cap, HIGH - 0.01)
    score = max(0.0, min(score, cap, 1.0))
    return PairScore(round(score, 4), round(sim, 4), "; ".join(why))


# -- candidates -----------------------------------------------------------------------------
def _block_rows(keys: Iterable[RecordKey], only: set[str] | None = None) -> pd.DataFrame:
    ids: list[int] = []
    blocks: list[str] = []
    years: list[int] = []
    for k in keys:
        y = -1 if k.year is None else k.year
        for b in k.blocks:
            if only is not None and b not in only:
                continue
            ids.append(k.record_id)
            blocks.append(b)
            years.append(y)
    return pd.DataFrame(
        {"record_id": pd.Series(ids, dtype="int64"), "block": pd.Series(blocks, dtype=object),
         "year": pd.Series(years, dtype="int64")}
    )


def candidate_pairs(
    keys: Mapping[int, RecordKey], new_ids: Iterable[int], *, max_block: int = MAX_BLOCK
) -> pd.DataFrame:
    """Pairs (record_a < record_b) sharing a blocking key with years at most one apart,
    at least one of them new. Vectorised: one merge of the new records' blocks (with
    year-1, year, year+1) against every record's blocks."""
    new = [keys[i] for i in new_ids if i in keys]
    empty = pd.DataFrame({"record_a": pd.Series([], dtype="int64"),
                          "record_b": pd.Series([], dtype="int64")})
    if not new:
        return empty
    left = _block_rows(new)
    # Only blocks a new record is in can yield a pair; sizes are still counted over every
    # record holding such a block.
    right = _block_rows(keys.values(), only=set(left["block"]))
    if right.empty:
        return empty
    size = right.groupby(["block", "year"])["record_id"].transform("size")
    right = right[size <= max_block]
    dated = left[left["year"] >= 0]
    undated = left[left["year"] < 0]
    parts = [
        dated.assign(year=dated["year"] + d) for d in (-1, 0, 1)
    ] + [dated.assign(year=-1)]
    probes = pd.concat(parts, ignore_index=True)
    merged = [probes.merge(right, on=["block", "year"], suffixes=("_l", "_r"))]
    if not undated.empty:
        merged.append(undated.drop(columns="year").merge(
            right.drop(columns="year"), on="block", suffixes=("_l", "_r")))
    pairs = pd.concat(merged, ignore_index=True)[["record_id_l", "record_id_r"]]
    pairs = pairs[pairs["record_id_l"] != pairs["record_id_r"]]
    a = pairs.min(axis=1)
    b = pairs.max(axis=1)
    out = pd.DataFrame({"record_a": a.astype("int64"), "record_b": b.astype("int64")})
    return out.drop_duplicates().sort_values(["record_a", "record_b"], ignore_index=True)


def hard_key_matches(
    keys: Mapping[int, RecordKey], new_ids: Iterable[int]
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, PairScore]]]:
    """Links from shared PMID, DOI or PMCID involving at least one new record.

    Returns (links, doubtful): a DOI/PMCID shared by records with different PMIDs, or by a
    notice and an article, is doubtful and goes to the queue instead of linking. A shared
    PMID always links.
    """
    new = set(new_ids)
    links: dict[tuple[int, int], str] = {}
    doubtful: dict[tuple[int, int], PairScore] = {}
    for attr in ("pmid", "doi", "pmcid"):
        wanted = {getattr(keys[i], attr) for i in new if i in keys} - {None, ""}
        if not wanted:
            continue
        groups: dict[str, list[int]] = {}
        for k in keys.values():
            v = getattr(k, attr)
            if v in wanted:
                groups.setdefault(v, []).append(k.record_id)
        for value, members in groups.items():
            if len(members) < 2 or not new.intersection(members):
                continue
            members.sort()
            for i, x in enumerate(members):
                for y in members[i + 1:]:
                    if x not in new and y not in new:
                        continue
                    pair = (x, y)
                    if pair in links:
                        continue
                    ka, kb = keys[x], keys[y]
                    reason = None
                    if attr != "pmid" and ka.pmid and kb.pmid and ka.pmid != kb.pmid:
                        reason = f"same {attr.upper()} {value} but PMIDs {ka.pmid}/{kb.pmid}"
                    elif attr != "pmid" and ka.notice != kb.notice:
                        # One PMID is one PubMed citation whatever the titles say; a DOI
                        # on an erratum and on its article is a database's mistake.
                        reason = (f"same {attr.upper()} {value} but "
                                  f"{ka.notice or 'article'} vs {kb.notice or 'article'}")
                    if reason:
                        sim = title_similarity(ka.title_norm, kb.title_norm)
                        doubtful.setdefault(pair, PairScore(HIGH - 0.01, round(sim, 4), reason))
                    else:
                        links[pair] = attr
                        doubtful.pop(pair, None)
    return (
        [(a, b, r) for (a, b), r in sorted(links.items())],
        [(a, b, s) for (a, b), s in sorted(doubtful.items())],
    )


# -- clusters -------------------------------------------------------------------------------
class _UnionFind:
    """Union-find with cannot-link constraints ("not duplicate" decisions)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.cannot: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def forbid(self, a: int, b: int) -> None:
        self.cannot.setdefault(self.find(a), set()).add(b)
        self.cannot.setdefault(self.find(b), set()).add(a)

    def forbidden(self, a: int, b: int) -> bool:
        """True when joining a and b would join two records a person kept apart."""
        ra, rb = self.find(a), self.find(b)
        ca, cb = self.cannot.get(ra, set()), self.cannot.get(rb, set())
        return any(self.find(x) == rb for x in ca) or any(self.find(x) == ra for x in cb)

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.forbidden(ra, rb):
            return False
        ca, cb = self.cannot.get(ra, set()), self.cannot.get(rb, set())
        if ra > rb:
            ra, rb = rb, ra
            ca, cb = cb, ca
        self.parent[rb] = ra
        if cb:
            self.cannot[ra] = ca | cb
            self.cannot.pop(rb, None)
        return True


def build_clusters(
    keys: Mapping[int, RecordKey],
    links: Iterable[tuple[int, int, str, float | None]],
    decisions: Iterable[tuple[int, int, str]],
) -> pd.DataFrame:
    """Clusters of two or more records: (record_id, cluster_id, is_primary).

    Unions are made strongest first (duplicate decisions, PMID, DOI, PMCID, then fuzzy
    links by score) and never join two records a person called "not duplicate".
    cluster_id is the smallest record id (stable as a cluster grows); the primary is
    PubMed first, then the most complete record, then the oldest.
    """
    uf = _UnionFind()
    edges: list[tuple[int, float, int, int]] = []
    for a, b, decision in decisions:
        if a in keys and b in keys:
            if decision == "not_duplicate":
                uf.forbid(a, b)
            else:
                edges.append((0, 0.0, a, b))
    rank = {"pmid": 1, "doi": 2, "pmcid": 3}
    for a, b, reason, score in links:
        if a in keys and b in keys:
            s = 0.0 if score is None or score != score else -float(score)
            edges.append((rank.get(reason, 4), s, a, b))
    edges.sort()
    for _, _, a, b in edges:
        uf.union(a, b)
    members: dict[int, set[int]] = {}
    for x in list(uf.parent):
        root = uf.find(x)
        members.setdefault(root, {root}).add(x)
    rows: list[tuple[int, int, bool]] = []
    for found in members.values():
        group = sorted(found)
        cid = group[0]
        primary = min(
            group, key=lambda r: (keys[r].source != "pubmed", -keys[r].completeness, r)
        )
        rows.extend((r, cid, r == primary) for r in group)
    rows.sort()
    return pd.DataFrame(
        {
            "record_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "cluster_id": pd.Series([r[1] for r in rows], dtype="int64"),
            "is_primary": pd.Series([r[2] for r in rows], dtype="bool"),
        }
    )


# -- orchestration --------------------------------------------------------------------------
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
    candidates: int = 0  # fuzzy candidate pairs scored
    stages: dict[str, float] = field(default_factory=dict)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _decision_pairs(
    decisions: Iterable[Mapping[str, Any]], keys: Mapping[int, RecordKey]
) -> list[tuple[int, int, str]]:
    by_identity: dict[tuple[str, str], list[int]] = {}
    for k in keys.values():
        by_identity.setdefault((k.source, k.identity), []).append(k.record_id)
    out = []
    for d in decisions:
        for a in by_identity.get((d["source_a"], d["identity_a"]), []):
            for b in by_identity.get((d["source_b"], d["identity_b"]), []):
                if a != b:
                    out.append((min(a, b), max(a, b), str(d["decision"])))
    return out


def deduplicate(
    store: Any, review: str | None = None, *, progress: Callable[[str], None] | None = None
) -> DedupResult:
    """Find duplicates among records not examined before (incremental) and update clusters.

    ``review`` limits which new records are examined to those the review's runs brought
    in (they are compared against every record already in the dedup index). One
    transaction writes keys, links, queued pairs, clusters and the run log; with nothing
    new nothing is written.
    """
    t0 = time.perf_counter()
    stages: dict[str, float] = {}
    say = progress or (lambda _msg: None)

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        stages[name] = round(now - since, 3)
        return now

    say("reading records")
    started = _now()
    to_key = store.dedup_records_to_key(review)
    dropped = store.dedup_dropped()
    t = lap("read", t0)

    say(f"computing match keys for {len(to_key)} records")
    fresh: list[RecordKey] = []
    bumped: list[RecordKey] = []
    rekeyed: list[int] = []
    for row in to_key.to_dict("records"):
        k = make_key(row)
        old = row.get("old_fingerprint")
        if _s(old) is None:
            fresh.append(k)
        elif old == k.fingerprint:
            bumped.append(k)  # updated upstream, nothing dedup looks at changed
        else:
            fresh.append(k)
            rekeyed.append(k.record_id)
    t = lap("keys", t)
    decisions_new = store.dedup_decisions_since_last_run()
    if not (fresh or bumped or dropped or decisions_new):
        # Nothing new since the last run: nothing to compare, nothing to write.
        n_clusters, n_dup = store.dedup_cluster_stats()
        return DedupResult(
            examined=0, hard_links=0, fuzzy_links=0, queued=0, dropped=0,
            clusters=n_clusters, duplicates=n_dup, pending=store.dedup_pending_count(),
            changed=False, seconds=round(time.perf_counter() - t0, 3), stages=stages,
        )

    say("loading the dedup index")
    keys = keys_from_frame(store.dedup_keys_frame())
    gone = set(dropped) | set(rekeyed)
    for rid in gone:
        keys.pop(rid, None)
    for k in fresh:
        keys[k.record_id] = k
    new_ids = [k.record_id for k in fresh]
    links_df = store.dedup_links_frame()
    if len(links_df) and gone:
        touch = links_df["record_a"].isin(gone) | links_df["record_b"].isin(gone)
        links_df = links_df[~touch]
    old_links = [
        (int(a), int(b), str(r), None if s is None or s != s else float(s))
        for a, b, r, s in links_df.itertuples(index=False)
    ]
    decided = _decision_pairs(store.dedup_decisions(), keys)
    decided_set = {(a, b) for a, b, _ in decided}
    t = lap("load", t)

    say("matching hard keys (PMID, DOI, PMCID)")
    hard, doubtful = hard_key_matches(keys, new_ids)
    t = lap("hard", t)

    # Components so far: pairs already joined need no fuzzy scoring.
    uf = _UnionFind()
    for a, b, _, _ in old_links:
        uf.union(a, b)
    for a, b, _ in hard:
        uf.union(a, b)
    for a, b, d in decided:
        if d == "duplicate":
            uf.union(a, b)

    say("blocking")
    cands = candidate_pairs(keys, new_ids)
    t = lap("block", t)
    say(f"scoring {len(cands)} candidate pairs")
    fuzzy: list[tuple[int, int, float]] = []
    queue: list[tuple[int, int, PairScore]] = []
    hard_pairs = {(a, b) for a, b, _ in hard}
    for a, b in cands.itertuples(index=False):
        a, b = int(a), int(b)
        if (a, b) in decided_set or (a, b) in hard_pairs or uf.find(a) == uf.find(b):
            continue
        ka, kb = keys[a], keys[b]
        ta, tb = ka.title_norm, kb.title_norm
        la, lb = len(ta), len(tb)
        if not la or not lb or min(la, lb) / max(la, lb) < 0.5:
            continue
        sa, sb = set(ta.split()), set(tb.split())
        if len(sa & sb) / len(sa | sb) < 0.3:
            continue
        ps = score_pair(ka, kb)
        if ps.score >= HIGH:
            fuzzy.append((a, b, ps.score))
        elif ps.score >= LOW:
            queue.append((a, b, ps))
    for a, b, ps in doubtful:
        if (a, b) not in decided_set:
            queue.append((a, b, ps))
    t = lap("score", t)

    say("building clusters")
    all_links = old_links + [(a, b, r, None) for a, b, r in hard] + [
        (a, b, "fuzzy", s) for a, b, s in fuzzy
    ]
    clusters = build_clusters(keys, all_links, decided)
    stored = store.dedup_clusters_frame()
    clusters_changed = not _same_clusters(clusters, stored)
    t = lap("cluster", t)

    n_dup = int((~clusters["is_primary"]).sum()) if len(clusters) else 0
    n_clusters = int(clusters["cluster_id"].nunique()) if len(clusters) else 0
    changed = bool(fresh or bumped or dropped or clusters_changed or decisions_new)
    if changed:
        say("saving")
        links_out = pd.DataFrame(
            [(a, b, r, None) for a, b, r in hard] + [(a, b, "fuzzy", s) for a, b, s in fuzzy],
            columns=["record_a", "record_b", "reason", "score"],
        )
        pairs_out = pd.DataFrame(
            [(a, b, ps.score, ps.title_similarity, ps.why) for a, b, ps in queue],
            columns=["record_a", "record_b", "score", "title_similarity", "why"],
        )
        store.save_dedup(
            DedupWrite(
                dropped=sorted(dropped),
                rekeyed=sorted(rekeyed),
                keys=keys_frame(fresh + bumped),
                links=links_out,
                pairs=pairs_out,
                clusters=clusters if clusters_changed else None,
                run={
                    "started_at": started,
                    "finished_at": _now(),
                    "records_examined": len(fresh),
                    "hard_links": len(hard),
                    "fuzzy_links": len(fuzzy),
                    "pairs_queued": len(queue),
                    "records_dropped": len(dropped),
                    "duplicates": n_dup,
                    "tool_version": __version__,
                },
            )
        )
        t = lap("save", t)
    pending = store.dedup_pending_count()
    return DedupResult(
        examined=len(fresh),
        hard_links=len(hard),
        fuzzy_links=len(fuzzy),
        queued=len(queue),
        dropped=len(dropped),
        clusters=n_clusters,
        duplicates=n_dup,
        pending=pending,
        changed=changed,
        seconds=round(time.perf_counter() - t0, 3),
        candidates=len(cands),
        stages=stages,
    )


def _same_clusters(new: pd.DataFrame, old: pd.DataFrame) -> bool:
    if len(new) != len(old):
        return False
    a = set(zip(new["record_id"].astype(int), new["cluster_id"].astype(int),
                new["is_primary"].astype(bool), strict=True))
    b = set(zip(old["record_id"].astype(int), old["cluster_id"].astype(int),
                old["is_primary"].astype(bool), strict=True))
    return a == b


def prisma_identification(store: Any, review: str | None = None) -> dict[str, Any]:
    """PRISMA identification counts (see ``Store.prisma_identification``)."""
    return store.prisma_identification(review)


# -- decisions: interactive, one at a time, or from a file ----------------------------------
DECISION_KEYS = {"d": "duplicate", "n": "not_duplicate"}


@dataclass(frozen=True)
class ReviewSummary:
    """Outcome of a pass through the uncertain-pair queue."""

    duplicate: int
    not_duplicate: int
    skipped: int
    remaining: int
    quit: bool
    result: DedupResult | None = None


def decide(
    store: Any, record_a: int, record_b: int, decision: str, *, decided_by: str
) -> DedupResult:
    """Record one verdict on a pair and update the clusters."""
    store.record_dedup_decisions([(record_a, record_b, decision)], decided_by=decided_by)
    return deduplicate(store)


def review_queue(
    store: Any,
    ask: Callable[[dict[str, Any], int, int], str],
    *,
    decided_by: str,
) -> ReviewSummary:
    """Walk the uncertain pairs, highest score first. ``ask(pair, position, total)``
    returns "d" (duplicate), "n" (not duplicate), "s" (skip) or "q" (quit). Each verdict
    is saved at once (quitting keeps what was decided); clusters are updated at the end."""
    pairs = store.dedup_pending()
    counts = {"d": 0, "n": 0, "s": 0}
    quit_ = False
    # Clusters are rebuilt once at the end; meanwhile track this session's verdicts on
    # clusters so a pair made moot by an earlier answer is not asked.
    session = _UnionFind()
    for i, pair in enumerate(pairs, start=1):
        ca, cb = session.find(int(pair["cluster_a"])), session.find(int(pair["cluster_b"]))
        if ca == cb or session.forbidden(ca, cb):
            continue
        answer = ask(pair, i, len(pairs)).strip().lower()[:1]
        if answer == "q":
            quit_ = True
            break
        if answer in DECISION_KEYS:
            store.record_dedup_decisions(
                [(pair["record_id_a"], pair["record_id_b"], DECISION_KEYS[answer])],
                decided_by=decided_by,
            )
            counts[answer] += 1
            if answer == "d":
                session.union(ca, cb)
            else:
                session.forbid(ca, cb)
        else:
            counts["s"] += 1
    result = deduplicate(store) if counts["d"] or counts["n"] else None
    return ReviewSummary(
        duplicate=counts["d"],
        not_duplicate=counts["n"],
        skipped=counts["s"],
        remaining=store.dedup_pending_count(),
        quit=quit_,
        result=result,
    )


QUEUE_COLUMNS = (
    "source_a", "identity_a", "source_b", "identity_b", "decision", "note", "score", "why",
    "title_a", "title_b", "first_author_a", "first_author_b", "year_a", "year_b",
    "journal_a", "journal_b", "doi_a", "doi_b", "pmid_a", "pmid_b", "record_id_a",
    "record_id_b",
)


def export_queue(store: Any, path: str | Path) -> int:
    """Write the pending pairs to a CSV a person fills in (column ``decision``:
    duplicate / not_duplicate, or d / n; empty = undecided). Returns the pair count."""
    pairs = store.dedup_pending()
    p = Path(path)
    try:
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(QUEUE_COLUMNS))
            w.writeheader()
            for pair in pairs:
                row = {
                    "decision": "",
                    "note": "",
                    "score": pair["score"],
                    "why": pair["why"],
                    "identity_a": pair["identity_a"],
                    "identity_b": pair["identity_b"],
                }
                for s in ("a", "b"):
                    authors = _list(pair[f"authors_{s}"])
                    row.update({
                        f"source_{s}": pair[f"source_{s}"],
                        f"title_{s}": pair[f"title_{s}"],
                        f"first_author_{s}": authors[0] if authors else "",
                        f"year_{s}": "" if pair[f"year_{s}"] is None else pair[f"year_{s}"],
                        f"journal_{s}": pair[f"journal_{s}"] or "",
                        f"doi_{s}": pair[f"doi_{s}"] or "",
                        f"pmid_{s}": pair[f"pmid_{s}"] or "",
                        f"record_id_{s}": pair[f"record_id_{s}"],
                    })
                w.writerow(row)
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc}") from exc
    return len(pairs)


_DECISION_WORDS = {
    "d": "duplicate", "duplicate": "duplicate", "dup": "duplicate", "yes": "duplicate",
    "n": "not_duplicate", "not_duplicate": "not_duplicate", "not duplicate": "not_duplicate",
    "no": "not_duplicate",
}


@dataclass(frozen=True)
class ImportSummary:
    """Outcome of :func:`import_decisions`."""

    decided: int
    undecided: int
    result: DedupResult | None


def import_decisions(store: Any, path: str | Path, *, decided_by: str) -> ImportSummary:
    """Read verdicts from a CSV written by :func:`export_queue` (pairs are matched by
    source + identity, so the file stays valid after a re-import). Any bad row -> InputError
    naming file, row and column, and nothing is stored."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            need = ("source_a", "identity_a", "source_b", "identity_b", "decision")
            missing = [c for c in need if c not in header]
            if missing:
                raise InputError(f"{p}: missing column(s) {', '.join(missing)}")
            rows = list(enumerate(reader, start=2))
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{p}: not a readable CSV file ({exc})") from exc
    problems: list[str] = []
    out: list[tuple[str, str, str, str, str, str | None]] = []
    idents: list[tuple[str, str]] = []
    undecided = 0
    for line, row in rows:
        raw = (row.get("decision") or "").strip().lower()
        if not raw:
            undecided += 1
            continue
        decision = _DECISION_WORDS.get(raw)
        if decision is None:
            problems.append(
                f"{p}: row {line}, column decision: {raw!r} is not duplicate/not_duplicate/d/n"
            )
            continue
        vals = [(row.get(c) or "").strip() for c in need[:4]]
        if not all(vals):
            problems.append(f"{p}: row {line}: source_a/identity_a/source_b/identity_b empty")
            continue
        sa, ia, sb, ib = vals
        idents += [(sa, ia), (sb, ib)]
        note = (row.get("note") or "").strip() or None
        out.append((sa, ia, sb, ib, decision, note))
    known = store.dedup_identities_known(idents)
    for line, row in rows:
        for s in ("a", "b"):
            ident = ((row.get(f"source_{s}") or "").strip(),
                     (row.get(f"identity_{s}") or "").strip())
            if (row.get("decision") or "").strip() and all(ident) and ident not in known:
                problems.append(
                    f"{p}: row {line}, columns source_{s}/identity_{s}: no record "
                    f"{ident[0]}:{ident[1]} in the dedup index"
                )
    if problems:
        raise InputError(f"{p}: {len(problems)} problem(s)\n" + "\n".join(problems))
    if not out:
        return ImportSummary(0, undecided, None)
    store.record_dedup_decisions_by_identity(out, decided_by=decided_by)
    return ImportSummary(len(out), undecided, deduplicate(store))


# -- entry points for the command line (open the registry, call one function) ---------------
def _open(db: str | Path | None) -> Any:
    from registry.store import open_store

    return open_store(db)


def _who(decided_by: str | None) -> str:
    if decided_by:
        return decided_by
    from registry.config import curator

    return curator()


def run_dedup(
    db: str | Path | None,
    review: str | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> tuple[DedupResult, dict[str, Any]]:
    """``registry dedup``: deduplicate, then the PRISMA identification counts."""
    with _open(db) as store:
        result = deduplicate(store, review, progress=progress)
        return result, store.prisma_identification(review)


def run_review(
    db: str | Path | None,
    ask: Callable[[dict[str, Any], int, int], str],
    *,
    decided_by: str | None = None,
) -> ReviewSummary:
    """``registry dedup --review``: bring the index up to date, then walk the queue."""
    with _open(db) as store:
        deduplicate(store)
        return review_queue(store, ask, decided_by=_who(decided_by))


def run_export(db: str | Path | None, path: str | Path) -> int:
    """``registry dedup --export-queue CSV``: bring the index up to date, write the queue."""
    with _open(db) as store:
        deduplicate(store)
        return export_queue(store, path)


def run_import(
    db: str | Path | None, path: str | Path, *, decided_by: str | None = None
) -> ImportSummary:
    """``registry dedup --import-decisions CSV``: store the verdicts, update clusters."""
    with _open(db) as store:
        deduplicate(store)
        return import_decisions(store, path, decided_by=_who(decided_by))
