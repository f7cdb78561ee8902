"""The PRISMA/methods part says how screening was done (issue 12 item 5)."""

from __future__ import annotations

from pathlib import Path

from registry.curation import load_review
from registry.store import Store
from reports.assemble import build_report
from reports.assemble.prose import screening_note
from reports.render import render_markdown


def test_report_has_the_screening_line(reviews: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "bcg-vaccine")
        built = build_report(store, "bcg-vaccine")
    md = render_markdown(built.report)
    flow = md[md.index("## Study flow"):md.index("## Characteristics")]
    # the screening library's own facts (registry.screening.progress.screening_methods)
    assert "Screening: records ordered by transparent relevance score" in flow
    assert "0 of 0 records screened by hand; estimated recall: not estimated; " \
           "stopping criterion: Callaghan & Müller-Hansen 2020" in flow
    assert "no estimate yet (no include among the 0 screened records)" in flow


def test_the_screening_models_facts_reach_the_line() -> None:
    from registry.screening.progress import ScreeningMethods
    from reports.assemble.prose import recall_estimate

    m = ScreeningMethods(
        ordered_by="active learning (TF-IDF + linear SVM retrained on 40 decisions)",
        screened_by_hand=412, total=2304, recall_estimate=0.962, recall_lower=0.951,
        stopping_criterion="Callaghan & Müller-Hansen 2020",
        verdict="safe to stop at 95 % recall (p = 0.031 < 0.05)",
    )  # fmt: skip
    note = screening_note({"records_screened": 412, "records_to_screen": 2304,
                           "recall_estimate": recall_estimate(m)})  # fmt: skip
    assert note.text == (
        "Screening: records ordered by active learning (TF-IDF + linear SVM retrained on 40 "
        "decisions); 412 of 2304 records screened by hand; estimated recall: 96%; stopping "
        "criterion: Callaghan & Müller-Hansen 2020: safe to stop at 95 % recall (p = 0.031 < "
        "0.05); one-sided 95% lower bound of recall 95%.")


def test_a_recall_estimate_plugs_in() -> None:
    # the shape a screening model can add to the store's screening summary
    note = screening_note({
        "records_screened": 412, "records_to_screen": 2304,
        "recall_estimate": {"ordering": "by an active-learning model", "recall": 0.962,
                            "ci": (0.91, 0.99), "target": 0.95, "p_value": 0.031,
                            "criterion": "Callaghan & Müller-Hansen 2020", "safe_to_stop": True},
    })
    assert note.text == (
        "Screening: records ordered by an active-learning model; 412 of 2304 records screened "
        "by hand; estimated recall: 96% (95% CI 91% to 99%); stopping criterion: Callaghan & "
        "Müller-Hansen 2020 (safe to stop at 95% recall, P = 0.031).")
