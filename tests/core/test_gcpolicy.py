"""The collector policy for bulk work (registry/gcpolicy.py): raised while an import runs,
restored afterwards, also when the import fails."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from registry.errors import InputError
from registry.gcpolicy import BULK_THRESHOLD, bulk_allocations
from registry.intake import files
from registry.store import Store


def test_thresholds_are_raised_inside_and_restored_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), bulk_allocations():
        assert gc.get_threshold()[0] == BULK_THRESHOLD
        raise RuntimeError("boom")
    assert gc.get_threshold() == before


def test_a_failed_import_runs_under_the_policy_and_gives_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = files.StagedSink.consume

    def spy(self: files.StagedSink, *args: object, **kw: object) -> None:
        seen.append(gc.get_threshold()[0])
        real(self, *args, **kw)

    monkeypatch.setattr(files.StagedSink, "consume", spy)
    bad = tmp_path / "empty.ris"
    bad.write_text("TY  - JOUR\nER  - \n", encoding="utf-8")
    before = gc.get_threshold()
    with Store(tmp_path / "r.duckdb") as store, pytest.raises(InputError):
        files.import_file(store, bad, source="embase")
    assert seen == [BULK_THRESHOLD]
    assert gc.get_threshold() == before
