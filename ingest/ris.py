"""RIS exports (Embase, Web of Science, Cochrane CENTRAL, Zotero, EndNote) -> Record.

References are split into tag -> values with ``rispy``'s rules and tag table (one tight
loop, see :func:`_references`) and mapped onto the source-independent :class:`Record`.
Quirks handled (seen in real exports):

- Zotero: ``DA  - 2019///`` and ``DA  - 2019/10//undefined``; two ISSNs in one ``SN``;
  MeSH headings in ``KW`` with ``*`` (major) and ``/`` (qualifiers).
- EndNote from PubMed: ``AN`` is the PMID, ``DP  - NLM``, ``DA  - Jun`` (month only),
  ``ET  - 2011/05/11`` (the e-pub date in the "edition" tag: ignored), untagged
  continuation lines in ``KW``/``N1``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import IO

from rispy.config import DELIMITED_TAG_MAPPING, LIST_TYPE_TAGS

from ingest.bounded import MAX_RECORD, guard_stream, open_input, text_lines
from ingest.errors import InputError
from ingest.normalise import (
    normalise_doi,
    split_labelled_abstract,
    strip_markup,
    unique,
)
from ingest.pubmed_xml import year_from_text
from ingest.records import ParseProblem, Record

_ISSN = re.compile(r"\b(\d{4}-?\d{3}[\dXx])\b")
_PMID_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d+)")
_PMID_NOTE = re.compile(r"\bPMID:?\s*(\d{1,9})\b")
_PMCID = re.compile(r"\b(PMC\d{3,9})\b")
_BOOK_TYPES = frozenset({"BOOK", "CHAP", "EBOOK", "ECHAP", "EDBOOK"})
_NLM_PROVIDERS = ("nlm", "pubmed", "medline")
# rispy's tag table: which tags hold lists, which split on a delimiter (UR on ";").
_LIST_TAGS = frozenset(LIST_TYPE_TAGS)
_SPLIT: dict[str, str] = dict(DELIMITED_TAG_MAPPING)
_LANG_SEP = re.compile(r"[;,]")
_UNDEFINED = re.compile(r"undefined", re.IGNORECASE)
# MeSH notation in KW: "*Phytotherapy", "Colitis, Ulcerative/*therapy" (qualifiers are
# lower-case); author keywords rarely look like that.
_MESH_KW = re.compile(r"^\*\S|^[^/]+(?:/\*?[a-z][a-z ,&-]*)+$")


def ris_author(name: str) -> str:
    """"Basinska, Malgorzata A." -> "Basinska MA" (PubMed style, so one author looks the
    same whichever database a record came from). Names without a comma stay as given
    (collective names, already-PubMed-style names)."""
    name = " ".join(name.split())
    if "," not in name:
        return name
    last, given = name.split(",", 1)
    last = last.strip()
    # "Jr"/"III" after a second comma is a suffix, not a given name; words of the given
    # name are split on spaces, full stops and hyphens ("Jean-Pierre" -> "JP").
    words = given.split(",", 1)[0].replace(".", " ").replace("-", " ").split()
    initials = "".join(w[0] for w in words if w[0].isalpha())
    return f"{last} {initials.upper()}" if initials else last


def _first(d: dict[str, list[str]], *tags: str) -> str | None:
    """The first non-blank value of the first tag that has one (whitespace collapsed)."""
    for t in tags:
        v = d.get(t)
        if v:
            v = " ".join(v[0].split())
            if v:
                return v
    return None


def _all(d: dict[str, list[str]], tag: str) -> list[str]:
    """Every non-blank value of a list tag (AU, KW, N1, UR...); the first of another."""
    v = d.get(tag)
    if not v:
        return []
    if tag not in _LIST_TAGS:
        v = v[:1]
    return [c for x in v if (c := " ".join(x.split()))]


def _date(d: dict[str, list[str]]) -> str | None:
    """Printed publication date from DA/Y1/PY, dropping Zotero's empty slots."""
    raw = _first(d, "DA", "Y1")
    py = _first(d, "PY")
    if raw:
        raw = _UNDEFINED.sub("", raw).strip().strip("/").strip().rstrip("/")
    if raw and year_from_text(raw) is None and py:
        return f"{py} {raw}"  # EndNote "DA - Jun" + "PY - 2011"
    return raw or py


def _text(d: dict[str, list[str]], *tags: str) -> str | None:
    """Like :func:`_first` with inline markup removed (strip_markup collapses the
    whitespace itself: the long abstract is cleaned once, not twice)."""
    for t in tags:
        v = d.get(t)
        if v and v[0] and not v[0].isspace():
            return strip_markup(v[0])
    return None


def _abstract(d: dict[str, list[str]], rec: Record) -> None:
    ab = _text(d, "AB", "N2")
    if ab:
        rec.abstract_sections = split_labelled_abstract(ab)
        rec.abstract = "\n".join(
            f"{s.label}: {s.text}" if s.label else s.text for s in rec.abstract_sections
        )


def _keywords(d: dict[str, list[str]], rec: Record) -> None:
    """KW: a MeSH heading looks like "Boswellia/*chemistry" or "*Humans"; EndNote exports
    from NLM ("DP  - NLM") carry only MeSH there."""
    all_mesh = (_first(d, "DP", "DB") or "").casefold().startswith("nlm")
    mesh, keywords = rec.mesh_terms, rec.keywords
    for kw in _all(d, "KW"):
        # (the pattern needs a leading "*" or a "/": test that first, it is cheaper)
        if all_mesh or (("/" in kw or kw[:1] == "*") and _MESH_KW.match(kw)):
            major = "*" in kw
            name = kw.split("/", 1)[0].replace("*", "").strip()
            mesh.append("*" + name if major else name)
        else:
            keywords.append(kw)
    rec.mesh_terms = unique(mesh)
    rec.keywords = unique(keywords)


def _ids(d: dict[str, list[str]], rec: Record, source_name: str) -> None:
    """AN (the PMID in exports from NLM), else PMID and PMCID from URLs and notes."""
    provider = (_first(d, "DP", "DB") or "").casefold()
    from_nlm = any(p in provider for p in _NLM_PROVIDERS) or source_name.casefold() in (
        "pubmed", "medline")
    an = _first(d, "AN")
    rec.source_id = an
    if an and an.isdigit() and from_nlm:
        rec.pmid = an
    for t in _all(d, "UR") + _all(d, "N1") + _all(d, "M1") + _all(d, "C2"):
        if rec.pmid is None:
            m = _PMID_URL.search(t) or _PMID_NOTE.search(t)
            if m:
                rec.pmid = m.group(1)
        if rec.pmcid is None and "PMC" in t:
            m = _PMCID.search(t)
            if m:
                rec.pmcid = m.group(1)
    if rec.source_id is None:
        rec.source_id = rec.pmid


def _to_record(d: dict[str, list[str]], source_name: str) -> Record:
    """One reference (tag -> values, as :func:`_references` gathers them) as a Record."""
    rec = Record(source=source_name)
    rec.title = _text(d, "TI", "T1", "TT", "ST") or ""
    # AU and A1 are two spellings of the same list: take one, and keep namesakes (two
    # co-authors "Liu J" are two people)
    rec.authors = [ris_author(a) for a in (_all(d, "AU") or _all(d, "A1"))]
    rec.journal = _first(d, "JO", "JF", "T2")
    rec.journal_abbrev = _first(d, "J2", "JA")
    if rec.journal_abbrev is None and _first(d, "JO") and d.get("T2"):
        rec.journal_abbrev = _first(d, "T2")
    _abstract(d, rec)
    rec.pub_date = _date(d)
    rec.year = year_from_text(_first(d, "PY")) or year_from_text(rec.pub_date)
    rec.doi = normalise_doi(_first(d, "DO"))
    sn = _first(d, "SN")
    if sn:
        m = _ISSN.search(sn)
        rec.issn = m.group(1) if m else None
    rec.volume = _first(d, "VL")
    rec.issue = _first(d, "IS")
    sp, ep = _first(d, "SP"), _first(d, "EP")
    rec.pages = f"{sp}-{ep}" if sp and ep else sp
    langs = _all(d, "LA")
    if langs:
        rec.languages = unique(p.strip() for v in langs for p in _LANG_SEP.split(v))
    _keywords(d, rec)
    _ids(d, rec, source_name)
    if (_first(d, "TY") or "").upper() in _BOOK_TYPES:
        rec.record_type = "book"
    return rec


def _references(
    lines: Iterator[str], label: str, max_record: int
) -> Iterator[tuple[int, dict[str, list[str]]]]:
    """(first line, tag -> values) per reference, with rispy's rules for a tag line.

    A tag line is two upper-case characters (a letter first) and ``"  -"``; a line
    without a tag continues the tag before it: a new item of a list tag (rispy's
    ``LIST_TYPE_TAGS``: AU, A1-A4, KW, N1, UR), else more text of its first value. A
    repeated single tag keeps its first value, ``UR`` splits on ``;``, lines outside
    ``TY``...``ER`` are skipped. One tight loop instead of rispy's three method calls a
    line: this loop is most of the time an import of a large RIS export takes.
    """
    record: dict[str, list[str]] | None = None
    start = size = 0
    last: list[str] | None = None  # values of the tag a continuation line belongs to
    last_tag = ""
    for lineno, line in enumerate(lines, start=1):
        if record is None:
            if line.startswith("TY"):
                record = {"TY": [line[6:].strip() if line[2:5] == "  -" else line.strip()]}
                start, size, last = lineno, len(line), None
            continue
        size += len(line)
        if size > max_record:
            raise InputError(
                f"{label}: the reference starting at line {start} is larger than "
                f"{max_record >> 20} MiB (no 'ER  -' end tag?); refused"
            )
        if line[2:5] == "  -" and line[:1].isalpha() and line[:2].isupper():
            tag = line[:2]
            if tag == "ER":
                yield start, record
                record = None
                continue
            content = line[6:].strip()
            sep = _SPLIT.get(tag)
            items = [content] if sep is None else [c.strip() for c in content.split(sep)]
            values = record.get(tag)
            if values is None:
                record[tag] = values = items
            elif tag in _LIST_TAGS:
                values += items
            last, last_tag = values, tag
        elif last is not None:
            content = line.strip()
            if not content:
                continue  # a blank line adds nothing once whitespace is collapsed
            if last_tag not in _LIST_TAGS:
                last[0] = f"{last[0]} {content}"
            elif last_tag in _SPLIT:
                last += [c.strip() for c in content.split(_SPLIT[last_tag])]
            else:
                last.append(content)


def iter_ris(
    source: str | bytes | IO[bytes], *, source_name: str, file_label: str | None = None,
    max_record: int = MAX_RECORD,
) -> Iterator[Record | ParseProblem]:
    """Parse an RIS export (path, bytes or binary stream; gzip accepted), streaming.

    ``source_name`` is the database it came from (``--source``). A reference without a
    title becomes a :class:`ParseProblem` naming its position and line; the others are
    yielded one at a time. Lines that are not UTF-8 are read as cp1252 (EndNote on
    Windows). A line or reference beyond the bounds of :mod:`ingest.bounded` raises
    :class:`InputError`.
    """
    label = file_label or (source if isinstance(source, str) else "<ris>")
    if isinstance(source, bytes):
        fh: IO[bytes] = io.BytesIO(source)
        if source[:2] == b"\x1f\x8b":
            fh = guard_stream(fh, label)
    elif isinstance(source, str):
        fh = open_input(source, label)
    else:
        fh = source
    try:
        lines = text_lines(fh, label, fallback="cp1252")
        entries = _references(lines, label, max_record)
        for i, (line, entry) in enumerate(entries, start=1):
            rec = _to_record(entry, source_name)
            if not rec.title:
                name = f"PMID {rec.pmid}" if rec.pmid else f"record {i} (line {line})"
                yield ParseProblem(name, "no title (TI/T1); skipped", label)
                continue
            yield rec
    finally:
        fh.close()
