"""``registry import`` stages records in committed batches and moves them in at the end.

Rule 5: a file that fails half-way (after several committed batches) leaves the registry
exactly as it was, and a stage a killed process left behind is removed by the next
import. Record counts come from ../shared/fixtures/pubmed/SOURCES.md
(nbib/pubmed-balloongui-set.nbib: 75 MEDLINE records; biopython/pubmed1.xml: PMIDs
12091962 and 9997).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest.records import AbstractSection, Record
from registry.errors import InputError, StoreError
from registry.intake import files as intake_files
from registry.intake import sink as intake_sink
from registry.intake.files import import_file
from registry.store import Store


def _staged(store: Store) -> int:
    return store.staged_items()


def test_failure_after_committed_batches_leaves_the_store_as_it_was(
    store, fixtures: Path, monkeypatch
) -> None:
    import_file(store, fixtures / "nbib" / "single.nbib")
    before = store.dump()
    monkeypatch.setattr(intake_sink, "BATCH", 10)  # 75 records: 7 batches staged first
    real = intake_files.parse_file

    def breaks_late(*args, **kw):
        for n, item in enumerate(real(*args, **kw)):
            if n == 72:
                raise InputError("export.nbib: not UTF-8 text (line 9000)")
            yield item

    monkeypatch.setattr(intake_files, "parse_file", breaks_late)
    with pytest.raises(InputError, match="line 9000"):
        import_file(store, fixtures / "nbib" / "pubmed-balloongui-set.nbib")
    assert store.dump() == before
    assert _staged(store) == 0


def test_stage_left_by_a_killed_import_is_removed_by_the_next(
    tmp_path: Path, fixtures: Path
) -> None:
    db = tmp_path / "registry.duckdb"
    with Store(db) as killed:  # staged a batch, then the process died
        stage = killed.begin_stage()
        killed.stage_items(stage, 0, [Record(source="pubmed", source_id="1", pmid="1",
                                             title="Orphan")])
        assert _staged(killed) == 1
    with Store(db) as store:
        res = import_file(store, fixtures / "nbib" / "pubmed-balloongui-set.nbib")
        assert (res.records, res.new) == (75, 75)
        assert _staged(store) == 0
        assert store.get_records("pubmed", ["1"]) == []


def test_batches_are_staged_while_the_file_is_read(
    store, fixtures: Path, monkeypatch
) -> None:
    """Memory stays flat because each batch leaves Python for the stage as it fills."""
    monkeypatch.setattr(intake_sink, "BATCH", 10)
    seen: list[int] = []
    real = intake_files.parse_file

    def watching(*args, **kw):
        for item in real(*args, **kw):
            seen.append(store.staged_items())
            yield item

    monkeypatch.setattr(intake_files, "parse_file", watching)
    res = import_file(store, fixtures / "nbib" / "pubmed-balloongui-set.nbib")
    assert res.records == 75 and max(seen) >= 70  # staged before the end of the file
    assert store._scalar("SELECT count(*) FROM records") == 75 and _staged(store) == 0


def test_last_copy_wins_and_a_later_record_outlives_its_withdrawal(
    store, fixtures: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(intake_sink, "BATCH", 1)  # every copy in its own batch
    text = (fixtures / "biopython" / "pubmed1.xml").read_text(encoding="utf-8")
    body = re.search(r"<PubmedArticleSet>(.*)</PubmedArticleSet>", text, re.S).group(1)
    edited = body.replace("<ArticleTitle>", "<ArticleTitle>Edited: ", 1)
    delete = "<DeleteCitation><PMID>9997</PMID><PMID>12091962</PMID></DeleteCitation>"
    # 12091962 and 9997, both withdrawn, then 12091962 again (edited): it stays
    again = edited[: edited.index("<PubmedArticle>", edited.index("<PubmedArticle>") + 1)]
    path = tmp_path / "update.xml"
    path.write_text(f"<PubmedArticleSet>{body}{delete}{again}</PubmedArticleSet>",
                    encoding="utf-8")
    res = import_file(store, path)
    assert (res.records, res.new, res.duplicates, res.deleted) == (2, 2, 1, 1)
    rows = {r["source_id"]: r for r in store.get_records("pubmed", ["12091962", "9997"])}
    assert rows["9997"]["deleted"] and not rows["12091962"]["deleted"]
    assert rows["12091962"]["title"].startswith("Edited: ")
    assert store.get_search_run(res.run_id)["hits"] == 3


def test_a_file_of_withdrawals_only_is_staged_in_bounded_batches(
    store, fixtures: Path, tmp_path: Path, monkeypatch
) -> None:
    # A NLM update file can hold nothing but DeleteCitation notices; before, they were
    # held until a record or problem batch filled, i.e. all of them at once.
    monkeypatch.setattr(intake_sink, "BATCH", 10)
    import_file(store, fixtures / "biopython" / "pubmed1.xml")
    seen: list[int] = []
    real = Store.stage_items

    def spy(self, stage, first, recs, dels=(), probs=(), **kw):
        seen.append(len(dels))
        return real(self, stage, first, recs, dels, probs, **kw)

    monkeypatch.setattr(Store, "stage_items", spy)
    notices = "".join(f"<DeleteCitation><PMID>{90000 + n}</PMID></DeleteCitation>"
                      for n in range(35)) + (
        "<DeleteCitation><PMID>9997</PMID></DeleteCitation>")
    path = tmp_path / "deletions.xml"
    path.write_text(f"<PubmedArticleSet>{notices}</PubmedArticleSet>", encoding="utf-8")
    res = import_file(store, path)
    assert seen == [10, 10, 10, 6] and res.deleted == 1
    assert store.get_records("pubmed", ["9997"])[0]["deleted"]


def test_abstract_sections_round_trip_through_the_stage(store) -> None:
    """The sections' JSON is written by hand (bulk speed): quotes, backslashes, control
    and non-ASCII characters must come back as they went in."""
    text = 'a "quoted" \\ back-slash, é, \u2028, \x01 and a\ttab'
    rec = Record(source="embase", source_id="k1", title="T",
                 abstract_sections=[AbstractSection("RESULTS", text, "RESULTS"),
                                    AbstractSection(None, "plain", None)])
    stage = store.begin_stage()
    store.stage_items(stage, 0, [rec])
    with store.transaction():
        run = store.record_search_run(source="embase", kind="import", tool_version="t")
        assert store.commit_stage(stage, run, "embase").new == 1
    stored = store.get_records("embase", ["k1"])[0]["abstract_sections"]
    assert json.loads(stored) == [
        {"label": "RESULTS", "text": text, "nlm_category": "RESULTS"},
        {"label": None, "text": "plain", "nlm_category": None},
    ]


def test_sections_the_abstract_holds_are_stored_once_and_come_back_whole(store) -> None:
    """A section whose text is its line of the abstract is stored without the text (the
    bytes an import compresses halve); get_records puts it back, "LABEL: " removed."""
    sections = [AbstractSection("BACKGROUND", "Why: a colon inside.", "BACKGROUND"),
                AbstractSection("METHODS", "How.", "METHODS")]
    labelled = Record(source="embase", source_id="k2", title="T", abstract_sections=sections,
                      abstract="BACKGROUND: Why: a colon inside.\nMETHODS: How.")
    plain = Record(source="embase", source_id="k3", title="T", abstract="One paragraph.",
                   abstract_sections=[AbstractSection(None, "One paragraph.")])
    stage = store.begin_stage()
    store.stage_items(stage, 0, [labelled, plain])
    with store.transaction():
        run = store.record_search_run(source="embase", kind="import", tool_version="t")
        store.commit_stage(stage, run, "embase")
    raw = dict(store._rows("SELECT source_id, abstract_sections::VARCHAR FROM records"))
    assert "text" not in raw["k2"] and "Why" not in raw["k2"] and "text" not in raw["k3"]
    got = {r["source_id"]: json.loads(r["abstract_sections"])
           for r in store.get_records("embase", ["k2", "k3"])}
    assert got["k2"] == [
        {"label": "BACKGROUND", "text": "Why: a colon inside.", "nlm_category": "BACKGROUND"},
        {"label": "METHODS", "text": "How.", "nlm_category": "METHODS"},
    ]
    assert got["k3"] == [{"label": None, "text": "One paragraph.", "nlm_category": None}]


def test_every_column_keeps_its_type_through_the_stage(store) -> None:
    """Under import_mode DuckDB reads each batch column as text (no type sampling); the
    staged Parquet and the records table must still get numbers, dates, flags and lists."""
    import datetime as dt

    from ingest.records import Comment

    rec = Record(source="embase", source_id="k9", title="T", year=2001,
                 entrez_date="2001-12-26", authors=["Smith J", "Lee K"],
                 comments=[Comment("RetractionIn", "Lancet 2002", "123")])
    with store.import_mode():
        stage = store.begin_stage()
        store.stage_items(stage, 0, [rec])
        with store.transaction():
            run = store.record_search_run(source="embase", kind="import", tool_version="t")
            store.commit_stage(stage, run, "embase")
    row = store.get_records("embase", ["k9"])[0]
    assert row["year"] == 2001 and row["entrez_date"] == dt.date(2001, 12, 26)
    assert row["retracted"] is True and row["corrected"] is False
    assert row["authors"] == ["Smith J", "Lee K"] and row["pmid"] is None


def test_a_spool_that_cannot_be_written_is_a_clear_error_and_changes_nothing(
    store, fixtures: Path, monkeypatch
) -> None:
    """Disk full or the spool folder gone: the import says which file it could not
    write, and the registry is left as it was."""
    import shutil

    before = store.dump()
    real = Store.begin_stage

    def spool_vanishes(self):
        stage = real(self)
        shutil.rmtree(self._spool(stage))
        return stage

    monkeypatch.setattr(Store, "begin_stage", spool_vanishes)
    with pytest.raises(StoreError, match=r"cannot write the import spool .*part-000000\.parquet"):
        import_file(store, fixtures / "nbib" / "pubmed-balloongui-set.nbib")
    assert store.dump() == before and _staged(store) == 0
