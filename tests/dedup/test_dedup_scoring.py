"""Pure dedup functions: notices, blocking, scoring, clusters and the primary record."""

from __future__ import annotations

from typing import Any

import pytest

from registry.dedup import (
    HIGH,
    LOW,
    RecordKey,
    blocking_keys,
    build_clusters,
    candidate_pairs,
    hard_key_matches,
    make_key,
    notice_kind,
    score_pair,
)
from registry.dedup.keys import keys_frame
from registry.store import Store

TITLE = (
    "Mesenchymal stem cell transplantation for decompensated liver cirrhosis: a randomized trial"
)


def indexed(store: Store, keys: dict[int, RecordKey]) -> Store:
    """The store with ``keys`` saved as its dedup index (blocking and hard keys run there)."""
    store.dedup_stage_keys(keys_frame(list(keys.values())))
    store.dedup_index_staged()
    return store


def key(rid: int, **kw: Any) -> RecordKey:
    row = {"record_id": rid, "source": "pubmed", "source_id": str(rid), "title": TITLE,
           "authors": ["Smith AB"], "year": 2020, "journal": "Hepatology"}
    row.update(kw)
    return make_key(row)


@pytest.mark.parametrize(
    ("title", "pubtypes", "kind"),
    [
        ("Erratum: " + TITLE, [], "erratum"),
        ("Correction to: " + TITLE, [], "erratum"),
        ("Correction of hyponatraemia in cirrhosis", [], None),  # an article, not a notice
        ("Retraction note: " + TITLE, [], "retraction"),
        (TITLE, ["Journal Article", "Published Erratum"], "erratum"),
        (TITLE, ["Retracted Publication"], None),  # the retracted article itself
        ('Comment on "' + TITLE + '"', [], "comment"),
        ("In reply", [], "reply"),
        ("Response to treatment with MSC in cirrhosis", [], None),
        ('Response to letter regarding article, "Balloon guide catheter"', [], "reply"),
        ("Expression of concern: " + TITLE, [], "concern"),
    ],
)
def test_notice_kind(title: str, pubtypes: list[str], kind: str | None) -> None:
    assert notice_kind(title, pubtypes) == kind


def test_blocking_keys_survive_one_typo() -> None:
    a = set(blocking_keys(key(1).title_norm))
    b = set(blocking_keys(key(2, title=TITLE.replace("decompensated", "decompesated")).title_norm))
    c = set(blocking_keys(key(3, title=TITLE.replace("Mesenchymal", "Mesenchymall")).title_norm))
    assert a & b and a & c


def test_case_punctuation_diacritics_and_author_format_score_as_identical() -> None:
    other = key(2, source="embase", title=TITLE.upper().replace(":", " -").replace("é", "e"),
                authors=["Smith, Anna B."], journal="HEPATOLOGY")
    assert score_pair(key(1), other).score == 1.0


def test_scores_fall_in_the_expected_bands() -> None:
    base = key(1)
    typo = key(2, title=TITLE.replace("transplantation", "transplantaton"))
    assert score_pair(base, typo).score >= HIGH
    other_author = key(3, authors=["Jones C"])
    assert LOW <= score_pair(base, other_author).score < HIGH  # same title, other author
    other_subtitle = key(4, title=TITLE.replace("a randomized trial", "study protocol"),
                         authors=[])
    assert score_pair(base, other_subtitle).score < HIGH
    five_years = key(5, year=2025)
    assert score_pair(base, five_years).score == 0.0
    erratum = key(6, title="Erratum: " + TITLE)
    assert score_pair(base, erratum).score == 0.0


def test_conflicting_ids_and_short_titles_never_link_automatically() -> None:
    a, b = key(1, doi="10.1000/a"), key(2, doi="10.1000/b")
    assert LOW <= score_pair(a, b).score < HIGH
    ed1, ed2 = key(1, title="Editorial"), key(2, title="Editorial", authors=["Doe J"])
    assert score_pair(ed1, ed2).score == 0.0
    series1 = key(1, title="Influenza surveillance report for Australia, week 12 of 2020")
    series2 = key(2, title="Influenza surveillance report for Australia, week 13 of 2020")
    assert score_pair(series1, series2).score < HIGH


def test_candidate_pairs_block_on_title_and_year_within_one(store: Store) -> None:
    keys = {k.record_id: k for k in (
        key(1), key(2, year=2021), key(3, year=2022), key(4, year=None),
        key(5, title="Something else entirely about renal dialysis outcomes"),
    )}
    indexed(store, keys)
    pairs = candidate_pairs(store, [1]).pairs
    assert list(zip(pairs["record_a"], pairs["record_b"], strict=True)) == [(1, 2), (1, 4)]
    assert pairs["title_a"].tolist() == [keys[1].title_norm] * 2
    # An undated new record is compared with every year.
    pairs = candidate_pairs(store, [4]).pairs
    assert list(zip(pairs["record_a"], pairs["record_b"], strict=True)) == [
        (1, 4), (2, 4), (3, 4)]


def test_hard_keys_link_new_records_and_doubt_doi_on_two_pmids(store: Store) -> None:
    keys = {k.record_id: k for k in (
        key(1, pmid="100", doi="10.1000/x"),
        key(2, source="embase", pmid="100"),
        key(3, source="wos", doi="https://doi.org/10.1000/X"),
        key(4, pmid="200", doi="10.1000/x"),
    )}
    indexed(store, keys)
    links, doubtful = hard_key_matches(store, [2, 3, 4])
    assert links == [(1, 2, "pmid"), (1, 3, "doi"), (3, 4, "doi")]
    assert [(a, b) for a, b, _ in doubtful] == [(1, 4)]
    assert links == hard_key_matches(store, [2, 3, 4])[0]  # deterministic
    assert hard_key_matches(store, []) == ([], [])


def test_primary_is_pubmed_then_most_complete_then_oldest() -> None:
    keys = {
        1: key(1, source="embase", abstract="x", doi="10.1000/a", pages="1-9"),
        2: key(2, source="wos"),
        3: key(3, source="pubmed"),
        4: key(4, source="embase"),
        5: key(5, source="wos"),
    }
    links = [(1, 2, "doi", None), (2, 3, "doi", None), (4, 5, "fuzzy", 0.95)]
    frame = build_clusters(keys, links, [])
    got = {int(r): (int(c), bool(p)) for r, c, p in frame.itertuples(index=False)}
    assert got == {1: (1, False), 2: (1, False), 3: (1, True), 4: (4, True), 5: (4, False)}


def test_not_duplicate_decision_is_a_cannot_link() -> None:
    keys = {i: key(i) for i in (1, 2, 3)}
    links = [(1, 2, "fuzzy", 0.99), (2, 3, "fuzzy", 0.95), (1, 3, "fuzzy", 0.93)]
    frame = build_clusters(keys, links, [(1, 3, "not_duplicate")])
    got = {int(r): int(c) for r, c, _ in frame.itertuples(index=False)}
    # 1-2 joins first (strongest); 2-3 would put 3 with 1, which a person ruled out.
    assert got == {1: 1, 2: 1}
    frame = build_clusters(keys, [], [(1, 3, "duplicate")])
    assert sorted(frame["record_id"].tolist()) == [1, 3]


def test_different_print_pages_need_a_person_but_an_e_locator_does_not() -> None:
    base = key(1, pages="101-110")
    other_pages = key(2, pages="245-250")
    assert LOW <= score_pair(base, other_pages).score < HIGH
    e_locator = key(3, pages="e0123")
    assert score_pair(base, e_locator).score >= HIGH


def test_shared_pmid_links_even_when_only_one_copy_is_typed_as_erratum(store: Store) -> None:
    keys = {
        1: key(1, pmid="300", doi="10.1000/e", publication_types=["Published Erratum"]),
        2: key(2, source="embase", pmid="300"),  # Embase copy without publication types
        3: key(3, source="wos", doi="10.1000/e"),
    }
    links, doubtful = hard_key_matches(indexed(store, keys), [2, 3])
    assert links == [(1, 2, "pmid")]
    assert [(a, b) for a, b, _ in doubtful] == [(1, 3)]  # a DOI on an erratum and an article


def test_own_identifier_and_own_pages_mean_another_item() -> None:
    a = key(1, doi="10.1000/a", pages="101-110")
    b = key(2, doi="10.1000/b", pages="245-250")
    assert score_pair(a, b).score == 0.0
    c = key(3, doi="10.1000/c", pages="101-110")  # same pages: a person looks
    assert LOW <= score_pair(a, c).score < HIGH


# -- dedup 2: realistic copies and companion papers (issue 11 item 3) -----------------------
@pytest.mark.parametrize(("one", "two"), [
    ("Part 1", "Part 2"), ("Part I", "Part II"), ("part one", "part two"), ("Paper 1", "Paper 2"),
])
def test_companion_papers_stay_apart(one: str, two: str) -> None:
    # Same authors, journal, year and a title that differs only in the part: two papers.
    a = key(1, title=f"{TITLE}: {one}", pages="101-110")
    b = key(2, title=f"{TITLE}: {two}", pages="111-120")
    ps = score_pair(a, b)
    assert ps.score == 0.0 and "companion" in ps.why
    assert score_pair(a, key(3, title=f"{TITLE}: {one}".upper())).score >= HIGH


def test_part_against_no_part_goes_to_a_person() -> None:
    assert LOW <= score_pair(key(1, title=f"{TITLE}: Part 2"), key(2)).score < HIGH


@pytest.mark.parametrize("short", [
    TITLE.split(":")[0],  # subtitle dropped
    TITLE[:70],  # cut mid-word by a database
    TITLE.split(":")[0].replace("transplantation", "transplantaton"),  # and a typo
])
def test_cut_titles_and_dropped_subtitles_link_with_the_same_first_author(short: str) -> None:
    copy = key(2, source="embase", title=short, authors=["Smith, A. B."], journal="Hepatology")
    assert score_pair(key(1), copy).score >= HIGH
    # Without a first author to agree, a person decides.
    assert LOW <= score_pair(key(1), key(3, title=short, authors=[])).score < HIGH


def test_a_protocol_is_not_a_dropped_subtitle() -> None:
    protocol = key(2, title=TITLE.split(":")[0] + ": study protocol for a randomized trial")
    assert score_pair(key(1, title=TITLE.split(":")[0]), protocol).score < HIGH


def test_journal_abbreviation_agrees_with_the_full_name() -> None:
    a = key(1, journal="Journal of Cataract and Refractive Surgery", pages="101-9")
    b = key(2, journal=None, journal_abbrev="J Cataract Refract Surg", pages="101-109")
    assert "same journal" in score_pair(a, b).why
    c = key(3, journal="Journal of Hepatology")
    assert "different journal" in score_pair(a, c).why


def test_an_oversized_block_is_compared_by_sorted_neighbourhood_not_skipped(
    store: Store,
) -> None:
    # 30 records share every blocking key (one title, one year): with max_block 10 the old
    # code skipped the block and the typo copy was never compared.
    keys = {i: key(i, authors=[f"Author{i} A"]) for i in range(1, 31)}
    keys[99] = key(99, title=TITLE.replace("cirrhosis", "cirrhossis"))
    cands = candidate_pairs(indexed(store, keys), [99], max_block=10, window=5)
    assert cands.windowed_blocks > 0
    assert len(cands.pairs) > 0 and set(cands.pairs["record_b"]) == {99}
