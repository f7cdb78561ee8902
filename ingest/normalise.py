"""Normalisation helpers shared by the parsers and by deduplication.

The dedup stage imports these names; keep them stable. Every function is pure and cheap
(no regex compiled per call) because dedup runs them on every record of a 100k import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from ingest.records import AbstractSection

# A title that had to be taken from VernacularTitle carries this suffix so a screener sees
# that PubMed has no English title; normalise_title drops it again for matching.
VERNACULAR_FLAG = " [vernacular title; no English title]"

_DOI_PREFIX = re.compile(
    r"^(?:https?://(?:dx\.)?doi\.org/|doi\.org/|doi:\s*|doi\s+|urn:doi:)", re.IGNORECASE
)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
_TITLE_DROP = re.compile(r"[^\w\s]|_", re.UNICODE)
_APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc\u2018`")
# What the apostrophe table and _TITLE_DROP do to an ASCII title, as one table (None
# deletes: CPython translates ASCII text through such a table in one fast pass).
_ASCII_TITLE = str.maketrans({
    c: None if c in "'`" else " "
    for c in map(chr, range(128))
    if c in "'`_" or not (c.isalnum() or c.isspace())
})
_INLINE_TAGS = re.compile(
    r"</?(?:i|b|u|em|strong|sup|sub|sc|br)\s*/?>|</?mml:[A-Za-z]+(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_TAGS = re.compile(r"<[^<>]{1,200}>")
# A label starts the text or follows a sentence end; upper-case words, 3-60 chars.
_LABEL_AT_START = re.compile(r"([A-Z][A-Z0-9'&/,()\- ]{2,60}):\s")
# A label after a sentence end, matched only in the few characters before each colon
# (see _labels_after): scanning the whole abstract for sentence ends cost more than the
# rest of splitting it.
_LABEL_AFTER_SENTENCE = re.compile(r"[.?!)\]]\s([A-Z][A-Z0-9'&/,()\- ]{2,60}):\s\Z")
_LABEL_REACH = 64  # sentence end, space, a label of at most 61 characters, the colon
_NCT = re.compile(r"\bNCT\s?0*(\d{1,8})\b", re.IGNORECASE)

# Word ligatures and letters NFKD leaves alone but people type differently.
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l",
                       "Ł": "l", "đ": "d", "Đ": "d", "œ": "oe", "Œ": "oe", "ı": "i"})


# Every character str.split() splits on besides " " (str.isspace(); the test suite checks
# the list against Python's own): ASCII ones first, then those only non-ASCII text can hold.
_ASCII_SPACES = ("\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")
_OTHER_SPACES = ("\xa0", "\x85", "\u1680", *map(chr, range(0x2000, 0x200B)), "\u2028",
                 "\u2029", "\u202f", "\u205f", "\u3000")
_SPACE_RUNS = re.compile("  +")  # not " {2,}": a literal prefix is searched 7x faster
# Below this length split-and-join is cheaper than looking for other whitespace first.
_LONG_TEXT = 80


def _spaces_only(text: str) -> bool:
    """True when " " is the only whitespace character in ``text``."""
    for ch in _ASCII_SPACES:
        if ch in text:
            return False
    if not text.isascii():
        for ch in _OTHER_SPACES:
            if ch in text:
                return False
    return True


def clean_text(text: str | None) -> str | None:
    """Collapse every run of whitespace (including newlines, NBSP) to one space and trim.

    Returns None for None or text that is blank after trimming, so "no value" has one
    spelling in the store. A long text whose only whitespace is " " (most abstracts) has
    its runs of spaces collapsed in place: splitting a 2 KB abstract into words and
    joining them again cost 15 us, a tenth of what parsing a RIS reference costs.
    """
    if text is None:
        return None
    if len(text) >= _LONG_TEXT and _spaces_only(text):
        if "  " in text:
            text = _SPACE_RUNS.sub(" ", text)
        return text.strip(" ") or None
    return " ".join(text.split()) or None


def strip_markup(text: str | None) -> str | None:
    """Remove inline HTML/MathML tags that text exports (MEDLINE .nbib, RIS) carry
    verbatim in titles and abstracts ("vitamin D<sub>3</sub>", "<mml:math ...>"); text
    between tags is kept, whitespace collapsed. "P<0.05" and "a<b" are left alone: only
    known inline tags are matched."""
    if text is None or "<" not in text:
        return clean_text(text)
    return clean_text(_INLINE_TAGS.sub("", text))


def normalise_doi(doi: str | None) -> str | None:
    """Canonical DOI: lower-case, no ``https://doi.org/`` / ``doi:`` prefix, no trailing
    punctuation a citation may have glued on. None when it is not a DOI (``10.`` + registrant
    + ``/`` + suffix), so a junk value never becomes a dedup key."""
    if not doi:
        return None
    d = doi.strip()
    # Prefixes can be stacked in exports ("doi: https://doi.org/10...").
    for _ in range(3):
        new = _DOI_PREFIX.sub("", d).strip()
        if new == d:
            break
        d = new
    # RIS/MEDLINE exports sometimes append "[doi]" or a sentence full stop.
    if d.endswith("[doi]"):
        d = d[:-5].strip()
    d = d.rstrip(".,;")
    d = d.lower()
    if " " in d:
        d = d.split()[0]
    return d if _DOI_SHAPE.match(d) else None


def strip_diacritics(text: str) -> str:
    """Remove combining marks after NFKD decomposition ("Müller" -> "Muller")."""
    if text.isascii():  # nothing to fold or decompose: the common case, skip the work
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_title(title: str | None) -> str:
    """Title key for fuzzy matching: no markup, no diacritics, casefolded, punctuation
    dropped, whitespace collapsed. Translated titles "[...]." and the vernacular flag
    reduce to their words. Empty string for no title."""
    if not title:
        return ""
    t = title
    if t.endswith(VERNACULAR_FLAG):
        t = t[: -len(VERNACULAR_FLAG)]
    if "<" in t:
        # Inline markup sits inside words ("D<sub>3</sub>"): drop it without a gap.
        t = _TAGS.sub("", t)
    if t.isascii():
        # Nearly every title: casefold is lower, \w and \s are ASCII classes here.
        return " ".join(t.lower().translate(_ASCII_TITLE).split())
    t = strip_diacritics(t).casefold()
    t = t.translate(_APOSTROPHES)
    t = _TITLE_DROP.sub(" ", t)
    return " ".join(t.split())


def first_author_key(authors: Iterable[str] | str | None) -> str:
    """Surname key of the first author: "Müller-Schmidt KA" -> "mullerschmidt".

    Accepts the author list or one name. Names are "Lastname Initials" (PubMed style) or
    "Lastname, Firstname" (RIS); a collective name keys on its whole text. Empty string
    when there is no author.
    """
    if authors is None:
        return ""
    if isinstance(authors, str):
        name = authors
    else:
        name = next((a for a in authors if a and a.strip()), "")
    name = name.strip()
    if not name:
        return ""
    if "," in name:
        surname = name.split(",", 1)[0]
    else:
        parts = name.split()
        # "Smith AB": the last token is all-caps initials -> surname is the rest.
        if len(parts) > 1 and parts[-1].isupper() and len(parts[-1]) <= 4:
            surname = " ".join(parts[:-1])
        else:
            surname = name
    key = strip_diacritics(surname).casefold()
    return "".join(ch for ch in key if ch.isalnum())


def normalise_registry_id(value: str | None) -> str | None:
    """Trial registration id in its canonical spelling: NCT ids upper-case and zero-padded
    to 8 digits; other registries keep their case (ChiCTR, ISRCTN) minus inner spaces."""
    v = clean_text(value)
    if not v:
        return None
    m = _NCT.fullmatch(v)
    if m:
        return f"NCT{int(m.group(1)):08d}"
    return v.replace(" ", "")


def unique(items: Iterable[str]) -> list[str]:
    """Keep first occurrences, drop blanks (order matters for author/MeSH lists)."""
    seen: set[str] = set()
    out: list[str] = []
    for it in items:
        if it and it not in seen:
            seen.add(it)
            out.append(it)
    return out


def _labels_after(text: str, pos: int) -> Iterator[tuple[str, int, int]]:
    """(label, where it starts, where its text starts) for each "LABEL: " after a sentence
    end from ``pos`` on: the matches a left-to-right scan for the pattern would find, as
    a label cannot hold a colon, so each one ends at the first colon after it."""
    end = len(text)
    colon = text.find(":", pos)
    while colon >= 0 and colon + 1 < end:
        if text[colon + 1].isspace():
            m = _LABEL_AFTER_SENTENCE.search(text, max(pos, colon - _LABEL_REACH), colon + 2)
            if m is not None:
                yield m.group(1), m.start(1), m.end()
                pos = m.end()
        colon = text.find(":", colon + 1)


def split_labelled_abstract(text: str) -> list[AbstractSection]:
    """Sections of an abstract flattened to one paragraph with upper-case labels
    ("BACKGROUND: ... METHODS: ...", as MEDLINE text and RIS exports carry it); one
    unlabelled section when it does not start with a label."""
    first = _LABEL_AT_START.match(text)
    if first is None:
        return [AbstractSection(None, text)]
    # (label, where the label starts, where its text starts)
    marks = [(first.group(1), 0, first.end())]
    marks.extend(_labels_after(text, first.end()))
    sections = []
    for i, (label, _start, body_start) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else len(text)
        body = text[body_start:end].strip()
        if body:
            sections.append(AbstractSection(label.strip(), body))
    return sections
