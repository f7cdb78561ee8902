"""MEDLINE/.nbib text and RIS exports map onto the same Record fields as PubMed XML.
Expected values were read from the raw files named in each test."""

from __future__ import annotations

from pathlib import Path

from ingest.detect import parse_file
from ingest.medline import iter_medline
from ingest.records import Record
from ingest.ris import iter_ris, ris_author


def _recs(items) -> list[Record]:
    return [r for r in items if isinstance(r, Record)]


def test_medline_leading_blank_line(fixtures: Path):
    # biopython/pubmed_result1.txt starts with an empty line; PMID 12230038,
    # "TI  - The Bio* toolkits--a brief overview.", one AU "Mangalam H", DP 2002 Sep,
    # EDAT 2002/09/17 10:00.
    (r,) = _recs(iter_medline(str(fixtures / "biopython" / "pubmed_result1.txt")))
    assert r.pmid == "12230038" and r.source_id == "12230038"
    assert r.title == "The Bio* toolkits--a brief overview."
    assert r.authors == ["Mangalam H"]
    assert (r.year, r.pub_date, r.entrez_date) == (2002, "2002 Sep", "2002-09-17")


def test_nbib_crlf_collective_name_and_registry(fixtures: Path):
    # nbib/pubmed-balloongui-set.nbib (CRLF), first record PMID 30776994: 64 AU lines then
    # "CN  - STRATIS Investigators", "SI  - ClinicalTrials.gov/NCT02239640",
    # "LID - 10.1161/STROKEAHA.118.021126 [doi]", DP 2019 Mar, EDAT 2019/02/20 06:00.
    r = _recs(iter_medline(str(fixtures / "nbib" / "pubmed-balloongui-set.nbib")))[0]
    assert r.pmid == "30776994"
    assert r.authors[0] == "Zaidat OO" and r.authors[-1] == "STRATIS Investigators"
    assert len(r.authors) == 65
    assert r.registry_ids == ["NCT02239640"]
    assert r.doi == "10.1161/strokeaha.118.021126"
    assert (r.year, r.entrez_date) == (2019, "2019-02-20")
    # The title wraps over two lines in the file: joined with one space, no CR left.
    assert r.title.startswith("Impact of Balloon Guide Catheter Use on Clinical and "
                              "Angiographic Outcomes in the")
    assert "\r" not in r.title and "  " not in r.title


def test_nbib_comment_and_erratum_tags(fixtures: Path):
    # litsearchr-tutorial/pubmed-medication-set.nbib, PMID 28859190 (line 146): CIN x3
    # (PMIDs 28859188, 30177998, 30665991) and "EIN - JAMA Pediatr. 2018 Oct
    # 1;172(10):992. PMID: 30178022".
    recs = _recs(iter_medline(str(fixtures / "litsearchr-tutorial" /
                                  "pubmed-medication-set.nbib")))
    r = next(x for x in recs if x.pmid == "28859190")
    assert sorted((c.ref_type, c.pmid) for c in r.comments) == [
        ("CommentIn", "28859188"), ("CommentIn", "30177998"), ("CommentIn", "30665991"),
        ("ErratumIn", "30178022")]
    err = next(c for c in r.comments if c.ref_type == "ErratumIn")
    assert err.ref_source == "JAMA Pediatr. 2018 Oct 1;172(10):992."
    assert "Meta-Analysis" in r.publication_types and r.journal == "JAMA pediatrics"
    # Book records (BTI) in the same export are typed as books.
    assert any(x.record_type == "book" for x in recs)


def test_medline_isrctn_and_lid(fixtures: Path):
    # searchbuildR/custom_rct_popset.txt PMID 36581990: "SI  - ISRCTN/ISRCTN16235884",
    # "LID - 10.1136/bmjopen-2022-060951 [doi]" then "LID - e060951", 7 AU, DP 2022 Sep 1.
    recs = _recs(iter_medline(str(fixtures / "searchbuildR" / "custom_rct_popset.txt")))
    r = next(x for x in recs if x.pmid == "36581990")
    assert r.registry_ids == ["ISRCTN16235884"]
    assert r.doi == "10.1136/bmjopen-2022-060951"
    assert len(r.authors) == 7 and r.year == 2022
    assert r.publication_types[0] == "Clinical Trial Protocol"


def test_pmc_medlars_export(fixtures: Path):
    # nbib/pmc_medlars.txt first record: "PMC - PMC6055010", "PMID- 30042925", empty
    # "AB  - " (only an OAB publisher note), "AID - 10.1016/j.mex.2018.03.007 [doi]",
    # 6 FAU/AU pairs, DP 2018.
    r = _recs(iter_medline(str(fixtures / "nbib" / "pmc_medlars.txt")))[0]
    assert (r.pmcid, r.pmid) == ("PMC6055010", "30042925")
    assert r.abstract is None
    assert r.doi == "10.1016/j.mex.2018.03.007"
    assert r.authors[0] == "Takeuchi Y" and len(r.authors) == 6
    assert r.title == ("A method package for electrophysiological evaluation of "
                       "reconstructed or regenerated facial nerves in rodents.")


def test_multiline_mesh(fixtures: Path):
    # biopython/pubmed_result3.txt lines 62-63: "MH  - High-Intensity Focused Ultrasound
    # Ablation/adverse" + continuation "      effects/instrumentation/*methods": the major
    # marker is only on the continuation line. 8 MH headings in all.
    (r,) = _recs(iter_medline(str(fixtures / "biopython" / "pubmed_result3.txt")))
    assert "*High-Intensity Focused Ultrasound Ablation" in r.mesh_terms
    assert len(r.mesh_terms) == 8 and all("  " not in m for m in r.mesh_terms)


def test_zotero_ris(fixtures: Path):
    # asreview/pubmed_zotero.ris record 1: "DA  - 2019///", "PY  - 2019",
    # "SN  - 1895-5770 1895-5770", AU "Basinska, Malgorzata A."; record 2:
    # "DA  - 2019/10//undefined", "SN  - 1128-045X 1123-6337"; record 3 KW
    # "Colitis, Ulcerative/*therapy".
    recs = _recs(iter_ris(str(fixtures / "asreview" / "pubmed_zotero.ris"),
                          source_name="zotero"))
    r1, r2, r3 = recs[:3]
    assert r1.source == "zotero" and r1.pmid is None
    assert (r1.year, r1.pub_date, r1.issn) == (2019, "2019", "1895-5770")
    assert r1.authors[:3] == ["Rudnik A", "Piotrowicz G", "Basinska MA"]
    assert r1.doi == "10.5114/pg.2018.81081" and r1.pages == "121-128"
    assert r1.journal == "Przeglad gastroenterologiczny"
    assert r1.journal_abbrev == "Prz Gastroenterol"
    assert (r2.pub_date, r2.issn) == ("2019/10", "1128-045X")
    assert "*Colitis, Ulcerative" in r3.mesh_terms
    assert "Bayes Theorem" in r3.keywords
    assert [s.label for s in r3.abstract_sections][:2] == ["BACKGROUND", "METHODS"]


def test_endnote_ris(fixtures: Path):
    # asreview/pubmed_endnote.txt record 1: "AN  - 21553931", "DP  - NLM", "DA  - Jun",
    # "PY  - 2011", "ET  - 2011/05/11", KW "Boswellia/*chemistry" on an untagged
    # continuation line, "SP  - 349-69", "DO  - 10.2165/11586800-000000000-00000".
    recs = _recs(parse_file(fixtures / "asreview" / "pubmed_endnote.txt",
                            source_name="pubmed"))
    r = recs[0]
    assert r.pmid == "21553931" and r.source_id == "21553931"
    assert (r.year, r.pub_date) == (2011, "2011 Jun")
    assert r.pages == "349-69" and r.doi == "10.2165/11586800-000000000-00000"
    assert "*Boswellia" in r.mesh_terms and "Animals" in r.mesh_terms
    assert r.keywords == []  # DP NLM: every KW is a MeSH heading
    assert r.authors[0] == "Abdel-Tawab M"


def test_endnote_accession_is_not_a_pmid_for_other_databases(fixtures: Path):
    """Without "DP - NLM" an AN is the source's own accession (Embase, WoS): only
    source_id. The EndNote file does say NLM, so strip that line to check."""
    text = (fixtures / "asreview" / "pubmed_endnote.txt").read_text()
    text = text.replace("DP  - NLM\n", "")
    r = _recs(iter_ris(text.encode(), source_name="embase"))[0]
    assert r.pmid is None and r.source_id == "21553931"


def test_ris_author_forms():
    assert ris_author("Slesser, A. A. P.") == "Slesser AAP"
    assert ris_author("Abdel-Tawab, M.") == "Abdel-Tawab M"
    assert ris_author("Smith, Jean-Pierre, Jr") == "Smith JP"
    assert ris_author("STRATIS Investigators") == "STRATIS Investigators"


def test_markup_in_medline_text_is_stripped(fixtures: Path):
    # litsearchr-tutorial/pubmed-medication-set.nbib lines 5313-5316 (PMID 30024639): the
    # AB carries raw MathML over several continuation lines: "attended <mml:math
    # xmlns:mml=...> <mml:mrow><mml:mover><mml:mi>x</mml:mi> <mml:mo>¯</mml:mo>
    # </mml:mover> <mml:mspace/></mml:mrow> </mml:math> 7.7 (SD 2.8) sessions".
    recs = _recs(iter_medline(str(fixtures / "litsearchr-tutorial" /
                                  "pubmed-medication-set.nbib")))
    r = next(x for x in recs if x.pmid == "30024639")
    assert "attended x ¯ 7.7 (SD 2.8) sessions." in r.abstract
    assert "mml" not in r.abstract


def test_strip_markup_leaves_comparisons_alone():
    from ingest.normalise import strip_markup

    assert strip_markup("vitamin D<sub>3</sub> and <i>E. coli</i>") == "vitamin D3 and E. coli"
    assert strip_markup("P<0.05 when a<b and c>d") == "P<0.05 when a<b and c>d"
