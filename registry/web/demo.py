"""A small dual-review demo review for the workspace: its protocol and a way to add records
as an import run adds them. The workspace tests and ``bench/bench_serve.py`` both build on
it, so they exercise the same protocol."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ingest.records import Record
from registry.store import Store

DEMO_PROTOCOL = """\
review: {review}
title: "Demo review for the workspace"
eligibility:
  inclusion: ["RCT of MSC therapy in cirrhosis"]
  exclusion_reasons:
    - {{id: not_rct, label: "Not a randomised controlled trial"}}
    - {{id: not_msc, label: "Intervention is not MSC therapy"}}
screening:
  keywords: ["mesenchymal", "cirrhosis", "randomi"]
  mesh: ["Liver Cirrhosis"]
  dual_review: true
outcomes:
  - {{id: meld, name: "MELD score", kind: continuous, unit: points, units: {{points: 1}},
     direction: lower_is_better, measure: MD}}
"""


def write_demo_review(reviews_dir: Path, review: str) -> Path:
    """Write the demo protocol as ``<reviews_dir>/<review>/protocol.yaml``; returns its path."""
    folder = reviews_dir / review
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "protocol.yaml"
    path.write_text(DEMO_PROTOCOL.format(review=review), encoding="utf-8")
    return path


def import_records(
    store: Store, review: str, records: Iterable[Record], *, kind: str = "import"
) -> list[int]:
    """Add ``records`` under one finished search run of ``review``; their record ids."""
    run = store.record_search_run(source="pubmed", kind=kind, tool_version="demo",
                                  review=review, query="demo")  # fmt: skip
    result = store.add_records(records, run_id=run)
    store.finish_search_run(run, outcome="ok", hits=len(result.record_ids))
    return list(result.record_ids)
