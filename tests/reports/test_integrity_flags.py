"""A study with an integrity finding is flagged beside its row in every forest plot, not
only in the studies table (a reader of a forest sees which estimate rests on a retracted
paper)."""

from __future__ import annotations

from pathlib import Path

from registry.curation import load_review
from registry.sources.watch import RETRACTION
from registry.store import Store
from reports.assemble import build_report


def test_a_retracted_study_is_flagged_in_the_forest_plots(reviews: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "stroke-unit-los")
        before = build_report(store, "stroke-unit-los").report
        pooled = [s for s in before.outcomes if s.forest is not None]
        study = next(r[0] for r in before.studies.rows)
        assert pooled and all("[retracted]" not in s.forest.svg for s in pooled)
        # a finding as the integrity watch saves it (the notice DOI is made up: no
        # study of this example review was ever retracted)
        store.save_integrity_findings("stroke-unit-los", [{
            "study_id": study, "kind": RETRACTION, "source": "crossref update-to",
            "notice": "10.0000/test-notice", "work": "10.0000/test-work"}])
        after = build_report(store, "stroke-unit-los").report
    flagged = f"{study} [retracted]"
    assert after.studies.rows[0][0] == flagged
    forests = [s.forest.svg for s in after.outcomes if s.forest is not None]
    assert forests and sum(flagged in svg for svg in forests) >= 1
    # only that study: every other label is as it was
    assert all(svg.count("[retracted]") == svg.count(flagged) for svg in forests)
