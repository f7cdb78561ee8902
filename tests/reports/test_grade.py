"""GRADE in the Summary of Findings: data-driven suggestions, curator ratings override."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from registry.curation import load_review
from registry.evidence import grade
from registry.store import Store
from reports.assemble import build_report


def _sof(tmp_path: Path) -> dict[str, str]:
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "stroke-unit-los")
        built = build_report(store, "stroke-unit-los")
    table = built.report.sof
    assert len(table.rows) == 1
    return dict(zip(table.columns, table.rows[0], strict=True))


def test_suggestions_from_the_data(reviews: Path, tmp_path: Path) -> None:
    row = _sof(tmp_path)
    # Normand 1999 MD, DL: I² = 96.65% (> 75%: very serious); no RoB judgements: not
    # assessed (issue 10 item 18: not "serious"); CI [-24.03, -3.93] excludes 0 and 1158
    # participants >= 400: imprecision not serious.
    assert (row["Risk of bias"], row["Inconsistency"], row["Imprecision"]) == (
        "not assessed", "very serious", "not serious")
    assert row["Certainty"] == "Low (suggested)"  # 2 levels down from High
    assert row["Absolute effect per 1,000 (control → intervention)"] == "—"  # MD: no risk


def test_curator_ratings_override_the_suggestions(reviews: Path, tmp_path: Path) -> None:
    f = reviews / "stroke-unit-los" / "protocol.yaml"
    proto = yaml.safe_load(f.read_text(encoding="utf-8"))
    proto["grade"] = {"los": {"inconsistency": "not_serious", "indirectness": "serious"}}
    f.write_text(yaml.safe_dump(proto, sort_keys=False), encoding="utf-8")
    row = _sof(tmp_path)
    assert row["Inconsistency"] == "not serious (curators)"
    assert row["Indirectness"] == "serious"
    assert row["Certainty"] == "Moderate (suggested)"  # indirectness 1 (RoB not assessed)


def test_absolute_effects_per_1000() -> None:
    # Worked by hand from the formulas GRADE uses (Cochrane Handbook 14.1.5.1 / 15.4.4.2):
    # control risk 0.2; RR 0.5 [0.25, 1.0] -> 100 [50, 200] per 1,000;
    # OR 0.5 -> 0.5*0.2 / (1 - 0.2 + 0.5*0.2) = 0.1111 -> 111 per 1,000.
    rr = grade.absolute_effect("RR", 0.5, 0.25, 1.0, 0.2)
    assert rr is not None and (rr.control_per_1000, rr.risk_per_1000, rr.lb_per_1000,
                               rr.ub_per_1000, rr.difference) == (200, 100, 50, 200, -100)
    orr = grade.absolute_effect("OR", 0.5, 0.5, 0.5, 0.2)
    assert orr is not None and orr.risk_per_1000 == 111
    assert grade.absolute_effect("MD", -1.0, -2.0, 0.0, 0.2) is None


def test_bcg_summary_of_findings_has_absolute_effect(reviews: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "bcg-vaccine")
        built = build_report(store, "bcg-vaccine")
    row = dict(zip(built.report.sof.columns, built.report.sof.rows[0], strict=True))
    cell = row["Absolute effect per 1,000 (control → intervention)"]
    # assumed control risk: the 13 trials' control arms (cpos / (cpos + cneg) of Colditz
    # 1994 as in metadat dat.bcg), read from the curated sheet
    out = pd.read_csv(reviews / "bcg-vaccine" / "extraction" / "outcomes.csv")
    ctrl = out[out["arm_id"] == "control"]
    acr = round(1000 * ctrl["events"].sum() / ctrl["total"].sum())
    assert cell.startswith(f"{acr} per 1,000 → ") and "fewer" in cell
    assert row["Risk of bias"] == "not assessed"  # no RoB sheet for the BCG example
