"""GRADE in the Summary of Findings: data-driven suggestions, curator ratings override."""

from __future__ import annotations

from pathlib import Path

import yaml

from registry.curation import load_review
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
    # Normand 1999 MD, DL: I² = 96.65% (> 75%: very serious); no RoB judgements: serious;
    # CI [-24.03, -3.93] excludes 0 and 1158 participants >= 400: imprecision not serious.
    assert (row["Risk of bias"], row["Inconsistency"], row["Imprecision"]) == (
        "serious", "very serious", "not serious")
    assert row["Certainty"] == "Very low (suggested)"  # 1 + 2 levels down from High


def test_curator_ratings_override_the_suggestions(reviews: Path, tmp_path: Path) -> None:
    f = reviews / "stroke-unit-los" / "protocol.yaml"
    proto = yaml.safe_load(f.read_text(encoding="utf-8"))
    proto["grade"] = {"los": {"inconsistency": "not_serious", "indirectness": "serious"}}
    f.write_text(yaml.safe_dump(proto, sort_keys=False), encoding="utf-8")
    row = _sof(tmp_path)
    assert row["Inconsistency"] == "not serious (curators)"
    assert row["Indirectness"] == "serious"
    assert row["Certainty"] == "Low (suggested)"  # RoB serious 1 + indirectness 1
