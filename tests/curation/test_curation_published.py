"""Internal consistency of published pooled results (warnings for the curator, not errors)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from registry.curation import check_result, parse_p, published_results
from registry.curation.published import read_published
from schemas.protocol import REVIEWS_DIR, load_protocol


def _r(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"result_id": "x", "measure": "MD"}
    base.update(kw)
    return base


def _checks(**kw: object) -> set[str]:
    return {f.check for f in check_result(_r(**kw))}


def test_consistent_md_passes() -> None:
    # SE = (−0.02 − (−1.98)) / (2 × 1.96) = 0.5; z = 1.00 / 0.5 = 2.0; p = 2(1 − Φ(2)) = 0.0455
    assert _checks(estimate=-1.0, ci_lower=-1.98, ci_upper=-0.02, p_value="0.045") == set()


def test_p_value_contradicting_the_ci_is_flagged() -> None:
    # the same CI gives p ≈ 0.046, not 0.20; and the CI excludes 0 while p > 0.05
    got = _checks(estimate=-1.0, ci_lower=-1.98, ci_upper=-0.02, p_value="0.20")
    assert got == {"p_matches_ci", "significance"}


def test_ratio_measures_are_checked_on_the_log_scale() -> None:
    # ln 0.25 = −1.386, ln 0.5 = −0.693, ln 1 = 0: symmetric on the log scale;
    # SE = 1.386 / 3.92 = 0.3536, z = 0.693 / 0.3536 = 1.96, p = 0.05
    assert _checks(measure="RR", estimate=0.5, ci_lower=0.25, ci_upper=1.0, p_value="0.05") == set()
    # upper bound 1.5: ln 1.5 − ln 0.5 = 1.099 against ln 0.5 − ln 0.25 = 0.693
    assert "ci_symmetric" in _checks(measure="RR", estimate=0.5, ci_lower=0.25, ci_upper=1.5)
    assert _checks(measure="OR", estimate=0.5, ci_lower=0.0, ci_upper=1.5) == {"ci_symmetric"}


def test_estimate_outside_ci_and_counts() -> None:
    assert _checks(estimate=-0.02, ci_lower=-0.30, ci_upper=-0.26) == {"ci_contains_estimate"}
    assert _checks(n_participants=25, n_experimental=10, n_control=12) == {"counts"}
    assert _checks(n_participants=22, n_experimental=10, n_control=12, k=2) == set()
    assert _checks(n_participants=10, k=6) == {"counts"}  # fewer than 2 per two-arm study


def test_p_below_a_threshold() -> None:
    # seed MELD 6 months: SMD −1.18 [−1.51, −0.85]: SE = 0.66 / 3.92 = 0.168, z = 7.0,
    # p ≈ 2.5e−12, consistent with the printed "<0.00001"
    assert _checks(estimate=-1.18, ci_lower=-1.51, ci_upper=-0.85, p_value="<0.00001") == set()
    assert _checks(estimate=-0.05, ci_lower=-0.38, ci_upper=0.28, p_value="<0.001") == {
        "p_matches_ci",
        "significance",
    }


@pytest.mark.parametrize(
    ("text", "interval"),
    [("0.002", (0.0015, 0.0025)), ("<0.00001", (0.0, 0.00001)), ("> 0.05", (0.05, 1.0)),
     ("p = 0.10", (0.095, 0.105)), ("1", (0.5, 1.0))],
)  # fmt: skip
def test_parse_p(text: str, interval: tuple[float, float]) -> None:
    lo, hi = parse_p(text)
    assert (lo, hi) == pytest.approx(interval)


@pytest.mark.parametrize("text", ["abc", "1.5", "-0.1", ""])
def test_parse_p_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_p(text)


def test_seed_published_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed's printed estimates (Lu 2023, stored by the msc-cirrhosis review).

    trials_verified.md §3.2 marks two printed results as "(as printed)": MELD at 2 weeks,
    −0.27 [−0.59, −0.05] with p = 0.10 (a CI that excludes 0 cannot give p = 0.10 and is not
    symmetric about −0.27; [−0.59, 0.05] would fit), and TBIL at 1 week, −0.02 [−0.30, −0.26]
    (the estimate lies outside its CI). Those two, and only those, must be flagged.
    """
    monkeypatch.delenv("REGISTRY_REVIEWS", raising=False)
    folder = REVIEWS_DIR / "msc-cirrhosis"
    assert (folder / "published_results.csv").is_file(), "the bundled seed review is missing"
    df, problems = read_published(folder, load_protocol("msc-cirrhosis"))
    assert problems == []
    flagged = {}
    for rec in df.to_dict("records"):
        found = check_result(rec)
        if found:
            flagged[rec["result_id"]] = {f.check for f in found}
    assert set(flagged) == {"meld_2w", "tbil_1w"}
    assert {"ci_symmetric", "p_matches_ci"} <= flagged["meld_2w"]
    assert flagged["tbil_1w"] == {"ci_contains_estimate"}
    assert len(df) >= 40  # §3 lists 6 overall + time, route, etiology and dose subgroups


def test_published_results_from_the_store(mini: Path, db: object) -> None:
    from registry.curation import load_review

    load_review(db, "mini")
    df = published_results(db, "mini")
    assert df["result_id"].tolist() == ["score_all"] and df["consistency"].tolist() == [""]


def _printed_p(p: float) -> str:
    # RevMan style: "<0.00001" below that, else two significant digits
    return "<0.00001" if p < 0.00001 else f"{p:.2g}"


@settings(max_examples=300, deadline=None)
@given(est=st.floats(-3, 3), se=st.floats(0.05, 1.0))
def test_correctly_printed_md_results_never_flagged(est: float, se: float) -> None:
    # A result computed exactly (CI = est ± 1.96 SE, p from z) and printed to 2 decimals must
    # pass: the checks allow exactly the rounding of the printed digits.
    z = stats.norm.ppf(0.975)
    p = 2 * stats.norm.sf(abs(est / se))
    rec = _r(estimate=round(est, 2), ci_lower=round(est - z * se, 2),
             ci_upper=round(est + z * se, 2), p_value=_printed_p(p))  # fmt: skip
    assert check_result(rec) == []


@settings(max_examples=300, deadline=None)
@given(log_est=st.floats(-2, 2), se=st.floats(0.05, 1.0))
def test_correctly_printed_ratio_results_never_flagged(log_est: float, se: float) -> None:
    z = stats.norm.ppf(0.975)
    p = 2 * stats.norm.sf(abs(log_est / se))
    lo, hi = math.exp(log_est - z * se), math.exp(log_est + z * se)
    if round(lo, 2) <= 0:
        return  # printed as 0.00: not a usable ratio CI
    rec = _r(measure="RR", estimate=round(math.exp(log_est), 2), ci_lower=round(lo, 2),
             ci_upper=round(hi, 2), p_value=_printed_p(p))  # fmt: skip
    assert check_result(rec) == []
