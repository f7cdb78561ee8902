"""Subgroups by time point: one forest, a subgroup per time point, no overall diamond."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from registry.analysis import build_report
from registry.curation import load_review
from registry.store import Store


def test_time_point_subgroups_without_overall(reviews: Path, tmp_path: Path) -> None:
    folder = reviews / "stroke-unit-los"
    proto = yaml.safe_load((folder / "protocol.yaml").read_text(encoding="utf-8"))
    proto["time_points"].append({"id": "later", "label": "Later", "weeks": 10,
                                 "window": [5, 20]})
    proto["subgroups"].append({"id": "time", "label": "Time point", "by": "time_point"})
    (folder / "protocol.yaml").write_text(yaml.safe_dump(proto, sort_keys=False),
                                          encoding="utf-8")
    # Test-only second time point: the first four trials' rows again at week 10 (the same
    # numbers, so each time-point subgroup of those trials has the same estimate).
    out = pd.read_csv(folder / "extraction" / "outcomes.csv", dtype=str, keep_default_na=False)
    later = out[out["study_id"].isin(out["study_id"].unique()[:4])].copy()
    later["time_point"] = "later"
    later["time_weeks"] = "10"
    pd.concat([out, later]).to_csv(folder / "extraction" / "outcomes.csv", index=False)

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
