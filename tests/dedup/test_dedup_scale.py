"""Dedup at scale (issue 11 item 3): keys are built column by column in bounded batches,
blocking runs in the store, and a large run caps the database's working memory. Small
samples here; the timed scale runs are bench/bench_dedup.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from dedup_helpers import import_file, parse
from test_dedup_scoring import TITLE, indexed, key

from registry.dedup import candidate_pairs, deduplicate, make_key, make_keys
from registry.dedup.blocking import scan_candidates
from registry.dedup.keys import keys_frame
from registry.store import Store


def test_a_batch_keyed_column_by_column_equals_each_record_keyed_alone(
    store: Store, ncbi_pubmed: Path, fixtures: Path
) -> None:
    import_file(store, ncbi_pubmed, source="pubmed")
    import_file(store, fixtures / "nbib" / "pubmed-balloongui-set.nbib", source="pubmed")
    batches = list(store.dedup_records_to_key(batch=7))
    assert len(batches) == 12 and all(len(b["record_id"]) <= 7 for b in batches)  # 80 records
    for batch in batches:
        rows = [dict(zip(batch, values, strict=True)) for values in zip(*batch.values(),
                                                                         strict=True)]
        assert make_keys(batch) == [make_key(row) for row in rows]
    # Only the first named author reaches Python, and the key is the surname's.
    first = store._scalar("SELECT authors[1] FROM records ORDER BY record_id LIMIT 1")
    assert batches[0]["authors"][0] == first


def test_dedup_in_small_batches_finds_what_one_batch_finds(
    store: Store, tmp_path: Path, ncbi_pubmed: Path, fixtures: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_file(store, ncbi_pubmed, source="pubmed")
    import_file(store, fixtures / "nbib" / "pubmed-balloongui-set.nbib", source="pubmed")
    # The same records again as another database's copies (same PMIDs and DOIs).
    import_file(store, fixtures / "ncbiutils" / "markup.xml", source="embase")
    one = deduplicate(store)
    clusters = store.dedup_clusters_frame()
    again = Store(tmp_path / "b.duckdb")
    for path, source in ((ncbi_pubmed, "pubmed"),
                         (fixtures / "nbib" / "pubmed-balloongui-set.nbib", "pubmed"),
                         (fixtures / "ncbiutils" / "markup.xml", "embase")):
        import_file(again, path, source=source)
    real = Store.dedup_records_to_key
    monkeypatch.setattr(Store, "dedup_records_to_key",
                        lambda self, review=None, batch=0: real(self, review, batch=3))
    small = deduplicate(again)
    assert (small.examined, small.hard_links, small.duplicates) == (
        one.examined, one.hard_links, one.duplicates)
    assert one.duplicates >= 1
    assert small.examined == len(parse(ncbi_pubmed)) + 75 + len(
        parse(fixtures / "ncbiutils" / "markup.xml"))
    assert again.dedup_clusters_frame().equals(clusters)
    again.close()


def test_sorted_neighbourhood_pairs_each_record_with_its_next_titles(store: Store) -> None:
    # One block of 12 records (every blocking key shared, one year): with max_block 5 it is
    # windowed; sorted by title, each record meets exactly the next `window` records.
    keys = {i: key(i, title=f"{TITLE} {chr(ord('a') + (i * 5) % 12)}") for i in range(1, 13)}
    indexed(store, keys)
    cands = candidate_pairs(store, list(keys), max_block=5, window=2)
    order = sorted(keys, key=lambda i: (keys[i].title_norm, i))
    expected = sorted({(min(a, b), max(a, b)) for n, a in enumerate(order)
                       for b in order[n + 1:n + 3]})
    assert cands.windowed_blocks > 0
    assert list(zip(cands.pairs["record_a"], cands.pairs["record_b"], strict=True)) == expected


def test_candidate_pairs_come_in_bounded_chunks_that_add_up_to_all(store: Store) -> None:
    # The old code built every pair with both titles in one frame (2.4 GB at a million
    # records); the scorer now gets them a chunk at a time, in pair order, nothing lost.
    keys = {i: key(i, title=f"{TITLE} {chr(ord('a') + (i * 5) % 12)}") for i in range(1, 13)}
    indexed(store, keys)
    whole = candidate_pairs(store, list(keys), max_block=5, window=3).pairs
    chunks: list = []
    total, windowed = scan_candidates(store, list(keys), chunks.append, max_block=5, window=3,
                                      chunk=4)
    assert total == len(whole) > 8 and windowed > 0
    assert [len(c) for c in chunks[:-1]] == [4] * (len(chunks) - 1) and len(chunks[-1]) <= 4
    joined = [tuple(r) for c in chunks for r in c.itertuples(index=False)]
    assert joined == [tuple(r) for r in whole.itertuples(index=False)]


def test_a_run_caps_the_database_memory_and_gives_it_back(
    store: Store, ncbi_pubmed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(store, ncbi_pubmed, source="pubmed")
    default = store._scalar("SELECT current_setting('memory_limit')")
    seen: list[str] = []
    real = Store.dedup_candidate_pairs

    def spy(self: Store, *args: object, **kw: object) -> object:
        seen.append(self._scalar("SELECT current_setting('memory_limit')"))
        return real(self, *args, **kw)

    monkeypatch.setattr(Store, "dedup_candidate_pairs", spy)
    assert deduplicate(store).examined == 5
    assert len(seen) == 1 and seen[0] != default  # blocking ran under the cap
    assert store._scalar("SELECT current_setting('memory_limit')") == default


def test_keys_left_staged_by_a_failed_run_are_cleared_not_indexed(
    store: Store, ncbi_pubmed: Path
) -> None:
    import_file(store, ncbi_pubmed, source="pubmed")
    # A run that failed after staging a batch leaves keys behind (here: for a record id
    # that does not exist); the next run starts by emptying the stage.
    store.dedup_stage_keys(keys_frame([key(999_999)]))
    assert store._scalar("SELECT count(*) FROM dedup_keys_staged") == 1
    assert deduplicate(store).examined == 5
    # The stage is a temporary table, gone after the run (and with the connection).
    assert store._scalar("SELECT count(*) FROM duckdb_tables() "
                         "WHERE table_name = 'dedup_keys_staged'") == 0
    assert store._scalar("SELECT count(*) FROM dedup_keys WHERE record_id = 999999") == 0
    assert store._scalar("SELECT count(*) FROM dedup_keys") == 5
