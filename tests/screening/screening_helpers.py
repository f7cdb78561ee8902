"""Helpers for screening tests: a protocol in a temporary reviews folder, records added
through the records area's verbs exactly as a search or an import adds them."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from ingest.records import Comment, Record
from registry.store import Store

REVIEW = "demo-review"

PROTOCOL = """\
review: {review}
title: "Demo review for screening tests"
eligibility:
  inclusion: ["RCT of MSC therapy in cirrhosis"]
  exclusion_reasons:
    - {{id: not_rct, label: "Not a randomised controlled trial"}}
    - {{id: not_msc, label: "Intervention is not MSC therapy"}}
    - {{id: wrong_population, label: "Population is not liver cirrhosis"}}
screening:
  keywords: ["mesenchymal", "cirrhosis", "randomi"]
  mesh: ["Mesenchymal Stem Cell Transplantation", "Liver Cirrhosis"]
  dual_review: {dual}
outcomes:
  - {{id: meld, name: "MELD score", kind: continuous, unit: points, units: {{points: 1}},
     direction: lower_is_better, measure: MD}}
"""


def write_protocol(root: Path, review: str = REVIEW, *, dual: bool = False) -> Path:
    """Write ``root/<review>/protocol.yaml`` and return it."""
    folder = root / review
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "protocol.yaml"
    path.write_text(
        textwrap.dedent(PROTOCOL.format(review=review, dual="true" if dual else "false")),
        encoding="utf-8",
    )
    return path


def rec(source_id: str, title: str, *, source: str = "pubmed", **kw: object) -> Record:
    """A record as a parser would yield it (PubMed: source_id is the PMID)."""
    if source == "pubmed":
        kw.setdefault("pmid", source_id)
    if kw.pop("retracted", False):
        kw["comments"] = [Comment("RetractionIn", "Retraction notice", "999")]
        kw.setdefault("publication_types", ["Journal Article", "Retracted Publication"])
    return Record(source=source, source_id=source_id, title=title, **kw)  # type: ignore[arg-type]


def run_search(
    store: Store, records: Sequence[Record], *, review: str = REVIEW, source: str = "pubmed"
) -> dict[str, int]:
    """One search (or import) run of ``review`` returning ``records``; source_id -> record_id."""
    kind = "search" if source == "pubmed" else "import"
    run_id = store.record_search_run(
        source=source, kind=kind, tool_version="test", review=review, query="demo"
    )
    result = store.add_records(records, run_id=run_id)
    store.finish_search_run(run_id, outcome="ok", hits=len(records))
    return {r.source_id: rid for r, rid in zip(records, result.record_ids, strict=True)}
