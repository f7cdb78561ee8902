"""MEDLINE / PubMed-format text (.nbib, "Save -> PubMed format", PMC MEDLARS) -> Record.

Each record becomes the tag dictionary ``Bio.Medline.parse`` would give (same tags, text
tags joined, others listed) for the tags the import reads (:data:`READ_TAGS`), with one
difference: a field's continuation lines are joined first (Bio.Medline keeps continuation
lines of list-valued tags such as CIN, BTI, GR as separate items, which would turn one
wrapped "Comment in" into two). Records are split on blank lines here, so a record
missing its PMID is reported by its position and line; records and fields are cut out of
the text a block at a time with regular expressions, not through Bio.Medline's Python
step per line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import IO

from ingest.bounded import MAX_RECORD, guard_stream, open_input, text_blocks
from ingest.errors import InputError
from ingest.normalise import (
    VERNACULAR_FLAG,
    normalise_doi,
    normalise_registry_id,
    split_labelled_abstract,
    strip_markup,
    unique,
)
from ingest.pubmed_xml import TRIAL_REGISTRIES, year_from_text
from ingest.records import Comment, ParseProblem, Record

# MEDLINE comment/correction tags -> the RefType PubMed XML uses for the same link.
COMMENT_TAGS = {
    "CIN": "CommentIn", "CON": "CommentOn", "EIN": "ErratumIn", "EFR": "ErratumFor",
    "RIN": "RetractionIn", "ROF": "RetractionOf", "UIN": "UpdateIn", "UOF": "UpdateOf",
    "RPI": "RepublishedIn", "RPF": "RepublishedFrom", "CRI": "CorrectedAndRepublishedIn",
    "CRF": "CorrectedAndRepublishedFrom", "SPIN": "SummaryForPatientsIn",
    "ORI": "OriginalReportIn", "ECI": "ExpressionOfConcernIn", "ECF": "ExpressionOfConcernFor",
    "RRI": "RetractionAndRepublicationIn", "RRF": "RetractionAndRepublicationFrom",
}
_PMID_IN = re.compile(r"\bPMID:\s*(\d+)")
_ID_KIND = re.compile(r"(\S.*?)\s*\[(\w+)\]")  # "10.1000/x [doi]"
_SLASH_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")


# The tags Bio.Medline.parse returns as one string (its ``textkeys``); every other tag is
# a list of its values.
_TEXT_TAGS = frozenset((
    "ID", "PMID", "SO", "RF", "NI", "JC", "TA", "IS", "CY", "TT", "CA", "IP", "VI", "DP",
    "YR", "PG", "LID", "DA", "LR", "OWN", "STAT", "DCOM", "PUBM", "DEP", "PL", "JID", "SB",
    "PMC", "EDAT", "MHDA", "PST", "AB", "EA", "TI", "JT",
))

Tags = dict[str, "list[str] | str"]


def _finish(rec: dict[str, list[str]]) -> Tags:
    out: Tags = rec  # type: ignore[assignment]
    for key in _TEXT_TAGS.intersection(rec):
        out[key] = " ".join(rec[key])
    return out


# One or more blank lines end a record: a line of whitespace only that does not start
# with six spaces (a line of six spaces is an empty paragraph line inside a field, as
# Bio.Medline has it).
_RECORD_BREAK = re.compile(r"\n(?:(?! {6})[^\S\n]*\n)+")
_LEADING_BLANKS = re.compile(r"(?:[^\S\n]*\n)+")  # whitespace-only lines before a record
# A field starts on a line with a tag in column 1; an indented line continues it.
_FIELD_BREAK = re.compile(r"\n(?! )")
_CONTINUED = "\n      "  # a continuation line's indent: the value goes on after a space
# The tags the import reads (see _to_record), by the four characters that start their
# line: the others (FAU, AD, PHST, GR, ... half the fields of a record) are skipped
# before their value is cut out.
READ_TAGS = frozenset((
    "PMID", "PMC", "TI", "BTI", "TT", "AB", "AU", "CN", "ED", "JT", "CTI", "TA", "IS", "VI",
    "IP", "PG", "DP", "EDAT", "CRDT", "PT", "MH", "OT", "LA", "AID", "LID", "SI",
    *COMMENT_TAGS,
))
_READ_PREFIX = {tag.ljust(4): tag for tag in READ_TAGS}


def _fields(text: str) -> Tags:
    """One record's text as the tag dictionary ``Bio.Medline.parse`` gives, for the tags
    in :data:`READ_TAGS`: the tag is the first four characters and the value starts in
    column 7; a field's continuation lines are joined to it, repeated tags collect in a
    list, text tags are joined by a space."""
    rec: dict[str, list[str]] = {}
    read = _READ_PREFIX.get
    # Continuation lines indented the usual six spaces are joined in one pass (their
    # whitespace is collapsed later); then each line is a field, unless a line is
    # indented otherwise, which only the pattern sees as continuing its field.
    text = text.replace(_CONTINUED, " ")
    for field in _FIELD_BREAK.split(text) if "\n " in text else text.split("\n"):
        key = read(field[:4])
        if key is None:
            continue
        value = field[6:]
        values = rec.get(key)
        if values is None:
            rec[key] = [value]
        else:
            values.append(value)
    return _finish(rec)


def _records(
    blocks: Iterable[tuple[int, str]], label: str, max_record: int = MAX_RECORD
) -> Iterator[tuple[int, Tags]]:
    """(first line number, tag dictionary as ``Bio.Medline.parse`` gives it) per record
    of the text blocks (:func:`ingest.bounded.text_blocks`: each ends at a line end).

    Records are split on blank lines and fields on tag lines with regular expressions,
    a block at a time: a Python step per line was most of the time a MEDLINE import
    took. A record larger than ``max_record`` characters (no blank line ends it) is
    refused: gathering an endless record is how a hostile file exhausts memory.
    """
    carry = ""  # the start of a record the block ended in
    carry_line = 1  # its first line
    for _first, block in blocks:
        text = carry + block if carry else block
        lineno = carry_line
        pos = 0
        for brk in _RECORD_BREAK.finditer(text):
            yield from _record(text[pos : brk.start()], lineno, label, max_record)
            lineno += text.count("\n", pos, brk.end())
            pos = brk.end()
        carry, carry_line = text[pos:], lineno
        _refuse_large(carry, carry_line, label, max_record)
    if carry:
        yield from _record(carry, carry_line, label, max_record)


def _record(piece: str, lineno: int, label: str, max_record: int) -> Iterator[tuple[int, Tags]]:
    """The record in ``piece`` (whitespace-only lines before it skipped) with its first
    line; refused when larger than ``max_record``."""
    _refuse_large(piece, lineno, label, max_record)
    m = _LEADING_BLANKS.match(piece)
    if m:
        lineno += m.group().count("\n")
        piece = piece[m.end():]
    piece = piece.rstrip()
    if piece:
        yield lineno, _fields(piece)


def _refuse_large(piece: str, lineno: int, label: str, max_record: int) -> None:
    """Refuse a record (or a record's start) larger than ``max_record``: gathering an
    endless record is how a hostile file exhausts memory."""
    if len(piece) > max_record:
        m = _LEADING_BLANKS.match(piece)
        start = lineno + (m.group().count("\n") if m else 0)
        raise InputError(
            f"{label}: the record starting at line {start} is larger than "
            f"{max_record >> 20} MiB (no blank line ends it); refused"
        )


def _ids(values: list[str], rec: Record) -> None:
    """AID / LID values like "10.1000/x [doi]", "PMC123 [pmc]", "S0140-... [pii]"."""
    for v in values:
        # LID is a text key in Bio.Medline: several ids may arrive joined by spaces.
        for m in _ID_KIND.finditer(v):
            value, kind = m.group(1).strip(), m.group(2).lower()
            if kind == "doi" and rec.doi is None:
                rec.doi = normalise_doi(value)
            elif kind == "pmc" and rec.pmcid is None and value.startswith("PMC"):
                rec.pmcid = value


def _iso(value: str | None) -> str | None:
    """"2001/12/26 10:00" -> "2001-12-26"."""
    if not value:
        return None
    m = _SLASH_DATE.match(value.strip())
    if not m:
        return None
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"


def _mesh(term: str) -> str:
    """"Cryopreservation/*methods" -> "*Cryopreservation" (major when any part is)."""
    major = "*" in term
    name = term.split("/", 1)[0].replace("*", "").strip()
    return "*" + name if major else name


def _text(m: Tags, key: str) -> str | None:
    """A tag's value as one whitespace-collapsed string (None: absent or blank)."""
    v = m.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        v = " ".join(v)
    return " ".join(v.split()) or None


def _items(m: Tags, key: str) -> list[str]:
    """A tag's non-blank values, whitespace collapsed."""
    v = m.get(key)
    if not v:
        return []
    if isinstance(v, str):
        v = [v]
    return [c for x in v if (c := " ".join(x.split()))]


def _marked(m: Tags, key: str) -> str | None:
    """A tag's value with inline markup removed; strip_markup collapses whitespace itself
    (cleaning a 2 KB abstract twice was a fifth of the time a record took)."""
    v = m.get(key)
    if v is None:
        return None
    return strip_markup(v if isinstance(v, str) else " ".join(v))


def _titles(m: Tags, rec: Record) -> str | None:
    """Title, vernacular title and abstract; returns the book title (BTI) if any."""
    book_title = _marked(m, "BTI")
    title = _marked(m, "TI")
    vern = _marked(m, "TT")
    rec.vernacular_title = vern
    rec.title = title or book_title or (vern + VERNACULAR_FLAG if vern else "")
    ab = _marked(m, "AB")
    if ab:
        rec.abstract_sections = split_labelled_abstract(ab)
        rec.abstract = "\n".join(
            f"{s.label}: {s.text}" if s.label else s.text for s in rec.abstract_sections
        )
    return book_title


def _links(m: Tags, rec: Record) -> None:
    """DOI/PMCID (AID, LID), trial registrations (SI) and comment/correction links."""
    _ids(_items(m, "AID") + _items(m, "LID"), rec)
    for si in _items(m, "SI"):
        name, _, acc = si.rpartition("/")
        if name.casefold() in TRIAL_REGISTRIES:
            rid = normalise_registry_id(acc)
            if rid:
                rec.registry_ids.append(rid)
    rec.registry_ids = unique(rec.registry_ids)
    if m.keys().isdisjoint(COMMENT_TAGS):  # most records: skip the 18 look-ups
        return
    for tag, ref_type in COMMENT_TAGS.items():
        for v in _items(m, tag):
            pm = _PMID_IN.search(v)
            src = v[: pm.start()].strip() if pm else v
            rec.comments.append(Comment(ref_type, src or None, pm.group(1) if pm else None))


def _to_record(m: Tags, source_name: str) -> Record:
    rec = Record(source=source_name)
    rec.pmid = _text(m, "PMID")
    rec.source_id = rec.pmid
    pmc = _text(m, "PMC")
    if pmc and pmc.startswith("PMC"):
        rec.pmcid = pmc
    book_title = _titles(m, rec)
    # namesakes are kept (two co-authors "Liu J" are two people); a group name once
    authors = _items(m, "AU")
    groups = _items(m, "CN")
    rec.authors = authors + [c for c in unique(groups) if c not in authors] if groups else authors
    if not rec.authors:
        rec.authors = unique(_items(m, "ED"))
    rec.journal = _text(m, "JT") or book_title or _text(m, "CTI")
    rec.journal_abbrev = _text(m, "TA")
    issn = _text(m, "IS")
    if issn:
        rec.issn = issn.split()[0]
    rec.volume = _text(m, "VI")
    rec.issue = _text(m, "IP")
    rec.pages = _text(m, "PG")
    rec.pub_date = _text(m, "DP")
    rec.year = year_from_text(rec.pub_date)
    rec.entrez_date = _iso(_text(m, "EDAT")) or _iso(_text(m, "CRDT"))
    rec.publication_types = unique(_items(m, "PT"))
    rec.mesh_terms = unique(_mesh(t) for t in _items(m, "MH"))
    rec.keywords = unique(_items(m, "OT"))
    rec.languages = unique(_items(m, "LA"))
    _links(m, rec)
    pts = {p.casefold() for p in rec.publication_types}
    if book_title or "book chapter" in pts or "book" in pts:
        rec.record_type = "book"
    return rec


def iter_medline(
    source: str | bytes | IO[bytes],
    *,
    source_name: str = "pubmed",
    file_label: str | None = None,
    max_record: int = MAX_RECORD,
) -> Iterator[Record | ParseProblem]:
    """Parse MEDLINE-format text into records.

    ``source`` is a path, raw bytes or a binary stream (gzip accepted; the caller closes
    a stream it gave). CRLF and LF both work, leading blank lines are skipped. A record
    without PMID or title becomes a :class:`ParseProblem` ("record 3 (line 120)" /
    "PMID 123") and is skipped.
    """
    label = file_label or (source if isinstance(source, str) else "<medline>")
    owned: IO[bytes] | None = None
    if isinstance(source, bytes):
        owned = io.BytesIO(source)
        fh: IO[bytes] = guard_stream(owned, label) if source[:2] == b"\x1f\x8b" else owned
    elif isinstance(source, str):
        fh = owned = open_input(source, label)
    else:
        fh = source
    try:
        n = 0
        for start, fields in _records(text_blocks(fh, label), label, max_record):
            n += 1
            rec = _to_record(fields, source_name)
            if not rec.pmid:
                yield ParseProblem(f"record {n} (line {start})", "no PMID; skipped", label)
            elif not rec.title:
                yield ParseProblem(f"PMID {rec.pmid}", "no TI/BTI title; skipped", label)
            else:
                yield rec
    finally:
        if owned is not None:
            owned.close()
