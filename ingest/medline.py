"""MEDLINE / PubMed-format text (.nbib, "Save -> PubMed format", PMC MEDLARS) -> Record.

Each record becomes the tag dictionary ``Bio.Medline.parse`` would give (same tags, text
tags joined, others listed) with one difference: a field's continuation lines are joined
first (Bio.Medline keeps continuation lines of list-valued tags such as CIN, BTI, GR as
separate items, which would turn one wrapped "Comment in" into two). Records are split
on blank lines here, so a record missing its PMID is reported by its position and line;
building the dictionary in the same pass, not through Bio.Medline, spares reading every
line twice.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import IO

from ingest.bounded import MAX_RECORD, open_input, text_lines
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


def _records(
    lines: Iterable[str], label: str, max_record: int = MAX_RECORD
) -> Iterator[tuple[int, Tags]]:
    """(first line number, tag dictionary as ``Bio.Medline.parse`` gives it) per record.

    A field's continuation lines are joined first; repeated tags collect in a list; text
    tags are joined by a space. One pass over the lines (not Bio.Medline over lines we
    already split). A record larger than ``max_record`` characters (no blank line ends
    it) is refused: gathering an endless record is how a hostile file exhausts memory.
    """
    # Continuation lines are gathered and joined when their field ends: "+=" on a string
    # copies the whole field per continuation line (quadratic on a long field). The tag
    # is the first four characters and the value starts in column 7, as Bio.Medline has it.
    rec: dict[str, list[str]] = {}
    values: list[str] | None = None  # the current field's tag's values (None: no record)
    first = ""  # the current field's tag line
    more: list[str] = []  # its continuation lines
    start = size = 0
    lineno = 0
    try:
        for raw in lines:
            lineno += 1
            size += len(raw)
            if size > max_record:
                raise InputError(
                    f"{label}: the record starting at line {start} is larger than "
                    f"{max_record >> 20} MiB (no blank line ends it); refused"
                )
            if raw[:1] == " " and values is not None:
                # Tags start in column 1: an indented line continues the previous field
                # (a line of 6 spaces is an empty paragraph line, as Bio.Medline has it).
                line = raw.strip()
                if line:
                    more.append(line)
                    continue
                if raw.startswith("      "):
                    continue
            if more:
                values[-1] = f"{first} {' '.join(more)}"[6:]  # type: ignore[index]
                more = []
            line = raw.rstrip()
            if not line:
                if values is not None:
                    yield start, _finish(rec)
                    rec, values = {}, None
                size = 0
                continue
            if values is None:
                start = lineno
            key = line[:4].rstrip()
            values = rec.get(key)
            if values is None:
                rec[key] = values = [line[6:]]
            else:
                values.append(line[6:])
            first = line
    except UnicodeDecodeError:
        # Decoding is lazy for an open file: the fault surfaces half-way through.
        raise InputError(f"{label}: not UTF-8 text (after line {lineno})") from None
    if values is not None:
        if more:
            values[-1] = f"{first} {' '.join(more)}"[6:]
        yield start, _finish(rec)


def _ids(values: list[str], rec: Record) -> None:
    """AID / LID values like "10.1000/x [doi]", "PMC123 [pmc]", "S0140-... [pii]"."""
    for v in values:
        # LID is a text key in Bio.Medline: several ids may arrive joined by spaces.
        for m in re.finditer(r"(\S.*?)\s*\[(\w+)\]", v):
            value, kind = m.group(1).strip(), m.group(2).lower()
            if kind == "doi" and rec.doi is None:
                rec.doi = normalise_doi(value)
            elif kind == "pmc" and rec.pmcid is None and value.startswith("PMC"):
                rec.pmcid = value


def _iso(value: str | None) -> str | None:
    """"2001/12/26 10:00" -> "2001-12-26"."""
    if not value:
        return None
    m = re.match(r"(\d{4})/(\d{1,2})/(\d{1,2})", value.strip())
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
    return [c for c in (" ".join(x.split()) for x in v) if c]


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
    source: str | bytes | io.TextIOBase | Iterable[str],
    *,
    source_name: str = "pubmed",
    file_label: str | None = None,
    max_record: int = MAX_RECORD,
) -> Iterator[Record | ParseProblem]:
    """Parse MEDLINE-format text into records.

    ``source`` is a path (gzip accepted), raw bytes, or an iterable of text lines (an
    open text file).
    CRLF and LF both work, leading blank lines are skipped. A record without PMID or title
    becomes a :class:`ParseProblem` ("record 3 (line 120)" / "PMID 123") and is skipped.
    """
    label = file_label or (source if isinstance(source, str) else "<medline>")
    owned: IO[bytes] | None = None
    if isinstance(source, bytes):
        lines: Iterable[str] = io.StringIO(_decode(source, label))
    elif isinstance(source, str):
        owned = open_input(source, label)
        lines = text_lines(owned, label)
    else:
        lines = source
    try:
        n = 0
        for start, fields in _records(lines, label, max_record):
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


def _decode(data: bytes, label: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{label}: not UTF-8 text (line {line})") from None
