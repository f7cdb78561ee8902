"""Format detection and the single entry point ``parse_file`` used by ``registry import``.

Detection sniffs content, never the extension: gzip by its magic bytes (then the
decompressed head is sniffed), PubMed XML by its root element, MEDLINE text by a
``PMID-``/``PMC -`` tag line, RIS by ``TY  -``. Empty, binary and unrecognised files raise
:class:`InputError` with one line naming the file.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from ingest.bounded import open_input
from ingest.errors import InputError
from ingest.medline import iter_medline
from ingest.pubmed_xml import iter_pubmed_xml
from ingest.records import Deletion, ParseProblem, Record
from ingest.ris import iter_ris

FORMATS = ("pubmed-xml", "medline", "ris")
_ALIASES = {
    "pubmed-xml": "pubmed-xml", "xml": "pubmed-xml", "pubmed_xml": "pubmed-xml",
    "medline": "medline", "nbib": "medline", "pubmed": "medline", "txt": "medline",
    "ris": "ris",
}
_SNIFF_BYTES = 16384
_XML_ROOTS = ("PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet",
              "PubmedArticle", "PubmedBookArticle", "MedlineCitation")
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w:.\-]*)")
_MEDLINE_TAG = re.compile(r"^(PMID|PMC )- ?\S", re.MULTILINE)
_RIS_TAG = re.compile(r"^TY  -", re.MULTILINE)
_ANY_MEDLINE_LINE = re.compile(r"^[A-Z][A-Z0-9]{1,3} {0,2}- ")


FORMAT_ALIASES = _ALIASES  # public name


def resolve_format(name: str) -> str:
    """The canonical format for a ``--format`` value ("xml" -> "pubmed-xml", "nbib" ->
    "medline"); InputError for anything else."""
    kind = _ALIASES.get(name.strip().lower())
    if kind is None:
        raise InputError(f"unknown format {name!r}; use one of {', '.join(FORMATS)}")
    return kind


def _head(path: Path) -> bytes:
    fh = open_input(path, str(path))
    try:
        return fh.read(_SNIFF_BYTES)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise InputError(f"{path}: broken gzip file ({exc})") from None
    finally:
        fh.close()


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > max(4, len(head) // 100)


def detect_format(path: str | os.PathLike[str]) -> str:
    """Return ``"pubmed-xml"``, ``"medline"`` or ``"ris"`` for the file at ``path``.

    Raises :class:`InputError` (one line, naming the file) for an empty file, a binary
    file, XML that is not PubMed article XML (an ESearch or HTML error page, say) and
    anything else that is none of the three formats.
    """
    p = Path(path)
    head = _head(p)
    if not head.strip():
        raise InputError(f"{p}: file is empty")
    if _looks_binary(head):
        raise InputError(f"{p}: binary file, not PubMed XML, MEDLINE or RIS text")
    body = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if body.startswith(b"<"):
        root = None
        for m in _FIRST_ELEMENT.finditer(body):
            root = m.group(1).decode("ascii", "replace")
            break
        # "<!DOCTYPE PubmedArticleSet" names the root before the first element does.
        if root in _XML_ROOTS:
            return "pubmed-xml"
        raise InputError(
            f"{p}: XML whose root is <{root}>, not PubMed article XML "
            f"(expected <PubmedArticleSet> or <MedlineCitationSet>)"
        )
    text = body.decode("utf-8", "replace")
    if _RIS_TAG.search(text):
        return "ris"
    if _MEDLINE_TAG.search(text):
        return "medline"
    first = text.splitlines()[0] if text else ""
    if _ANY_MEDLINE_LINE.match(first):
        return "medline"
    raise InputError(
        f"{p}: unrecognised format (not PubMed XML, MEDLINE/.nbib or RIS); "
        f"give --format if it is one of them"
    )


def parse_file(
    path: str | os.PathLike[str], *, fmt: str | None = None, source_name: str = "pubmed"
) -> Iterator[Record | Deletion | ParseProblem]:
    """Parse an export file of any supported format (gzip accepted) into records.

    ``fmt`` forces the format (``pubmed-xml``/``xml``, ``medline``/``nbib``, ``ris``);
    otherwise it is detected from the content. ``source_name`` is the database the file
    came from, recorded on every record (``--source`` of ``registry import``). Problems in
    single records come out as :class:`ParseProblem`; an unusable file raises
    :class:`InputError` before any record is yielded (except a PubMed XML file that
    breaks half-way, which raises ``MalformedXML`` at the fault).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a file")
    if fmt is None:
        kind = detect_format(p)
    else:
        kind = resolve_format(fmt)
        head = _head(p)
        if not head.strip():
            raise InputError(f"{p}: file is empty")
        if _looks_binary(head):
            raise InputError(f"{p}: binary file, not {kind} text")
    label = str(p)
    if kind == "pubmed-xml":
        return _stream(iter_pubmed_xml, p, source_name, label)
    if kind == "medline":
        return _stream(iter_medline, p, source_name, label)
    return _stream(iter_ris, p, source_name, label)


def _stream(
    parse: Callable[..., Iterator[Record | Deletion | ParseProblem]], p: Path,
    source_name: str, label: str,
) -> Iterator[Record | Deletion | ParseProblem]:
    """Run a parser over the file's (gunzipped, ratio-guarded) byte stream."""
    fh = open_input(p, label)
    try:
        yield from parse(fh, source_name=source_name, file_label=label)
    finally:
        fh.close()
