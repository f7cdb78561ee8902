"""The fast paths of keying and scoring (issue 11 item 3) give what the plain rules give:
ASCII titles normalised through one table, blocking keys built in a fixed order, keys
staged with a fingerprint the store computes, and pairs already joined left unscored."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from dedup_helpers import by_pmid, import_file, parse, ris_entry, write_ris
from hypothesis import given, settings
from hypothesis import strategies as st

import registry.dedup.run as run
from ingest.normalise import _APOSTROPHES, _TITLE_DROP, normalise_title, strip_diacritics
from registry.dedup import STOPWORDS, blocking_keys, deduplicate, make_keys, notice_kind
from registry.dedup.keys import _NOTICE_ANY, _NOTICE_TITLE, keys_from_rows
from registry.store import Store


def real_titles(fixtures: Path) -> list[str]:
    """Titles of real records: efetch XML, MEDLINE text and RIS exports."""
    files = [("ncbiutils/pubmed.xml", "pubmed"), ("ncbiutils/markup.xml", "pubmed"),
             ("nbib/pubmed-balloongui-set.nbib", "pubmed"),
             ("litsearchr-tutorial/pubmed-medication-set.nbib", "pubmed"),
             ("asreview/pubmed_zotero.ris", "embase")]
    return [r.title for name, source in files for r in parse(fixtures / name, source)
            if r.title]


def regex_title_key(title: str) -> str:
    """normalise_title's general path (diacritics, casefold, apostrophes, the regex)."""
    t = strip_diacritics(title).casefold().translate(_APOSTROPHES)
    return " ".join(_TITLE_DROP.sub(" ", t).split())


def set_rule_blocks(title_norm: str) -> tuple[str, ...]:
    """The blocking keys as their docstring states them, as a sorted set (the rule the
    fixed-order builder must reproduce)."""
    words = [w for w in title_norm.split() if len(w) > 1 and w not in STOPWORDS]
    if not words:
        return ()
    ranked = sorted(words, key=lambda w: (-len(w), w))
    longest = list(dict.fromkeys(ranked))[:3]
    keys = {"f:" + " ".join(words[:4]), "l:" + " ".join(words[-4:]),
            "s:" + " ".join(sorted(longest)),
            "p:" + " ".join(sorted(w[:4] for w in ranked[:4])),
            "h:" + " ".join(w[:3] for w in words[:4])}
    if len(words) > 2:
        keys |= {"e:" + " ".join(words[0::2][:5]), "o:" + " ".join(words[1::2][:5])}
    return tuple(sorted(keys))


def test_real_titles_key_as_the_general_rules_say(fixtures: Path) -> None:
    titles = real_titles(fixtures)
    assert len(titles) > 150 and any(not t.isascii() for t in titles)
    for title in titles:
        if "<" not in title and title.isascii():  # markup: see test_normalise_schema
            assert normalise_title(title) == regex_title_key(title), title
        norm = normalise_title(title)
        assert blocking_keys(norm) == set_rule_blocks(norm), title


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127, exclude_characters="<"),
               max_size=80))
def test_any_ascii_title_takes_the_table_path_to_the_regex_result(title: str) -> None:
    assert normalise_title(title) == regex_title_key(title)


WORDS = ["a", "of", "the", "x", "7", "trial", "trials", "cirrhosis", "stem", "cell", "é",
         "übersicht", "mesenchymal", "zz", "ab", "vs", "2020", "phase", "ii"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=14))
def test_blocking_keys_in_fixed_order_equal_the_sorted_set(words: list[str]) -> None:
    norm = " ".join(words)
    assert blocking_keys(norm) == set_rule_blocks(norm)


def regex_notice(title: str) -> str | None:
    """notice_kind's title rule without its first-letter shortcut."""
    t = strip_diacritics(title).casefold().lstrip(" [(\"'\u201c")
    m = _NOTICE_ANY.match(t)
    return _NOTICE_TITLE[int(m.lastgroup[1:])][1] if m and m.lastgroup else None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["", " ", "[", "(\"", "'", "\u201c"]),
       st.sampled_from(["Erratum", "correction to", "RETRACTION NOTE", "Expression of concern",
                        "withdrawn", "Comment on", "Re", "In reply", "Authors' reply",
                        "Response to letter", "Letter to the editor", "Notice of retraction",
                        "Addendum", "Trial", "Über", "Effects", "answer to the critique", ""]),
       st.sampled_from(["", ":", " -", ": a trial", " of the MSC trial", " (2020)"]))
def test_notice_shortcut_agrees_with_the_patterns(lead: str, word: str, tail: str) -> None:
    title = lead + word + tail
    assert notice_kind(title) == regex_notice(title)


def test_real_titles_are_notices_as_the_patterns_say(fixtures: Path) -> None:
    titles = real_titles(fixtures)
    assert [notice_kind(t) for t in titles] == [regex_notice(t) for t in titles]
    assert any(regex_notice(t) for t in titles)  # the fixtures hold real replies


def test_staged_keys_come_back_as_computed(store: Store, ncbi_pubmed: Path,
                                           fixtures: Path) -> None:
    import_file(store, ncbi_pubmed, source="pubmed")
    import_file(store, fixtures / "nbib" / "pubmed-balloongui-set.nbib", source="pubmed")
    computed = [k for batch in store.dedup_records_to_key(batch=30) for k in make_keys(batch)]
    store.dedup_clear_staged()
    deduplicate(store)
    stored = keys_from_rows(store.dedup_key_rows([k.record_id for k in computed]))
    # Scoring reads no blocking keys: the rows leave them out.
    assert len(computed) == 80
    assert [stored[k.record_id] for k in computed] == [replace(k, blocks=()) for k in computed]
    blocks = dict(store._rows("SELECT record_id, blocks FROM dedup_keys"))
    assert all(tuple(blocks[k.record_id]) == k.blocks for k in computed)
    fingerprints = store._rows("SELECT fingerprint FROM dedup_keys")
    assert len({f for (f,) in fingerprints}) == 80 and all(len(f) == 20 for (f,) in fingerprints)


def test_a_changed_record_is_examined_again_an_unchanged_one_is_not(
    store: Store, ncbi_pubmed: Path, tmp_path: Path
) -> None:
    rec = by_pmid(ncbi_pubmed)["30158200"]
    path = write_ris(tmp_path / "e.ris", [ris_entry(rec, AN="L1")])
    import_file(store, path, source="embase")
    assert deduplicate(store).examined == 1
    import_file(store, path, source="embase")  # the same content again
    assert deduplicate(store).examined == 0
    changed = write_ris(tmp_path / "f.ris", [ris_entry(rec, AN="L1", TI=rec.title + " Part 2")])
    import_file(store, changed, source="embase")
    assert deduplicate(store).examined == 1


def test_pairs_a_hard_key_joined_are_not_scored(
    store: Store, ncbi_pubmed: Path, fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same PubMed records as another database's copies: same PMIDs and titles, so
    # every copy is also a fuzzy candidate of its original.
    import_file(store, ncbi_pubmed, source="pubmed")
    import_file(store, fixtures / "ncbiutils" / "markup.xml", source="embase")
    scored: list[tuple[int, int]] = []
    real = run.score_candidates

    def spy(keys: object, a: np.ndarray, b: np.ndarray, sims: np.ndarray) -> object:
        scored.extend(zip(a.tolist(), b.tolist(), strict=True))
        return real(keys, a, b, sims)

    monkeypatch.setattr(run, "score_candidates", spy)
    result = deduplicate(store)
    hard = {(a, b) for a, b, r, _ in store.dedup_links_frame().itertuples(index=False)
            if r != "fuzzy"}
    assert result.hard_links == len(hard) >= 1
    assert not hard & set(scored)


def test_a_changed_record_keeps_its_cluster(
    store: Store, ncbi_pubmed: Path, tmp_path: Path
) -> None:
    import_file(store, ncbi_pubmed, source="pubmed")
    rec = by_pmid(ncbi_pubmed)["30158200"]
    copy = write_ris(tmp_path / "e.ris", [ris_entry(rec, AN="L1")])  # same DOI
    import_file(store, copy, source="embase")
    deduplicate(store)
    rid = store._scalar("SELECT record_id FROM records WHERE source_id = 'L1'")
    pubmed = store._scalar("SELECT record_id FROM records WHERE pmid = '30158200' "
                           "AND source = 'pubmed'")
    assert store.record_clusters([rid])[rid][0] == store.record_clusters([pubmed])[pubmed][0]
    # The copy changes (pages) but still shares the DOI: keyed again, still one cluster.
    import_file(store, write_ris(tmp_path / "f.ris", [ris_entry(rec, AN="L1", SP="999")]),
                source="embase")
    assert deduplicate(store).examined == 1
    assert store._scalar("SELECT count(*) FROM dedup_clusters WHERE record_id = ?", [rid]) == 1
    assert store.record_clusters([rid])[rid][0] == store.record_clusters([pubmed])[pubmed][0]
