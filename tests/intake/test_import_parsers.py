"""The import's own RIS and MEDLINE readers give what the anchor libraries give.

``ingest.ris`` reads references with one tight loop instead of rispy's per-line method
calls, and ``ingest.medline`` builds Bio.Medline's tag dictionary itself: both are checked
here against the libraries on the real exports in ../shared/fixtures/pubmed (asreview:
Zotero and EndNote RIS; nbib, litsearchr-tutorial: PubMed-format text).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import rispy
from Bio import Medline
from rispy.config import LIST_TYPE_TAGS, TAG_KEY_MAPPING

from ingest.bounded import open_input, text_blocks, text_lines
from ingest.medline import READ_TAGS, _records
from ingest.ris import _references

RIS = ["asreview/pubmed_zotero.ris", "asreview/pubmed_endnote.txt"]
MEDLINE = ["nbib/pubmed-balloongui-set.nbib", "litsearchr-tutorial/pubmed-medication-set.nbib",
           "biopython/pubmed_result2.txt"]


def _ours_as_rispy(ref: dict[str, list[str]]) -> dict[str, object]:
    """Our tag -> values in rispy's shape: list tags a list, other tags their first value."""
    out: dict[str, object] = {}
    for tag, values in ref.items():
        name = TAG_KEY_MAPPING.get(tag)
        if name is None:
            continue  # rispy keeps unknown tags apart; the import reads none of them
        out[name] = values if tag in LIST_TYPE_TAGS else values[0]
    return out


@pytest.mark.parametrize("rel", RIS)
def test_ris_references_match_rispy(fixtures: Path, rel: str) -> None:
    path = fixtures / rel
    expected = rispy.load(path, encoding="utf-8")
    fh = open_input(path)
    try:
        ours = [ref for _line, ref in _references(text_lines(fh, rel), rel, 1 << 20)]
    finally:
        fh.close()
    assert len(ours) == len(expected) == 6  # SOURCES.md: six references in each export
    for mine, theirs in zip(ours, expected, strict=True):
        theirs = {k: v for k, v in theirs.items() if k != "unknown_tag"}
        # rispy keeps the blank items of a blank line inside a list tag; we drop them
        theirs = {k: [x for x in v if x] if isinstance(v, list) else v.strip()
                  for k, v in theirs.items()}
        assert {k: v if isinstance(v, list) else v.strip()
                for k, v in _ours_as_rispy(mine).items()} == theirs


@pytest.mark.parametrize("rel", MEDLINE)
def test_medline_records_match_bio_medline(fixtures: Path, rel: str) -> None:
    path = fixtures / rel
    with open(path, encoding="utf-8") as fh:
        expected = list(Medline.parse(fh))
    fh = open_input(path)
    try:
        ours = [rec for _line, rec in _records(text_blocks(fh, rel), rel)]
    finally:
        fh.close()
    assert len(ours) == len(expected) > 0
    for mine, theirs in zip(ours, expected, strict=True):
        # Bio.Medline keeps a wrapped list field's continuation lines as extra items
        # (module docstring of ingest.medline); compare fields it reads on one line.
        theirs = {k: v for k, v in theirs.items() if k in READ_TAGS}  # the tags we read
        for key, value in theirs.items():
            if isinstance(value, list) and len(value) != len(mine[key]):
                continue
            if isinstance(value, list):
                assert [" ".join(v.split()) for v in mine[key]] == [
                    " ".join(v.split()) for v in value], key
            else:
                assert " ".join(mine[key].split()) == " ".join(value.split()), key
        assert set(mine) == set(theirs)


def test_import_does_not_load_pandas(fixtures: Path, tmp_path: Path) -> None:
    """pandas costs 0.3 s CPU to import: the import path hands DuckDB NumPy arrays."""
    code = (
        "import sys\n"
        "from registry.intake.files import import_file\n"
        "from registry.store import Store\n"
        "s = Store(sys.argv[2])\n"
        "print(import_file(s, sys.argv[1]).records, 'pandas' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(fixtures / "nbib" / "pubmed-balloongui-set.nbib"),
         str(tmp_path / "r.duckdb")], capture_output=True, text=True, check=True, timeout=120,
    ).stdout.split()
    assert out == ["75", "False"]
