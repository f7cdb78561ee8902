"""RIS exports (Embase, Web of Science, Cochrane CENTRAL, Zotero, EndNote) -> Record.

``rispy`` splits the file into tag dictionaries; this module maps them onto the
source-independent :class:`Record`. Quirks handled (seen in real exports):

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
from typing import IO, Any

import rispy

from ingest.bounded import MAX_RECORD, guard_stream, open_input, text_lines
from ingest.errors import InputError
from ingest.normalise import (
    clean_text,
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
# MeSH notation in KW: "*Phytotherapy", "Colitis, Ulcerative/*therapy" (qualifiers are
# lower-case); author keywords rarely look like that.
_MESH_KW = re.compile(r"^\*\S|^[^/]+(?:/\*?[a-z][a-z ,&-]*)+$")


def ris_author(name: str) -> str:
    """"Basinska, Malgorzata A." -> "Basinska MA" (PubMed style, so one author looks the
    same whichever database a record came from). Names without a comma stay as given
    (collective names, already-PubMed-style names)."""
    name = clean_text(name) or ""
    if "," not in name:
        return name
    last, given = (p.strip() for p in name.split(",", 1))
    # "Jr"/"III" after a second comma is a suffix, not a given name.
    given = given.split(",")[0]
    initials = "".join(w[0] for w in re.split(r"[\s.\-]+", given) if w and w[0].isalpha())
    return f"{last} {initials.upper()}" if initials else last


def _first(d: dict[str, Any], *keys: str) -> str | None:
    for k in keys:
        v = d.get(k)
        if isinstance(v, list):
            v = v[0] if v else None
        v = clean_text(v) if isinstance(v, str) else None
        if v:
            return v
    return None


def _all(d: dict[str, Any], key: str) -> list[str]:
    v = d.get(key) or []
    if isinstance(v, str):
        v = [v]
    return [c for c in (clean_text(x) for x in v if isinstance(x, str)) if c]


def _date(d: dict[str, Any]) -> str | None:
    """Printed publication date from DA/PY/Y1, dropping Zotero's empty slots."""
    raw = _first(d, "date", "publication_year")
    py = _first(d, "year")
    if raw:
        raw = re.sub(r"undefined", "", raw, flags=re.IGNORECASE).strip().strip("/").strip()
        raw = re.sub(r"/+$", "", raw)
    if raw and year_from_text(raw) is None and py:
        return f"{py} {raw}"  # EndNote "DA - Jun" + "PY - 2011"
    return raw or py


def _to_record(d: dict[str, Any], source_name: str) -> Record:
    rec = Record(source=source_name)
    rec.title = strip_markup(
        _first(d, "title", "primary_title", "translated_title", "short_title")) or ""
    # AU and A1 are two spellings of the same list: take one, and keep namesakes (two
    # co-authors "Liu J" are two people)
    rec.authors = [ris_author(a) for a in (_all(d, "authors") or _all(d, "first_authors"))]
    rec.journal = _first(d, "journal_name", "alternate_title3", "secondary_title")
    rec.journal_abbrev = _first(d, "alternate_title1", "alternate_title2")
    if rec.journal_abbrev is None and d.get("journal_name") and d.get("secondary_title"):
        rec.journal_abbrev = _first(d, "secondary_title")
    ab = strip_markup(_first(d, "abstract", "notes_abstract"))
    if ab:
        rec.abstract_sections = split_labelled_abstract(ab)
        rec.abstract = "\n".join(
            f"{s.label}: {s.text}" if s.label else s.text for s in rec.abstract_sections
        )
    rec.pub_date = _date(d)
    rec.year = year_from_text(_first(d, "year")) or year_from_text(rec.pub_date)
    rec.doi = normalise_doi(_first(d, "doi"))
    sn = _first(d, "issn")
    if sn:
        m = _ISSN.search(sn)
        rec.issn = m.group(1) if m else None
    rec.volume = _first(d, "volume")
    rec.issue = _first(d, "number")
    sp, ep = _first(d, "start_page"), _first(d, "end_page")
    rec.pages = f"{sp}-{ep}" if sp and ep else sp
    rec.languages = unique(
        p.strip() for v in _all(d, "language") for p in re.split(r"[;,]", v) if p.strip()
    )
    provider = (_first(d, "database_provider", "name_of_database") or "").casefold()
    from_nlm = any(p in provider for p in _NLM_PROVIDERS) or source_name.casefold() in (
        "pubmed", "medline")
    # KW: a MeSH heading looks like "Boswellia/*chemistry" or "*Humans"; EndNote exports
    # from NLM ("DP  - NLM") carry only MeSH there.
    all_mesh = provider.startswith("nlm")
    for kw in _all(d, "keywords"):
        if all_mesh or _MESH_KW.match(kw):
            major = "*" in kw
            name = kw.split("/", 1)[0].replace("*", "").strip()
            rec.mesh_terms.append("*" + name if major else name)
        else:
            rec.keywords.append(kw)
    rec.mesh_terms = unique(rec.mesh_terms)
    rec.keywords = unique(rec.keywords)
    an = _first(d, "accession_number")
    rec.source_id = an
    if an and an.isdigit() and from_nlm:
        rec.pmid = an
    texts = _all(d, "urls") + _all(d, "notes") + _all(d, "note") + _all(d, "custom2")
    for t in texts:
        if rec.pmid is None:
            m = _PMID_URL.search(t) or _PMID_NOTE.search(t)
            if m:
                rec.pmid = m.group(1)
        if rec.pmcid is None:
            m = _PMCID.search(t)
            if m:
                rec.pmcid = m.group(1)
    if rec.source_id is None:
        rec.source_id = rec.pmid
    ty = (_first(d, "type_of_reference") or "").upper()
    if ty in _BOOK_TYPES:
        rec.record_type = "book"
    return rec


class _StreamingParser(rispy.RisParser):
    """rispy's own line parser, yielding each reference as its ``ER`` line arrives.

    ``rispy.load`` builds the list of every reference first; this is the same per-line
    work (``parse_line``/``_add_tag``) as a generator, with the size of one reference
    bounded, and the line each reference starts on kept for problem reports.
    """

    def iter_entries(
        self, lines: Iterator[str], label: str, max_record: int
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        record: dict[str, Any] | None = None
        start = size = 0
        last_tag: str | None = None
        for lineno, line in enumerate(lines, start=1):
            if record is None:
                if line.startswith(self.START_TAG):
                    record = {self.mapping[self.START_TAG]: self.parse_line(line)[1]}
                    start, size, last_tag = lineno, len(line), None
                continue
            size += len(line)
            if size > max_record:
                raise InputError(
                    f"{label}: the reference starting at line {start} is larger than "
                    f"{max_record >> 20} MiB (no 'ER  -' end tag?); refused"
                )
            tag, content = self.parse_line(line)
            if tag is None:
                if last_tag is not None:
                    self._add_tag(record, last_tag, content, extend_multiline=True)
                continue
            if tag in self.ignore:
                continue
            if tag == self.END_TAG:
                yield start, record
                record = None
                continue
            self._add_tag(record, tag, content)
            last_tag = tag


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
        entries = _StreamingParser().iter_entries(lines, label, max_record)
        for i, (line, entry) in enumerate(entries, start=1):
            rec = _to_record(entry, source_name)
            if not rec.title:
                name = f"PMID {rec.pmid}" if rec.pmid else f"record {i} (line {line})"
                yield ParseProblem(name, "no title (TI/T1); skipped", label)
                continue
            yield rec
    except (KeyError, ValueError, TypeError, AttributeError) as exc:  # rispy's bare errors
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{label}: not a readable RIS file ({first})") from None
    finally:
        fh.close()
