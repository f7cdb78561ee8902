"""Match keys: what dedup compares of one record (pure functions, no store).

A record's keys are its hard identifiers (PMID, normalised DOI, PMCID), its normalised
title, first-author surname, journal names/ISSNs, year and start page, whether it is a
notice about another article (erratum, retraction, comment ...) and its blocking keys (the
store adds a fingerprint of these: a record whose fingerprint is unchanged needs no
re-scoring).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

import pandas as pd

from ingest.normalise import first_author_key, normalise_doi, normalise_title, strip_diacritics
from registry.store.dedup import KEY_SEPARATOR

STOPWORDS = frozenset(
    "a an and are as at be by for from in into is of on or the to with without vs versus "
    "its their than that this these those via".split()
)
# Words of ASCII text never counted: stop words and every one-letter word it can have.
_SKIP_ASCII = STOPWORDS | frozenset(map(chr, range(128)))
_SEP = KEY_SEPARATOR

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
# All title patterns as one alternation (tried in order, like the list): one match call
# per title instead of thirteen.
_NOTICE_ANY = re.compile(
    "|".join(f"(?P<k{i}>{pattern.pattern})" for i, (pattern, _) in enumerate(_NOTICE_TITLE))
)
# What a notice title may start with before its first word, and that word's first letters.
_NOTICE_LEAD = " [(\"'\u201c"
_NOTICE_FIRST = frozenset("aceilnrw")
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


_KEY_FIELDS = tuple(f.name for f in fields(RecordKey))


def _s(value: Any) -> str | None:
    """A clean string or None (pandas gives NaN/NA/None for missing)."""
    if value.__class__ is str:  # the common case first: keying calls this for every field
        return value.strip() or None
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
    return [text for v in value if v is not None and (text := str(v)).strip()]


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
    if title.isascii() and title.lstrip(_NOTICE_LEAD)[:1].lower() not in _NOTICE_FIRST:
        return None  # most titles: no notice pattern starts with their first letter
    t = (title if title.isascii() else strip_diacritics(title)).casefold().lstrip(_NOTICE_LEAD)
    m = _NOTICE_ANY.match(t)
    return _NOTICE_TITLE[int(m.lastgroup[1:])][1] if m and m.lastgroup else None


def significant_words(title_norm: str) -> list[str]:
    """Title words that carry meaning (no stop words, no one-letter words)."""
    if title_norm.isascii():
        # One set lookup per word: the one-letter words of ASCII text are in _SKIP_ASCII.
        return [w for w in title_norm.split() if w not in _SKIP_ASCII]
    return [w for w in title_norm.split() if len(w) > 1 and w not in STOPWORDS]


def blocking_keys(title_norm: str) -> tuple[str, ...]:
    """Keys that put probable duplicates in one block: the first four and the last four
    significant words, the three longest words (and the prefixes of the four longest), and
    the words at even and at odd positions.
    One typo or one dropped word changes only some of them (a typo never both the even and
    the odd key), so a true pair still shares at least one key."""
    text = _blocks_text(title_norm)
    return tuple(text.split(KEY_SEPARATOR)) if text else ()


def _blocks_text(title_norm: str) -> str:
    """:func:`blocking_keys` in sorted order joined by KEY_SEPARATOR, as the store takes
    them (each key starts with its own letter, so the order is fixed: no set, no sort)."""
    words = significant_words(title_norm)
    if not words:
        return ""
    # Longest first, ties alphabetical (a stable sort on sorted words: C-level keys).
    ranked = sorted(sorted(words), key=len, reverse=True)
    longest = ranked[:3]
    # Equal words sit side by side in ``ranked``: the first three differ unless a
    # neighbour repeats (then take the first three distinct ones).
    if len(longest) == 3 and (longest[0] == longest[1] or longest[1] == longest[2]) or (
            len(longest) == 2 and longest[0] == longest[1]):
        longest = list(dict.fromkeys(ranked))[:3]
    longest.sort()
    first = words[:4]
    # One f-string per key list (one allocation, not a string per "+"); the even and odd
    # keys need three words.
    even_odd = len(words) > 2
    return (
        (f"e:{' '.join(words[0:10:2])}{_SEP}" if even_odd else "")
        + f"f:{' '.join(first)}{_SEP}"
        # Three-letter heads of the first four words survive a typo and a cut title.
        f"h:{' '.join([w[:3] for w in first])}{_SEP}"
        f"l:{' '.join(words[-4:])}{_SEP}"
        + (f"o:{' '.join(words[1:10:2])}{_SEP}" if even_odd else "")
        # Prefixes of the four longest words survive a late typo with a dropped word.
        + f"p:{' '.join(sorted([w[:4] for w in ranked[:4]]))}{_SEP}"
        f"s:{' '.join(longest)}"
    )


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


# A cluster's primary record is its most complete: key_columns counts PMID, DOI, PMCID,
# authors, year, publication types, journal, volume, issue, pages and these long fields
# (the store sends them as ``has_<name>`` flags; a plain mapping may hold the values).
_COMPLETENESS_FLAGS = ("abstract", "mesh_terms", "languages")


def _filled(value: Any) -> bool:
    """True for a non-empty value (text that is not blank, a list with items)."""
    if value is None or value is pd.NA:
        return False
    if isinstance(value, str):
        return bool(value) and not value.isspace()
    if isinstance(value, float):
        return value == value
    return True


def _has_items(value: Any) -> bool:
    """True for a non-blank text or a non-empty list (an abstract, MeSH terms ...)."""
    return _filled(value) and (isinstance(value, str) or len(value) > 0)


def _pmcid(value: str | None) -> str | None:
    if not value:
        return None
    pmcid = value.upper()
    return pmcid if pmcid.startswith("PMC") else "PMC" + pmcid


# Surnames repeat across records (the same teams publish again and again); the key of a
# name is worth remembering.
_author_key = lru_cache(maxsize=1 << 16)(first_author_key)


def make_key(row: Mapping[str, Any]) -> RecordKey:
    """Match keys of one record (a mapping with the ``records`` column names)."""
    return make_keys({name: [value] for name, value in row.items()})[0]


def make_keys(columns: Mapping[str, Sequence[Any]]) -> list[RecordKey]:
    """Match keys of a batch of records given column by column (see :func:`key_columns`)."""
    cols = key_columns(columns)
    for name in _LIST_COLUMNS:
        cols[name] = [tuple(v.split(KEY_SEPARATOR)) if v else () for v in cols[name]]
    return [RecordKey(*values) for values in zip(*cols.values(), strict=True)]


def key_columns(columns: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Match keys of a batch of records given column by column (``records`` column names;
    abstract, MeSH terms and languages may come as ``has_<name>`` flags), as the
    :class:`RecordKey` fields in order, ``journal_keys`` and ``blocks`` joined by
    :data:`KEY_SEPARATOR` (what ``Store.dedup_stage_keys`` takes). Each step runs over a
    whole column in one comprehension or ``map``, the cheapest loops Python has, and no
    per-record object is built: keying is most of a dedup run's work."""
    n = len(columns["record_id"])

    def text(name: str) -> list[str | None]:
        """A column through :func:`_s`, text (nearly every value) inline."""
        values = columns.get(name)
        if values is None:
            return [None] * n
        return [v.strip() or None if v.__class__ is str else _s(v) for v in values]

    def raw(name: str, default: Any = None) -> Sequence[Any]:
        values = columns.get(name)
        return [default] * n if values is None else values

    titles = [t or "" for t in text("title")]
    # The store sends the first author's name alone; a plain mapping may hold the list.
    authors = [[v] if v.__class__ is str else _list(v) for v in raw("authors")]
    pubtypes = list(map(_list, raw("publication_types")))
    pmids = text("pmid")
    dois, years = list(map(normalise_doi, text("doi"))), list(map(_int, raw("year")))
    norms = list(map(normalise_title, titles))
    firsts = [(_author_key(a[0]) or None) if a else None for a in authors]
    journals, pages = text("journal"), text("pages")
    # A text is filled when _s keeps it (not blank).
    filled = [(j is not None) + (v is not None) + (i is not None) + (p is not None)
              for j, v, i, p in zip(journals, text("volume"), text("issue"), pages,
                                    strict=True)]
    flags = [sum(t) for t in zip(*(
        map(bool, raw("has_" + f)) if "has_" + f in columns
        else map(_has_items, raw(f)) for f in _COMPLETENESS_FLAGS), strict=True)]
    pmcids = list(map(_pmcid, text("pmcid")))
    return {
        "record_id": list(map(int, raw("record_id"))),
        "source": [s or "" for s in text("source")],
        "identity": [sid or _content_identity(pmid, doi, norm, year, author) for sid, pmid, doi,
                     norm, year, author in zip(text("source_id"), pmids, dois, norms, years,
                                               firsts, strict=True)],
        "pmid": pmids, "doi": dois, "pmcid": pmcids, "title_norm": norms,
        "first_author": firsts,
        "journal_keys": list(map(_journal_text, journals, text("journal_abbrev"),
                                 text("issn"))),
        "year": years,
        "first_page": list(map(first_page, pages)),
        "notice": list(map(notice_kind, titles, pubtypes)),
        "blocks": list(map(_blocks_text, norms)),
        "completeness": [
            (pmid is not None) + (doi is not None) + (pmcid is not None) + (year is not None)
            + bool(a) + bool(pt) + fl + fg
            for pmid, doi, pmcid, year, a, pt, fl, fg in zip(
                pmids, dois, pmcids, years, authors, pubtypes, filled, flags, strict=True)
        ],
    }


@lru_cache(maxsize=65536)
def _journal_text(journal: str | None, abbrev: str | None, issn: str | None) -> str:
    return KEY_SEPARATOR.join(journal_keys(journal, abbrev, issn))


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


_LIST_COLUMNS = ("journal_keys", "blocks")
_INT_COLUMNS = ("record_id", "year", "completeness")


def columns_frame(columns: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Key columns (:func:`key_columns`) as the DataFrame ``Store.dedup_stage_keys`` takes."""
    return pd.DataFrame({
        c: pd.Series(columns[c], dtype="Int64" if c in _INT_COLUMNS else object)
        for c in _KEY_FIELDS
    })


def keys_frame(keys: Sequence[RecordKey]) -> pd.DataFrame:
    """RecordKeys as a DataFrame with the ``dedup_keys`` columns, key lists joined by
    :data:`~registry.store.dedup.KEY_SEPARATOR` (what ``Store.dedup_stage_keys`` takes)."""
    data: dict[str, list[Any]] = {c: [getattr(k, c) for k in keys] for c in _KEY_FIELDS}
    for c in _LIST_COLUMNS:
        data[c] = [KEY_SEPARATOR.join(v) for v in data[c]]
    return columns_frame(data)


def keys_from_rows(rows: Iterable[Sequence[Any]]) -> dict[int, RecordKey]:
    """Stored ``dedup_keys`` rows (the :class:`RecordKey` fields in order, key lists as
    lists) back as RecordKeys, by record id."""
    return {
        rid: RecordKey(rid, source, identity, pmid, doi, pmcid, title_norm or "", author,
                       tuple(jkeys or ()), year, page, notice, tuple(blocks or ()),
                       completeness)
        for (rid, source, identity, pmid, doi, pmcid, title_norm, author, jkeys, year, page,
             notice, blocks, completeness) in rows
    }
