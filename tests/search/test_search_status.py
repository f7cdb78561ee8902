"""``registry status``: counts, run log, flags, and the optional dedup/screening parts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from registry.intake.files import import_file
from registry.status import build_status, render_text


def test_status_counts_sources_runs_and_flags(store, fixtures: Path) -> None:
    medsamp = fixtures / "nlm_medsamp" / "medsamp2016.xml"
    text = medsamp.read_text(encoding="utf-8")
    retracted = text.count('RefType="RetractionIn"')  # 3 in NLM's 2016 sample file
    import_file(store, medsamp, review="r1")
    import_file(store, fixtures / "asreview" / "pubmed_zotero.ris", source="embase",
                review="r1")
    rep = build_status(store, "r1")
    assert rep.records["embase"]["records"] == 6
    assert rep.records["pubmed"]["records"] == 167
    assert rep.records["pubmed"]["retracted"] == retracted
    assert rep.total_records == 173
    assert [r["source"] for r in rep.runs] == ["pubmed", "embase"]
    assert set(rep.last_successful) == {"import:pubmed", "import:embase"}
    assert rep.duplicates["records_identified_total"] == 173
    assert rep.awaiting_screening.keys() == {"r1"}
    d = rep.to_dict()
    json.dumps(d)  # JSON-ready
    txt = render_text(rep)
    assert f"retracted: {retracted}," in txt and "embase: 6" in txt
    flagged = {f["pmid"] for f in rep.flagged if f["retracted"]}
    assert flagged == set(
        re.findall(r'<PMID Version="1">(\d+)</PMID>(?:(?!</MedlineCitation>).)*?'
                   r'RefType="RetractionIn"', text, re.DOTALL)
    )
    # another review sees none of it
    assert build_status(store, "other").total_records == 0


class _OnlyRecords:
    """A store as it was before the dedup and screening areas existed."""

    def __init__(self, store) -> None:
        self._s = store

    def __getattr__(self, name: str):
        if name in ("prisma_identification", "screening_records"):
            raise AttributeError(name)
        return getattr(self._s, name)


def test_status_works_without_dedup_and_screening(store, fixtures: Path) -> None:
    import_file(store, fixtures / "nbib" / "single.nbib", review="r1")
    rep = build_status(_OnlyRecords(store))  # type: ignore[arg-type]
    assert rep.total_records == 1 and rep.duplicates is None and rep.awaiting_screening == {}
    assert any("dedup" in n for n in rep.notes) and any("screening" in n for n in rep.notes)
    assert "note:" in render_text(rep)
