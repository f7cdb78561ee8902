"""Dedup over time: decisions survive re-imports, runs are incremental, deleted records
drop out, writes are all-or-nothing, and the PRISMA identification counts add up."""

from __future__ import annotations

from pathlib import Path

import pytest
from dedup_helpers import by_pmid, import_file, ris_entry, uncertain_copies, write_ris

from registry.dedup import deduplicate, review_queue
from registry.store import Store
from registry.store.dedup import DedupMixin


def pending_ids(store: Store) -> set[frozenset[str]]:
    return {frozenset((p["source_id_a"], p["source_id_b"])) for p in store.dedup_pending()}


def cluster_of(store: Store, source: str, source_id: str) -> tuple[int, bool]:
    rid = store._scalar(
        "SELECT record_id FROM records WHERE source = ? AND source_id = ?", [source, source_id]
    )
    return store.record_clusters([rid])[rid]


def test_decisions_persist_across_reimport_and_new_record_ids(
    store: Store, ncbi_pubmed: Path, tmp_path: Path
) -> None:
    import_file(store, ncbi_pubmed, source="pubmed")
    copies = uncertain_copies(ncbi_pubmed)
    ris = write_ris(tmp_path / "embase.ris", copies)
    import_file(store, ris, source="embase")
    deduplicate(store)
    assert pending_ids(store) == {
        frozenset(p) for p in (("33278872", "L20"), ("30158200", "L21"), ("24792780", "L22"))
    }
    answers = iter(["n", "d", "s"])
    seen: list[str] = []

    def ask(pair: dict, i: int, n: int) -> str:
        seen.append(pair["source_id_b"])
        return next(answers)

    summary = review_queue(store, ask, decided_by="tester")
    assert (summary.not_duplicate, summary.duplicate, summary.skipped) == (1, 1, 1)
    assert summary.remaining == 1
    first_no, second_yes = seen[0], seen[1]
    no_pmid = {"L20": "33278872", "L21": "30158200", "L22": "24792780"}[first_no]
    yes_pmid = {"L20": "33278872", "L21": "30158200", "L22": "24792780"}[second_yes]
    assert cluster_of(store, "embase", second_yes)[0] == cluster_of(store, "pubmed", yes_pmid)[0]
    assert cluster_of(store, "embase", first_no)[0] != cluster_of(store, "pubmed", no_pmid)[0]

    # Re-import the same file: nothing re-opens, nothing changes.
    import_file(store, ris, source="embase")
    assert deduplicate(store).changed is False
    assert len(pending_ids(store)) == 1

    # The Embase records come back with new record ids (store rebuilt, file re-imported with
    # changed titles): the decisions are keyed by (source, accession number) and still hold.
    store._exec("DELETE FROM records WHERE source = 'embase'")
    changed = [dict(c, TI=str(c["TI"]) + ".") for c in copies]
    import_file(store, write_ris(tmp_path / "embase2.ris", changed), source="embase")
    res = deduplicate(store)
    assert res.dropped == 3 and res.examined == 3
    assert pending_ids(store) == {frozenset((s, {"L20": "33278872", "L21": "30158200",
                                                 "L22": "24792780"}[s]))
                                  for s in ("L20", "L21", "L22") if s not in seen[:2]}
    assert cluster_of(store, "embase", second_yes)[0] == cluster_of(store, "pubmed", yes_pmid)[0]
    assert cluster_of(store, "embase", first_no)[0] != cluster_of(store, "pubmed", no_pmid)[0]


def test_not_duplicate_decision_overrides_a_fuzzy_link(
    store: Store, ncbi_pubmed: Path, tmp_path: Path
) -> None:
    dex = by_pmid(ncbi_pubmed)["24792780"]
    ris = write_ris(tmp_path / "e.ris", [ris_entry(dex, AN="L30", DO=None,
                                                   TI=dex.title.upper())])
    ids = import_file(store, ncbi_pubmed, source="pubmed")
    [emb] = import_file(store, ris, source="embase")
    assert deduplicate(store).fuzzy_links == 1
    pub = ids[2]  # 24792780 is the third record of the file
    assert store.record_clusters([emb])[emb][0] == store.record_clusters([pub])[pub][0]
    store.record_dedup_decisions([(pub, emb, "not_duplicate")], decided_by="tester")
    res = deduplicate(store)
    assert res.changed and res.duplicates == 0
    assert store.record_clusters([emb, pub]) == {emb: (emb, True), pub: (pub, True)}


def test_incremental_only_new_records_are_examined(
    store: Store, ncbi_pubmed: Path, fixtures: Path, tmp_path: Path
) -> None:
    import_file(store, ncbi_pubmed, source="pubmed")
    first = deduplicate(store)
    assert first.examined == 5
    nbib = import_file(store, fixtures / "nbib" / "pubmed-balloongui-set.nbib", source="pubmed")
    second = deduplicate(store)
    assert second.examined == len(nbib) == 75
    before = store.dump()
    third = deduplicate(store)
    assert (third.examined, third.changed) == (0, False)
    assert store.dump() == before
    # Re-importing an unchanged file does not make its records new again.
    import_file(store, ncbi_pubmed, source="pubmed")
    assert deduplicate(store).examined == 0


def test_deleted_records_are_left_out(store: Store, ncbi_pubmed: Path, tmp_path: Path) -> None:
    pm = by_pmid(ncbi_pubmed)["30158200"]
    ris = write_ris(tmp_path / "e.ris", [ris_entry(pm, AN="L40")])  # same DOI
    import_file(store, ncbi_pubmed, source="pubmed")
    [emb] = import_file(store, ris, source="embase")
    assert deduplicate(store).duplicates == 1
    assert store.mark_deleted(["30158200"]) == 1
    res = deduplicate(store)
    assert (res.dropped, res.duplicates, res.clusters) == (1, 0, 0)
    pub = store._scalar("SELECT record_id FROM records WHERE source_id = '30158200'")
    assert store.record_clusters([emb, pub]) == {emb: (emb, True), pub: (pub, False)}
    prisma = store.prisma_identification("rv")
    assert prisma["deleted_records_excluded"] == 1
    assert prisma["records_identified"] == {"embase": 1, "pubmed": 4}


def test_a_failed_save_leaves_the_store_as_it_was(
    store: Store, ncbi_pubmed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(store, ncbi_pubmed, source="pubmed")
    import_file(store, write_ris(tmp_path / "e.ris", uncertain_copies(ncbi_pubmed)),
                source="embase")
    before = store.dump()
    calls = {"n": 0}
    real = DedupMixin._bulk

    def flaky(self: DedupMixin, frame: object, fn: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # keys are written, the queued pairs are next
            raise RuntimeError("disk full")
        real(self, frame, fn)

    monkeypatch.setattr(DedupMixin, "_bulk", flaky)
    with pytest.raises(RuntimeError, match="disk full"):
        deduplicate(store)
    assert store.dump() == before
    monkeypatch.setattr(DedupMixin, "_bulk", real)
    assert deduplicate(store).queued == 3


def test_prisma_counts_on_a_hand_made_set(
    store: Store, ncbi_pubmed: Path, fixtures: Path, tmp_path: Path
) -> None:
    """Worked example:

    review "rv"
      pubmed run   ncbiutils/pubmed.xml            5 records, PMID 151222 later deleted -> 4
      embase run   4 RIS records: 30158200 with its PMID (hard-key duplicate), 24792780
                   upper-cased without ids (fuzzy duplicate), 33278872 shortened without
                   authors (uncertain pair), and 1 record found nowhere else      -> 4
      wos run      asreview/pubmed_zotero.ris      6 records, none elsewhere       -> 6
    identified 4 + 4 + 6 = 14; duplicates removed 2 (the hard-key and the fuzzy copy);
    after duplicates removed 14 - 2 = 12; uncertain pairs pending 1; deleted excluded 1.
    review "other": nbib/single.nbib (1 pubmed record) counts only when review is None:
    identified 15, after 13.
    """
    recs = by_pmid(ncbi_pubmed)
    endnote = fixtures / "asreview" / "pubmed_endnote.txt"
    boswellia = next(iter(by_pmid(endnote).values()))
    ris = write_ris(tmp_path / "embase.ris", [
        ris_entry(recs["30158200"], AN="E1", N1="PMID: 30158200"),
        ris_entry(recs["24792780"], AN="E2", DO=None, TI=recs["24792780"].title.upper()),
        uncertain_copies(ncbi_pubmed)[0],
        ris_entry(boswellia, AN="E4"),
    ])
    import_file(store, ncbi_pubmed, source="pubmed")
    import_file(store, ris, source="embase")
    import_file(store, fixtures / "asreview" / "pubmed_zotero.ris", source="wos")
    import_file(store, fixtures / "nbib" / "single.nbib", source="pubmed", review="other")
    store.mark_deleted(["151222"])
    deduplicate(store)
    assert store.prisma_identification("rv") == {
        "review": "rv",
        "records_identified": {"embase": 4, "pubmed": 4, "wos": 6},
        "records_identified_total": 14,
        "duplicates_removed": 2,
        "records_after_duplicates_removed": 12,
        "uncertain_pairs_pending": 1,
        "deleted_records_excluded": 1,
        "records_not_yet_deduplicated": 0,
    }
    everything = store.prisma_identification(None)
    assert everything["records_identified"] == {"embase": 4, "pubmed": 5, "wos": 6}
    assert (everything["records_identified_total"],
            everything["records_after_duplicates_removed"]) == (15, 13)


def test_view_covers_records_dedup_has_not_seen(store: Store, ncbi_pubmed: Path) -> None:
    ids = import_file(store, ncbi_pubmed, source="pubmed")
    rows = store._rows("SELECT record_id, cluster_id, is_primary FROM v_record_cluster")
    assert sorted(rows) == [(i, i, True) for i in sorted(ids)]
    assert store.prisma_identification("rv")["records_not_yet_deduplicated"] == 5


def test_queue_asks_once_per_pair_of_clusters(
    store: Store, ncbi_pubmed: Path, tmp_path: Path
) -> None:
    fracture = by_pmid(ncbi_pubmed)["30158200"]
    shortened = uncertain_copies(ncbi_pubmed)[1]  # L21, a shortened copy of 30158200
    ris = write_ris(tmp_path / "e.ris", [
        ris_entry(fracture, AN="L1", N1="PMID: 30158200"), shortened,
    ])
    import_file(store, ncbi_pubmed, source="pubmed")
    import_file(store, ris, source="embase")
    res = deduplicate(store)
    # L21 scores in between against both 30158200 and its PMID twin L1: two queued pairs,
    # one question (the two are one cluster).
    assert (res.hard_links, res.queued, res.pending) == (1, 2, 1)
    asked: list[int] = []
    summary = review_queue(store, lambda p, i, n: asked.append(i) or "d", decided_by="t")
    assert (asked, summary.duplicate, summary.remaining) == ([1], 1, 0)
    assert len({cluster_of(store, s, i)[0] for s, i in
                (("pubmed", "30158200"), ("embase", "L1"), ("embase", "L21"))}) == 1
