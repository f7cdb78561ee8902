"""Report fixes found in review: partial subgroup data, fixed-effect row, What's new text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from _report_cycle import update_at

from registry.curation import load_review
from registry.store import Store
from reports.assemble import build_report


def _edit(path: Path, fn) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df).to_csv(path, index=False)


def test_subgroup_characteristic_missing_for_some_studies(reviews: Path, tmp_path: Path) -> None:
    def blank_sites(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["study_id"].isin(["Umea", "Uppsala"]), "site"] = ""
        return df

    _edit(reviews / "stroke-unit-los" / "extraction" / "studies.csv", blank_sites)
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "stroke-unit-los")
        built = build_report(store, "stroke-unit-los")
    sub = built.report.outcomes[0].subgroups[0]
    assert sub.figure is not None and "not reported" in sub.figure.svg
    assert {r["subgroup"] for r in built.results if r["subgroup_set"] == "site"} >= {
        "Edinburgh", "not reported"}


def test_fixed_effect_sensitivity_row_has_no_hksj(reviews: Path, tmp_path: Path) -> None:
    f = reviews / "bcg-vaccine" / "protocol.yaml"
    proto = yaml.safe_load(f.read_text(encoding="utf-8"))
    proto["analysis"]["preset"] = "cochrane2025"
    f.write_text(yaml.safe_dump(proto, sort_keys=False), encoding="utf-8")
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "bcg-vaccine")
        built = build_report(store, "bcg-vaccine")
    fe = [s for s in built.report.outcomes[0].sensitivity if s.label == "Fixed-effect model"]
    assert fe and fe[0].pooled is not None
    assert fe[0].pooled.model == "fixed effect (inverse variance), Wald CI"
    # metafor rma(method="FE") on bcg_RR: 0.6500 [0.6011, 0.7029] (bcg_RR.json, model FE)
    e = fe[0].pooled.effect
    assert (round(e.estimate, 2), round(e.ci_lb, 2), round(e.ci_ub, 2)) == (0.65, 0.60, 0.70)


def test_whats_new_names_removed_studies_and_lost_analyses(
    reviews: Path, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = update_at(db, "stroke-unit-los", out, offline=True)
    assert first.report is not None
    ext = reviews / "stroke-unit-los" / "extraction"
    keep = ["Edinburgh"]
    for f in ext.glob("*.csv"):
        _edit(f, lambda df: df[df["study_id"].isin(keep)] if "study_id" in df else df)
    update_at(db, "stroke-unit-los", out, offline=True)
    md = (out / "stroke-unit-los" / "report.md").read_text(encoding="utf-8")
    assert "Studies no longer included: Orpington-Mild" in md
    # the length-of-stay analysis had 9 studies and P = 0.006; with one study left it is gone
    assert "Length of hospital stay (Hospital discharge): no longer pooled (was k = 9)" in md
    assert ("Length of hospital stay (Hospital discharge): was significant, now no pooled "
            "estimate") in md


def test_both_arms_are_read_at_the_same_week(reviews: Path, tmp_path: Path) -> None:
    from registry.curation import pooling_inputs

    folder = reviews / "stroke-unit-los"
    f = folder / "protocol.yaml"
    proto = yaml.safe_load(f.read_text(encoding="utf-8"))
    proto["time_points"][0]["window"] = [0, 10]
    f.write_text(yaml.safe_dump(proto, sort_keys=False), encoding="utf-8")

    def shift(df: pd.DataFrame) -> pd.DataFrame:
        # test-only edit: Edinburgh's control arm measured only at week 6, its experimental
        # arm at weeks 0 (mean 55, as published) and 6 (mean 40)
        ctrl = (df["study_id"] == "Edinburgh") & (df["arm_id"] == "routine")
        df.loc[ctrl, "time_weeks"] = "6"
        extra = df[(df["study_id"] == "Edinburgh") & (df["arm_id"] == "specialist")].copy()
        extra["time_weeks"], extra["mean"], extra["time_point"] = "6", "40", "week 6"
        return pd.concat([df, extra])

    _edit(folder / "extraction" / "outcomes.csv", shift)
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "stroke-unit-los")
        data = pooling_inputs(store, "stroke-unit-los")[0].data
    row = data[data["study_id"] == "Edinburgh"].iloc[0]
    assert (row["mean1"], row["mean2"]) == (40.0, 75.0)  # both at week 6


def test_prisma_of_an_example_review_has_no_studies_from_zero_records(
    reviews: Path, tmp_path: Path
) -> None:
    # Issue 10 item 18: the BCG example (13 curated trials, no records) showed 13 new
    # studies out of 0 records; they are counted as identified by other methods.
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "bcg-vaccine")
        built = build_report(store, "bcg-vaccine")
    rows = {(r[0], r[1]): r[2] for r in built.report.prisma_table.rows}
    other = [v for (stage, what), v in rows.items() if stage.endswith("(other methods)")]
    assert other == ["13"]
    assert rows[("Included", "New studies included")] == "13"
    assert built.report.prisma is not None
    assert "curated extraction data" in built.report.prisma.svg
