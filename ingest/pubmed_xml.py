"""Streaming parser for PubMed/MEDLINE XML (efetch output, baseline and update files).

``iter_pubmed_xml`` walks ``PubmedArticleSet`` (modern efetch and baseline files),
``MedlineCitationSet`` (pre-2017 MEDLINE files: no ``PubmedData``), ``PubmedBookArticle``
(Bookshelf chapters) and ``DeleteCitation`` (update files) with ``lxml.etree.iterparse``.
Only the record-level elements raise Python events; each one is read with plain child
loops (no XPath) and then cleared together with its already-seen siblings, so memory stays
flat whatever the file size.

``parse_esearch`` reads an ESearch response (count, ids, history keys, translation,
warnings) and raises on an ``<ERROR>`` element.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from lxml import etree

from ingest.errors import InputError
from ingest.normalise import VERNACULAR_FLAG, normalise_doi, normalise_registry_id
from ingest.records import AbstractSection, Comment, Deletion, ParseProblem, Record

Source = str | os.PathLike[str] | bytes | bytearray | BinaryIO | IO[bytes]


class MalformedXML(InputError):
    """The body is not well-formed XML (truncated download, binary junk, HTML error page).

    The E-utilities client catches this to retry a truncated response; ``line`` is where
    libxml2 gave up (None when the gzip layer failed before any XML was read).
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.file = file
        self.line = line


class EutilsError(InputError):
    """NCBI answered with an ``<ERROR>`` element instead of results (never "no results")."""


# Trial registries NLM indexes in DataBankList (NLM's "Clinical Trial Registry" list);
# GenBank, PDB, GEO and friends are data banks, not trial registrations.
TRIAL_REGISTRIES = frozenset(
    s.casefold()
    for s in (
        "ClinicalTrials.gov", "ISRCTN", "ChiCTR", "ANZCTR", "CTRI", "DRKS", "EudraCT",
        "EU Clinical Trials Register", "CTIS", "IRCT", "JapicCTI", "JPRN", "jRCT", "JMACCT",
        "UMIN CTR", "UMIN-CTR", "NTR", "PACTR", "ReBec", "REPEC", "RPCEC", "SLCTR", "TCTR",
        "CRiS", "KCT", "LBCTR", "ITMCTR", "NL-OMON", "ACTRN",
    )
)

# Children read from <Article> / <MedlineCitation>; iterchildren() filters on these in C
# so the others (affiliations, grants, chemicals, dates...) never become Python objects.
_ARTICLE_TAGS = ("Journal", "ArticleTitle", "VernacularTitle", "Pagination", "ELocationID",
                 "Abstract", "AuthorList", "Language", "DataBankList", "PublicationTypeList",
                 "ArticleDate")
_CITATION_TAGS = ("PMID", "Article", "MedlineJournalInfo", "MeshHeadingList", "KeywordList",
                  "CommentsCorrectionsList", "OtherID", "SecondaryIdList",
                  "SecondarySourceID")

# CommentsCorrections types kept on the record. "Cites" is the reference list (hundreds
# per record, not a correction) and is dropped.
_SKIP_COMMENT_TYPES = frozenset({"Cites"})

MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
# PMID too: a DeleteCitation's PMIDs are taken (and freed) one by one, so a notice
# withdrawing millions of PMIDs stays in bounded memory (see _iter).
_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "MedlineCitation", "DeleteCitation",
                "ERROR", "PMID")
DELETION_CHUNK = 10_000  # withdrawn PMIDs per Deletion item
_KNOWN_ROOTS = frozenset({"PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet",
                          "PubmedArticle", "PubmedBookArticle", "MedlineCitation"})


# --------------------------------------------------------------------------- text helpers
def _text(el: etree._Element | None) -> str:
    """Element text with inline markup (<i>, <sup>, MathML...) flattened, tails kept,
    whitespace collapsed. Fast path for the common leaf element."""
    if el is None:
        return ""
    if len(el) == 0:
        t = el.text
        if not t:
            return ""
        return " ".join(t.split())
    parts: list[str] = []
    _flatten(el, parts)
    return " ".join("".join(parts).split())


_MATHML = "{http://www.w3.org/1998/Math/MathML}"


_SCRIPT_TAGS = frozenset({"sub", "sup"})
_NO_SPACE_AFTER = tuple("([{/-")
_NO_SPACE_BEFORE = tuple(")]},.;:!?%/-")


def _layout_before(s: str, child_tag: object) -> str:
    """Text just before an inline child. Pretty-printed files (e.g. PubMed XML passed
    through an indenter) put a line break + indentation where the author had either a
    space (", <i>GRB10</i>") or nothing ("&#946;<sub>2</sub>"): decide which from the
    neighbours. Whitespace without a line break is the author's and is kept."""
    stripped = s.rstrip()
    if "\n" not in s[len(stripped):]:
        return s
    if child_tag in _SCRIPT_TAGS or not stripped or stripped.endswith(_NO_SPACE_AFTER):
        return stripped
    return stripped + " "


def _layout_after(s: str, child_tag: object) -> str:
    """A child's tail, by the same rule: a line break before ")" or "," is layout."""
    stripped = s.lstrip()
    if "\n" not in s[: len(s) - len(stripped)]:
        return s
    if not stripped or stripped.startswith(_NO_SPACE_BEFORE):
        return stripped
    return " " + stripped


def _flatten(el: etree._Element, parts: list[str]) -> None:
    """Text of a mixed-content element: children's text with their tails, MathML token
    text run together ("<mi>He</mi> <mn>3</mn>" -> "He3")."""
    children = list(el)
    t = el.text
    if t:
        parts.append(_layout_before(t, children[0].tag) if children else t)
    for i, c in enumerate(children):
        tag = c.tag
        if isinstance(tag, str):
            if tag.startswith(_MATHML):
                parts.append("".join(x.strip(" \t\r\n") for x in c.itertext()))
            elif len(c):
                _flatten(c, parts)
            elif c.text:
                parts.append(c.text)
        tail = c.tail
        if tail:
            tail = _layout_after(tail, tag)
            if i + 1 < len(children):
                tail = _layout_before(tail, children[i + 1].tag)
            parts.append(tail)


def year_from_text(text: str | None) -> int | None:
    """First plausible 4-digit year in a printed date ("1998 Dec-1999 Jan" -> 1998)."""
    if not text:
        return None
    m = _YEAR.search(text)
    return int(m.group(1)) if m else None


def _month_num(value: str) -> int | None:
    v = value.strip()
    if v.isdigit():
        n = int(v)
        return n if 1 <= n <= 12 else None
    return MONTHS.get(v[:3].casefold())


def _pub_date(el: etree._Element) -> tuple[int | None, str | None]:
    """(year, date as printed) from PubDate / ArticleDate / Book PubDate."""
    year = month = day = season = medline = None
    for c in el:
        tag = c.tag
        if tag == "Year":
            year = (c.text or "").strip()
        elif tag == "Month":
            month = (c.text or "").strip()
        elif tag == "Day":
            day = (c.text or "").strip()
        elif tag == "Season":
            season = (c.text or "").strip()
        elif tag == "MedlineDate":
            medline = _text(c)
    if medline:
        return year_from_text(medline), medline
    if month and month.isdigit() and 1 <= int(month) <= 12:
        # Some publishers send "08"; PubMed prints (and MEDLINE DP has) "Aug".
        month = _MONTH_NAMES[int(month) - 1]
    if day and day.isdigit():
        day = str(int(day))
    parts = [p for p in (year, month or season, day if month else None) if p]
    printed = " ".join(parts) or None
    y = int(year) if year and year.isdigit() else year_from_text(year)
    return y, printed


def _iso_date(el: etree._Element) -> str | None:
    """YYYY-MM-DD from an element with Year/Month/Day children (PubMedPubDate)."""
    y = m = d = None
    for c in el:
        tag = c.tag
        if tag == "Year":
            y = (c.text or "").strip()
        elif tag == "Month":
            m = (c.text or "").strip()
        elif tag == "Day":
            d = (c.text or "").strip()
    if not (y and y.isdigit()):
        return None
    mn = _month_num(m) if m else None
    if mn is None:
        return f"{int(y):04d}"
    if d and d.isdigit():
        return f"{int(y):04d}-{mn:02d}-{int(d):02d}"
    return f"{int(y):04d}-{mn:02d}"


# ------------------------------------------------------------------------ record pieces
def _authors(author_list: etree._Element, out: list[str]) -> None:
    for a in author_list.iterchildren("Author"):
        if a.get("ValidYN") == "N":
            # ValidYN="N" is the misspelt form NLM keeps next to the corrected author.
            continue
        last = initials = fore = collective = None
        # The tag filter runs in C: no Python proxy for AffiliationInfo/Identifier.
        for c in a.iterchildren("LastName", "Initials", "ForeName", "CollectiveName"):
            tag = c.tag
            # Name parts are plain text (no markup): skip _text's call overhead, this loop
            # runs for every author of every record.
            if tag == "LastName":
                last = c.text
            elif tag == "Initials":
                initials = c.text
            elif tag == "ForeName":
                fore = c.text
            else:
                collective = _text(c)
        if last:
            last = " ".join(last.split())
        if initials:
            initials = initials.strip()
        if last:
            if not initials and fore:
                initials = "".join(w[0] for w in fore.replace("-", " ").split() if w)
            out.append(f"{last} {initials}" if initials else last)
        elif collective:
            out.append(collective)


def _abstract(abstract: etree._Element, sections: list[AbstractSection]) -> None:
    for c in abstract:
        if c.tag != "AbstractText":
            continue
        text = _text(c)
        if not text:
            continue
        sections.append(AbstractSection(c.get("Label") or None, text,
                                        c.get("NlmCategory") or None))


def _join_abstract(sections: list[AbstractSection]) -> str | None:
    if not sections:
        return None
    return "\n".join(f"{s.label}: {s.text}" if s.label else s.text for s in sections)


def _mesh(mesh_list: etree._Element, out: list[str]) -> None:
    for mh in mesh_list.iterchildren("MeshHeading"):
        name = None
        major = False
        for c in mh.iterchildren("DescriptorName", "QualifierName"):
            if c.tag == "DescriptorName":
                name = _text(c)
                major = major or c.get("MajorTopicYN") == "Y"
            elif c.tag == "QualifierName" and c.get("MajorTopicYN") == "Y":
                # PubMed's [majr] counts a heading major when any of its qualifiers is.
                major = True
        if name:
            out.append("*" + name if major else name)


def _databanks(dbl: etree._Element, out: list[str]) -> None:
    for db in dbl:
        if db.tag != "DataBank":
            continue
        name = ""
        accs: list[str] = []
        for c in db:
            if c.tag == "DataBankName":
                name = _text(c)
            elif c.tag == "AccessionNumberList":
                accs.extend(_text(a) for a in c if a.tag == "AccessionNumber")
        if name.casefold() in TRIAL_REGISTRIES:
            for acc in accs:
                rid = normalise_registry_id(acc)
                if rid:
                    out.append(rid)


def _comments(ccl: etree._Element, out: list[Comment]) -> None:
    for cc in ccl.iterchildren("CommentsCorrections"):
        ref_type = cc.get("RefType") or ""
        if ref_type in _SKIP_COMMENT_TYPES:
            continue
        ref_source = pmid = None
        for c in cc.iterchildren("RefSource", "PMID"):
            if c.tag == "RefSource":
                ref_source = _text(c) or None
            elif c.tag == "PMID":
                pmid = (c.text or "").strip() or None
        out.append(Comment(ref_type, ref_source, pmid))


def _article_ids(idl: etree._Element, rec: Record) -> None:
    for a in idl.iterchildren("ArticleId"):
        kind = a.get("IdType")
        if kind == "doi":
            if rec.doi is None:
                rec.doi = normalise_doi(a.text)
        elif kind == "pmc":
            if rec.pmcid is None:
                v = (a.text or "").strip()
                rec.pmcid = v if v.startswith("PMC") else (f"PMC{v}" if v else None)


def _history(hist: etree._Element, rec: Record) -> None:
    for d in hist.iterchildren("PubMedPubDate"):
        if d.get("PubStatus") == "entrez":
            rec.entrez_date = _iso_date(d)
            return


def _set_title(rec: Record, title: str, vernacular: str) -> None:
    rec.vernacular_title = vernacular or None
    if title:
        rec.title = title
    elif vernacular:
        rec.title = vernacular + VERNACULAR_FLAG


def _journal(j: etree._Element, rec: Record) -> tuple[int | None, str | None]:
    year: int | None = None
    printed: str | None = None
    for c in j.iterchildren("ISSN", "JournalIssue", "Title", "ISOAbbreviation"):
        tag = c.tag
        if tag == "ISSN":
            if rec.issn is None:
                rec.issn = _text(c) or None
        elif tag == "JournalIssue":
            for ji in c:
                t = ji.tag
                if t == "Volume":
                    rec.volume = _text(ji) or None
                elif t == "Issue":
                    rec.issue = _text(ji) or None
                elif t == "PubDate":
                    year, printed = _pub_date(ji)
        elif tag == "Title":
            rec.journal = _text(c) or None
        elif tag == "ISOAbbreviation":
            rec.journal_abbrev = _text(c) or None
    return year, printed


def _article(art: etree._Element, rec: Record) -> None:
    title = vern = ""
    art_year: int | None = None
    start = end = pgn = None
    for c in art.iterchildren(*_ARTICLE_TAGS):
        tag = c.tag
        if tag == "Journal":
            rec.year, rec.pub_date = _journal(c, rec)
        elif tag == "ArticleTitle":
            title = _text(c)
        elif tag == "VernacularTitle":
            vern = _text(c)
        elif tag == "Pagination":
            for p in c:
                if p.tag == "MedlinePgn":
                    pgn = _text(p)
                elif p.tag == "StartPage":
                    start = _text(p)
                elif p.tag == "EndPage":
                    end = _text(p)
        elif tag == "ELocationID":
            if c.get("EIdType") == "doi" and c.get("ValidYN") != "N" and rec.doi is None:
                rec.doi = normalise_doi(c.text)
        elif tag == "Abstract":
            _abstract(c, rec.abstract_sections)
        elif tag == "AuthorList":
            _authors(c, rec.authors)
        elif tag == "Language":
            lang = _text(c)
            if lang:
                rec.languages.append(lang)
        elif tag == "DataBankList":
            _databanks(c, rec.registry_ids)
        elif tag == "PublicationTypeList":
            rec.publication_types.extend(
                t for t in (_text(p) for p in c if p.tag == "PublicationType") if t
            )
        elif tag == "ArticleDate":
            if art_year is None:
                art_year, _ = _pub_date(c)
    _set_title(rec, title, vern)
    rec.pages = pgn or (f"{start}-{end}" if start and end else start) or None
    if rec.year is None:
        rec.year = art_year


def _medline_citation(mc: etree._Element, rec: Record) -> None:
    for c in mc.iterchildren(*_CITATION_TAGS):
        tag = c.tag
        if tag == "PMID":
            if rec.pmid is None:
                rec.pmid = (c.text or "").strip() or None
        elif tag == "Article":
            _article(c, rec)
        elif tag == "MedlineJournalInfo":
            if rec.journal_abbrev is None:
                for j in c:
                    if j.tag == "MedlineTA":
                        rec.journal_abbrev = _text(j) or None
        elif tag == "MeshHeadingList":
            _mesh(c, rec.mesh_terms)
        elif tag == "KeywordList":
            rec.keywords.extend(t for t in (_text(k) for k in c if k.tag == "Keyword") if t)
        elif tag == "CommentsCorrectionsList":
            _comments(c, rec.comments)
        elif tag == "OtherID":
            # Pre-2017 MEDLINE files have no ArticleIdList; NLM put the PMCID here
            # ("PMC4688250 [Available on 12/22/16]").
            if rec.pmcid is None and c.get("Source") == "NLM":
                v = (c.text or "").strip().split(" ", 1)[0]
                if v.startswith("PMC") and v[3:].isdigit():
                    rec.pmcid = v
        elif tag == "SecondaryIdList" or tag == "SecondarySourceID":
            # Old DTDs: registry numbers as SecondaryId ("ClinicalTrials.gov/NCT...").
            for s in (c if len(c) else [c]):
                v = _text(s)
                if v:
                    name, _, acc = v.rpartition("/")
                    if not name or name.casefold() in TRIAL_REGISTRIES:
                        rid = normalise_registry_id(acc)
                        if rid:
                            rec.registry_ids.append(rid)


def _pubmed_article(el: etree._Element, rec: Record) -> None:
    for c in el.iterchildren("MedlineCitation", "PubmedData"):
        if c.tag == "MedlineCitation":
            _medline_citation(c, rec)
        else:
            # ReferenceList (often most of the record) is never touched.
            for d in c.iterchildren("History", "ArticleIdList"):
                if d.tag == "History":
                    _history(d, rec)
                elif d.tag == "ArticleIdList":
                    _article_ids(d, rec)


def _book_article(el: etree._Element, rec: Record) -> None:
    rec.record_type = "book"
    title = vern = book_title = ""
    editors: list[str] = []
    for c in el:
        if c.tag == "BookDocument":
            for d in c:
                tag = d.tag
                if tag == "PMID":
                    if rec.pmid is None:
                        rec.pmid = (d.text or "").strip() or None
                elif tag == "ArticleIdList":
                    _article_ids(d, rec)
                elif tag == "Book":
                    for b in d:
                        bt = b.tag
                        if bt == "BookTitle":
                            book_title = _text(b)
                        elif bt == "PubDate":
                            rec.year, rec.pub_date = _pub_date(b)
                        elif bt == "AuthorList":
                            _authors(b, editors)
                        elif bt == "Volume":
                            rec.volume = _text(b) or None
                elif tag == "ArticleTitle":
                    title = _text(d)
                elif tag == "VernacularTitle":
                    vern = _text(d)
                elif tag == "Language":
                    lang = _text(d)
                    if lang:
                        rec.languages.append(lang)
                elif tag == "AuthorList":
                    if d.get("Type", "authors") == "authors":
                        _authors(d, rec.authors)
                    else:
                        _authors(d, editors)
                elif tag == "PublicationType":
                    t = _text(d)
                    if t:
                        rec.publication_types.append(t)
                elif tag == "Abstract":
                    _abstract(d, rec.abstract_sections)
                elif tag == "KeywordList":
                    rec.keywords.extend(
                        t for t in (_text(k) for k in d if k.tag == "Keyword") if t
                    )
                elif tag == "ELocationID":
                    if d.get("EIdType") == "doi" and rec.doi is None:
                        rec.doi = normalise_doi(d.text)
                elif tag == "DataBankList":
                    _databanks(d, rec.registry_ids)
                elif tag == "CommentsCorrectionsList":
                    _comments(d, rec.comments)
        elif c.tag == "PubmedBookData":
            for d in c:
                if d.tag == "History":
                    _history(d, rec)
                elif d.tag == "ArticleIdList":
                    _article_ids(d, rec)
    rec.journal = book_title or None
    # A whole-book record has no ArticleTitle: its title is the book's.
    _set_title(rec, title or book_title, vern)
    if not rec.authors:
        rec.authors = editors


def _finish(rec: Record) -> None:
    rec.abstract = _join_abstract(rec.abstract_sections)
    rec.source_id = rec.pmid
    if len(rec.registry_ids) > 1:
        rec.registry_ids = list(dict.fromkeys(rec.registry_ids))
    if len(rec.keywords) > 1:
        rec.keywords = list(dict.fromkeys(rec.keywords))


# ------------------------------------------------------------------------------ sources
def _open(source: Source, file_label: str | None) -> tuple[IO[bytes], str, bool]:
    """A binary stream (gunzipped if the magic bytes say gzip), its label, whether we own
    it (and must close it)."""
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        label = file_label or "<response>"
        if data[:2] == b"\x1f\x8b":
            return gzip.GzipFile(fileobj=io.BytesIO(data)), label, True
        return io.BytesIO(data), label, True
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        label = file_label or path
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed by the caller's finally
        except OSError as exc:
            raise InputError(f"{label}: cannot open ({exc.strerror})") from None
        if fh.read(2) == b"\x1f\x8b":
            fh.seek(0)
            return gzip.GzipFile(fileobj=fh), label, True
        fh.seek(0)
        return fh, label, True
    label = file_label or getattr(source, "name", None) or "<stream>"
    stream = source
    head = b""
    peek = getattr(stream, "peek", None)
    if peek is not None:
        head = peek(2)[:2]
    elif getattr(stream, "seekable", lambda: False)():
        pos = stream.tell()
        head = stream.read(2)
        stream.seek(pos)
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream), str(label), False
    return stream, str(label), False


# ------------------------------------------------------------------------------- parser
def iter_pubmed_xml(
    source: Source, *, source_name: str = "pubmed", file_label: str | None = None
) -> Iterator[Record | Deletion | ParseProblem]:
    """Stream records out of PubMed/MEDLINE XML.

    ``source`` is a path, a binary file object or the raw bytes of a response; gzip is
    detected by its magic bytes. Yields a :class:`Record` per article or book chapter, a
    :class:`Deletion` per ``<DeleteCitation>``, and a :class:`ParseProblem` for a record
    without PMID or title (that record is skipped, the rest continue).

    Raises :class:`MalformedXML` (naming ``file_label`` and the line) when the body is not
    well-formed; records before the fault have already been yielded, so a caller that
    wants all-or-nothing (the E-utilities client retrying a truncated batch) should collect
    first. Raises :class:`EutilsError` on an E-utilities ``<ERROR>`` response and
    :class:`InputError` when the document is some other kind of XML.
    """
    stream, label, owned = _open(source, file_label)
    try:
        yield from _iter(stream, label, source_name)
    finally:
        if owned:
            stream.close()


def _iter(
    stream: IO[bytes], label: str, source_name: str
) -> Iterator[Record | Deletion | ParseProblem]:
    ctx = etree.iterparse(
        stream,
        events=("end",),
        tag=_RECORD_TAGS,
        resolve_entities="internal",  # entities the file declares; never external ones
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    n = 0
    yielded = 0
    withdrawn: list[str] = []  # PMIDs of the DeleteCitation being read
    chunked = False  # some of them were yielded already
    try:
        for _event, el in ctx:
            parent = el.getparent()
            tag = el.tag
            if tag == "PMID":
                if parent is None or parent.tag != "DeleteCitation":
                    continue  # an article's PMID: read with its article
                text = el.text.strip() if el.text else ""
                if text:
                    withdrawn.append(text)
                el.clear(keep_tail=False)
                while el.getprevious() is not None:
                    del parent[0]
                if len(withdrawn) >= DELETION_CHUNK:
                    yield Deletion(tuple(withdrawn))
                    yielded += 1
                    withdrawn, chunked = [], True
                continue
            if parent is not None and parent.getparent() is not None:
                # A MedlineCitation inside a PubmedArticle: handled with its article.
                continue
            if tag == "DeleteCitation":  # its PMIDs were taken as they ended
                if withdrawn or not chunked:  # an empty notice is still a notice
                    yield Deletion(tuple(withdrawn))
                yielded += 1
                withdrawn, chunked = [], False
            elif tag == "ERROR":
                msg = _text(el)
                if msg:  # ESpell & co. carry an empty <ERROR/> on success
                    raise EutilsError(f"{label}: NCBI returned an error: {msg}")
            else:
                n += 1
                line = el.sourceline
                rec = Record(source=source_name)
                if tag == "PubmedArticle":
                    _pubmed_article(el, rec)
                elif tag == "MedlineCitation":
                    _medline_citation(el, rec)
                else:
                    _book_article(el, rec)
                yielded += 1
                if not rec.pmid:
                    yield ParseProblem(f"record {n} (line {line})", "no PMID; skipped", label)
                elif not rec.title:
                    yield ParseProblem(
                        f"PMID {rec.pmid}", "no title (ArticleTitle, VernacularTitle and BookTitle"
                        " empty); skipped", label)
                else:
                    _finish(rec)
                    yield rec
            # Free this record and everything parsed before it.
            el.clear(keep_tail=False)
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        msg = (exc.msg or str(exc)).splitlines()[0]
        raise MalformedXML(
            f"{label}: not well-formed XML at line {line}: {msg}", file=label, line=line
        ) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise MalformedXML(f"{label}: broken gzip stream ({exc})", file=label) from None
    root = ctx.root
    root_tag = root.tag if root is not None else None
    if not yielded and root_tag not in _KNOWN_ROOTS:
        raise InputError(
            f"{label}: not PubMed article XML (root element <{root_tag}>)"
        )


# ------------------------------------------------------------------------------ ESearch
@dataclass(slots=True)
class ESearchResult:
    """One ESearch response (db=pubmed or any other database)."""

    count: int
    retmax: int
    retstart: int
    ids: list[str] = field(default_factory=list)
    webenv: str | None = None
    query_key: str | None = None
    query_translation: str | None = None
    errors: list[str] = field(default_factory=list)  # e.g. "PhraseNotFound: abcXYZ"
    warnings: list[str] = field(default_factory=list)  # e.g. "QuotedPhraseNotFound: ..."


def parse_esearch(body: bytes, *, file_label: str = "<esearch>") -> ESearchResult:
    """Parse an ESearch XML response.

    ``ErrorList``/``WarningList`` entries (PhraseNotFound, FieldNotFound...) are returned in
    ``errors``/``warnings``: NCBI still answered. A top-level ``<ERROR>`` (bad query, server
    trouble) raises :class:`EutilsError`; a body that is not XML raises
    :class:`MalformedXML`; any other XML raises :class:`InputError`.
    """
    parser = etree.XMLParser(resolve_entities="internal", no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or None
        msg = (exc.msg or str(exc)).splitlines()[0]
        raise MalformedXML(
            f"{file_label}: not well-formed XML at line {line}: {msg}", file=file_label,
            line=line,
        ) from None
    if root.tag != "eSearchResult":
        # Any E-utility may answer a failed call with a bare <ERROR> list.
        errors = [t for t in (_text(c) for c in root if c.tag == "ERROR") if t]
        if errors:
            raise EutilsError(f"{file_label}: NCBI returned an error: {'; '.join(errors)}")
        raise InputError(f"{file_label}: not an ESearch result (root element <{root.tag}>)")
    res = ESearchResult(count=0, retmax=0, retstart=0)
    for c in root:
        tag = c.tag
        if tag == "ERROR" and _text(c):
            raise EutilsError(f"{file_label}: NCBI returned an error: {_text(c)}")
        if tag == "Count":
            res.count = int((c.text or "0").strip())
        elif tag == "RetMax":
            res.retmax = int((c.text or "0").strip())
        elif tag == "RetStart":
            res.retstart = int((c.text or "0").strip())
        elif tag == "IdList":
            res.ids = [i.text.strip() for i in c if i.tag == "Id" and i.text]
        elif tag == "WebEnv":
            res.webenv = (c.text or "").strip() or None
        elif tag == "QueryKey":
            res.query_key = (c.text or "").strip() or None
        elif tag == "QueryTranslation":
            res.query_translation = _text(c) or None
        elif tag == "ErrorList":
            res.errors.extend(f"{e.tag}: {_text(e)}" for e in c if isinstance(e.tag, str))
        elif tag == "WarningList":
            res.warnings.extend(f"{e.tag}: {_text(e)}" for e in c if isinstance(e.tag, str))
    return res
