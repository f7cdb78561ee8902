"""The normalised bibliographic record every parser yields and the store keeps.

Parsers (PubMed XML, MEDLINE text, RIS) all produce :class:`Record`; the store's
``add_records`` verb takes them. A deletion notice in an NLM update file is a
:class:`Deletion`; a record the parser could not use is a :class:`ParseProblem`
(reported by PMID or position, skipped, never fatal for the rest of the file).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The publication type PubMed gives a retracted article.
RETRACTED_PUBLICATION = "Retracted Publication"


@dataclass(slots=True)
class AbstractSection:
    """One part of a structured abstract (``label`` None for unlabelled text)."""

    label: str | None
    text: str
    nlm_category: str | None = None


@dataclass(slots=True)
class Comment:
    """A CommentsCorrections link, e.g. ``RetractionIn`` -> PMID 123 ("Retraction in")."""

    ref_type: str
    ref_source: str | None = None
    pmid: str | None = None


@dataclass(slots=True)
class Record:
    """One bibliographic record, source-independent. Text fields are plain Unicode
    (inline markup such as <i> flattened to its text), whitespace-normalised."""

    source: str  # database it came from: "pubmed", "embase", "cochrane", ...
    source_id: str | None = None  # accession number in that source (PMID for PubMed)
    pmid: str | None = None
    doi: str | None = None  # normalised: lower-case, no "https://doi.org/" prefix
    pmcid: str | None = None  # "PMC1234567"
    title: str = ""
    vernacular_title: str | None = None
    abstract: str | None = None  # sections joined with their labels
    abstract_sections: list[AbstractSection] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)  # "Lastname Initials" or collective name
    journal: str | None = None
    journal_abbrev: str | None = None
    issn: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    year: int | None = None
    pub_date: str | None = None  # as printed, e.g. "1998 Dec-1999 Jan"
    entrez_date: str | None = None  # ISO date when PubMed created the record, if known
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)  # descriptor names, "*" = major
    keywords: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    registry_ids: list[str] = field(default_factory=list)  # NCT..., ISRCTN..., ChiCTR...
    comments: list[Comment] = field(default_factory=list)
    record_type: str = "article"  # "article" | "book"

    @property
    def is_retracted(self) -> bool:
        """True when PubMed links a retraction notice or marks it as retracted."""
        return any(c.ref_type == "RetractionIn" for c in self.comments) or (
            RETRACTED_PUBLICATION in self.publication_types
        )


@dataclass(slots=True, frozen=True)
class Deletion:
    """PMIDs NLM withdrew (``<DeleteCitation>`` in update files)."""

    pmids: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class ParseProblem:
    """A record that could not be used: where it was and what is wrong."""

    where: str  # "PMID 12345" or "record 17 (line 340)"
    message: str
    file: str | None = None

    def __str__(self) -> str:
        loc = f"{self.file}: " if self.file else ""
        return f"{loc}{self.where}: {self.message}"
