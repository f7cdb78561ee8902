"""Subgroups by time point: one forest, a subgroup per time point, no overall diamond."""

from __future__ import annotations

from pathlib import Path

from _report_cycle import add_later_time_point

from registry.curation import load_review
from registry.store import Store
from reports.assemble import build_report


def test_time_point_subgroups_without_overall(reviews: Path, tmp_path: Path) -> None:
    add_later_time_point(reviews / "stroke-unit-los")

    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "stroke-unit-los")
        built = build_report(store, "stroke-unit-los")
    sec = [s for s in built.report.outcomes if s.time_point == "all time points"]
    assert len(sec) == 1
    view = sec[0].subgroups[0]
    assert view.figure is not None and "Total (95% CI)" not in view.figure.svg
    assert "Hospital discharge" in view.figure.svg and "Later" in view.figure.svg
    assert view.test_text.startswith("Test for subgroup differences: Chi² = ")
    rows = [r for r in built.results if r["subgroup_set"] == "time"]
    assert sorted(r["subgroup"] for r in rows) == ["Hospital discharge", "Later"]
    assert {r["k"] for r in rows} == {9, 4}
