"""The report leads with the answer (issue 10 item 13): published pooled results, clearly
labelled, next to the registry's re-analysis; the consistency check says what it compared."""

from __future__ import annotations

from pathlib import Path

from registry.curation import load_review
from registry.store import Store
from reports.assemble import build_report
from reports.render import render_markdown


def test_published_results_lead_the_report(reviews: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "msc-cirrhosis")
        built = build_report(store, "msc-cirrhosis")
    md = render_markdown(built.report)
    assert md.index("## Main findings") < md.index("## What's new")
    findings = md[md.index("## Main findings"):md.index("## What's new")]
    # Lu 2023, Fig. 4 (MELD score, MD -1.12 [-1.84, -0.40], k = 6, P = 0.002), as curated
    # in data/reviews/msc-cirrhosis/published_results.csv
    assert ("As published, not re-analysed (trial data not yet extracted): "
            "MD -1.12 \\[-1.84, -0.4\\], k = 6, P = 0.002") in findings
    assert "Registry re-analysis: no time point has two or more studies" in findings
    checks = {row[-1] for row in built.report.published_vs_registry.rows}
    assert "consistent" not in checks  # the bare label said nothing of what was compared
    assert any(c.startswith("consistent within the publication: estimate inside its CI")
               for c in checks)
