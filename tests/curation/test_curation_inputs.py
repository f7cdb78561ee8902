"""pooling_inputs: one row per study per outcome x time point, converted, combined, flagged."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from registry.curation import gaps, load_review, pooling_inputs
from registry.store import Store

from .helpers import append_row, copy_row, set_cell

SRC = "https://doi.org/10.1000/xyz123"


def _by(pis: list, outcome: str, tp: str):  # noqa: ANN202 - test helper
    return next(p for p in pis if p.outcome.id == outcome and p.time_point.id == tp)


def test_rows_units_and_flags(mini: Path, db: Store) -> None:
    set_cell(mini / "extraction", "studies", 3, "design_assessed", "nRCT")
    load_review(db, "mini")
    pis = pooling_inputs(db, "mini")
    assert {(p.outcome.id, p.time_point.id) for p in pis} == {
        ("score", "1m"), ("albumin", "3m"), ("death", "3m"),
    }  # fmt: skip
    score = _by(pis, "score", "1m")
    assert score.kind == "continuous" and score.measure == "MD" and score.k == 2
    d = score.data.set_index("study_id")
    assert d.loc["Alpha2010", ["n1", "mean1", "sd1", "n2", "mean2", "sd2"]].tolist() == [
        18, 12.5, 3.1, 19, 14.0, 3.5,
    ]  # fmt: skip
    assert d.loc["Alpha2010", "label"] == "Alpha 2010"
    assert d.loc["Alpha2010", "route"] == "oral" and d.loc["Alpha2010", "dose_per_kg"] == 0.5
    assert bool(d.loc["Alpha2010", "is_rct"]) and not bool(d.loc["Beta2012", "is_rct"])
    assert d.loc["Beta2012", "design_assessed"] == "nRCT"
    # RoB1: Beta2012 random_sequence high -> high; Alpha2010 one key domain unclear -> unclear
    assert d.loc["Beta2012", "rob_overall"] == "high" and d.loc["Alpha2010", "rob_overall"] == (
        "unclear"
    )
    assert d.loc["Beta2012", "sd1"] == pytest.approx(0.5 * math.sqrt(30))  # derived from SE
    assert "registry derived" in d.loc["Beta2012", "derivation"]
    # albumin given in g/dL, protocol canonical unit g/L with factor 10
    alb = _by(pis, "albumin", "3m").data.iloc[0]
    assert (alb["mean1"], alb["sd1"], alb["mean2"], alb["sd2"]) == pytest.approx((34, 4, 31, 5))
    assert alb["unit"] == "g/L"
    death = _by(pis, "death", "3m")
    assert death.kind == "dichotomous" and death.measure == "RR"
    assert death.data.iloc[0][["events1", "n1", "events2", "n2"]].tolist() == [2, 20, 5, 20]


def test_multi_arm_studies_combine_experimental_arms(mini: Path, db: Store) -> None:
    x = mini / "extraction"
    append_row(x, "arms", {"study_id": "Alpha2010", "arm_id": "trt2", "role": "experimental",
                           "n_randomised": "20", "n_analysed": "20", "source": SRC})  # fmt: skip
    copy_row(x, "outcomes", 2, arm_id="trt2", n="20", mean="10.5", sd="2.9")
    copy_row(x, "outcomes", 8, arm_id="trt2", events="3", total="20")
    load_review(db, "mini")
    pis = pooling_inputs(db, "mini")
    row = _by(pis, "score", "1m").data.set_index("study_id").loc["Alpha2010"]
    # Cochrane Handbook 6.5.2.10: N = 18 + 20 = 38; M = (18 × 12.5 + 20 × 10.5) / 38 = 11.447368;
    # SD² = (17 × 3.1² + 19 × 2.9² + 18 × 20 / 38 × (12.5 − 10.5)²) / 37
    #     = (163.37 + 159.79 + 37.894737) / 37 = 9.758236 -> SD = 3.123817
    assert row["n1"] == 38
    assert row["mean1"] == pytest.approx(11.447368, abs=1e-6)
    assert row["sd1"] == pytest.approx(3.123817, abs=1e-6)
    assert row["combined"] == "experimental arms trt + trt2 combined"
    assert any("6.5.2.10" in n for n in _by(pis, "score", "1m").notes)
    death = _by(pis, "death", "3m").data.iloc[0]
    assert death[["events1", "n1"]].tolist() == [5, 40]


def test_nearest_time_in_window_and_excluded_studies(mini: Path, db: Store) -> None:
    x = mini / "extraction"
    # Alpha2010 also reports 6 weeks (window 3-6 of 1 month): the 4-week row stays the choice
    copy_row(x, "outcomes", 2, time_point="6 weeks", time_weeks="6", mean="30")
    copy_row(x, "outcomes", 3, time_point="6 weeks", time_weeks="6", mean="30")
    set_cell(x, "studies", 3, "included_in", "excluded")
    load_review(db, "mini")
    score = _by(pooling_inputs(db, "mini"), "score", "1m").data
    assert score["study_id"].tolist() == ["Alpha2010"]
    assert score["mean1"].tolist() == [12.5] and score["time_weeks"].tolist() == [4]


def test_gaps(mini: Path, db: Store) -> None:
    x = mini / "extraction"
    set_cell(x, "outcomes", 5, "sd", "")  # Beta2012 ctl score: mean without dispersion ...
    set_cell(x, "outcomes", 5, "ci_lower", "12")  # ... but a CI, so the sheet is valid
    set_cell(x, "outcomes", 5, "ci_upper", "15")
    set_cell(x, "outcomes", 5, "n", "")
    set_cell(x, "arms", 5, "n_analysed", "")
    set_cell(x, "arms", 5, "n_randomised", "")  # ... and now no n anywhere: no SD derivable
    copy_row(x, "outcomes", 6, time_point="8 weeks", time_weeks="8")  # 8 weeks: no window
    load_review(db, "mini")
    g = gaps(db, "mini")
    rows = {(r.study_id, r.outcome, r.time_point, r.status) for r in g.itertuples()}
    assert ("Beta2012", "score", "1m", "missing dispersion") in rows
    assert ("Beta2012", "score", "1m", "missing n") in rows
    assert ("Beta2012", "(study)", "(any)", "no n") in rows
    assert ("Beta2012", "albumin", "8 weeks", "outside time windows") in rows
    assert ("Beta2012", "death", "(any)", "no values") in rows
    assert ("Alpha2010", "albumin", "(any)", "no values") in rows
    assert ("Alpha2010", "score", "3m", "no values") in rows
    assert not any(s == "Alpha2010" and o == "score" and t == "1m" for s, o, t, _ in rows)
    # Beta2012 has no usable control value now: it is left out of the 1-month pool
    assert _by(pooling_inputs(db, "mini"), "score", "1m").data["study_id"].tolist() == ["Alpha2010"]
