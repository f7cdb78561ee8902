"""The inbox step of ``registry update`` and the source vocabulary (issue 10 item 16)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from ingest.sources import SOURCES, canonical_source
from registry.errors import InputError
from registry.intake.files import import_file
from registry.update import _import_inbox


def _protocol(tmp_path: Path) -> SimpleNamespace:
    """What ``_import_inbox`` reads of a protocol: where it lives and the review's name."""
    return SimpleNamespace(path=tmp_path / "protocol.yaml", review="rv")


def test_inbox_folder_with_a_space_is_imported_once(store, tmp_path, fixtures) -> None:
    folder = tmp_path / "imports" / "Web of Science"
    folder.mkdir(parents=True)
    shutil.copy(fixtures / "asreview" / "pubmed_zotero.ris", folder / "export 1.ris")
    first = _import_inbox(store, _protocol(tmp_path))
    assert [new for _, new in first] == [6]
    assert "source web_of_science" in first[0][0]
    assert _import_inbox(store, _protocol(tmp_path)) == []  # next update: nothing again
    # the same export dropped under another spelling of the source is the same file
    alias = tmp_path / "imports" / "wos"
    alias.mkdir()
    shutil.copy(folder / "export 1.ris", alias / "copy.ris")
    assert _import_inbox(store, _protocol(tmp_path)) == []
    sources = store._rows("SELECT DISTINCT source FROM records")
    assert sources == [("web_of_science",)]


def test_inbox_folder_of_an_unknown_source_is_reported(store, tmp_path, fixtures) -> None:
    folder = tmp_path / "imports" / "my database"
    folder.mkdir(parents=True)
    shutil.copy(fixtures / "asreview" / "pubmed_zotero.ris", folder / "x.ris")
    [(line, new)] = _import_inbox(store, _protocol(tmp_path))
    assert new == 0 and "unknown source 'my database'" in line and "web_of_science" in line
    assert store._rows("SELECT count(*) FROM records") == [(0,)]


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("wos", "web_of_science"), ("Web of Science", "web_of_science"),
     ("web-of-science", "web_of_science"), ("CENTRAL", "cochrane_central"),
     ("Cochrane Library", "cochrane_central"), ("Embase", "embase"),
     ("MEDLINE", "pubmed"), ("ClinicalTrials.gov", "clinicaltrials_gov"),
     ("Europe PMC", "europepmc")],
)
def test_source_aliases(given: str, canonical: str) -> None:
    assert canonical_source(given) == canonical
    assert canonical in SOURCES


def test_import_with_unknown_source_is_refused_and_stores_nothing(store, fixtures) -> None:
    with pytest.raises(InputError, match="unknown source 'embse'.*embase"):
        import_file(store, fixtures / "asreview" / "pubmed_zotero.ris", source="embse")
    assert store._rows("SELECT count(*) FROM search_runs") == [(0,)]
