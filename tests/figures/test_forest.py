"""Forest plots: RevMan layout, texts, sides, scales, subgroups, cumulative, leave-one-out.

Expected strings are metafor's numbers from reference/metafor/bcg_RR.json rounded the way
RevMan 5 prints them (2 decimals; P < 0.00001 / < 0.0001; I² whole percent); ratio
estimates are exp() of the log values in the file (metafor: predict(res, transf = exp)).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from figure_inputs import (
    bcg_cumulative,
    bcg_forest,
    bcg_leave_one_out,
    bcg_subgroup_forest,
    bcg_total,
    by_class,
    mark_width,
    marks,
    render,
    texts,
)

from reports.figures import (
    Arm,
    EffectTest,
    ForestGroup,
    ForestPlot,
    Heterogeneity,
    PooledRow,
    StudyRow,
    cumulative_forest_svg,
    forest_svg,
    leave_one_out_svg,
)


def find(svg: str, value: str):
    hits = [t for t in texts(svg) if t.text == value]
    assert hits, f"{value!r} not in figure; texts: {[t.text for t in texts(svg)][:80]}"
    return hits[0]


def test_bcg_rows_columns_and_lines(bcg: dict) -> None:
    svg = render(forest_svg, bcg_forest(bcg))
    for label in bcg["labels"]:
        find(svg, label)
    for header in ("Study or Subgroup", "Experimental", "Control", "Events", "Total", "Weight",
                   "Risk Ratio", "IV, Random, 95% CI", "Total (95% CI)"):
        find(svg, header)
    # Hart & Sutherland 1977: 62/13598 vs 248/12867 (input), DL weight 9.7176% -> 9.7%
    row = find(svg, "Hart & Sutherland 1977")
    for cell in ("62", "13598", "248", "12867", "9.7%"):
        assert any(t.text == cell and abs(t.y - row.y) < 0.01 for t in texts(svg)), cell
    # DL: exp(-0.714117) = 0.49, exp(-1.064445) = 0.34, exp(-0.363789) = 0.70
    total = find(svg, "0.49 [0.34, 0.70]")
    assert abs(total.y - find(svg, "Total (95% CI)").y) < 0.01
    # tau2 0.30876, Q 152.233, p 2.0e-26, I2 92.117; z = -3.995, p = 6.46e-05
    find(svg, "Heterogeneity: Tau\u00b2 = 0.31; Chi\u00b2 = 152.23, df = 12 (P < 0.00001); "
              "I\u00b2 = 92%")
    find(svg, "Test for overall effect: Z = 4.00 (P < 0.0001)")
    assert len(marks(svg, "study-square")) == 13
    assert len(by_class(svg, "pooled-diamond")) == 1
    assert not by_class(svg, "prediction-interval")


def test_square_area_proportional_to_weight(bcg: dict) -> None:
    svg = render(forest_svg, bcg_forest(bcg))
    halves = [mark_width(svg, m) / 2 for m in marks(svg, "study-square")]
    w = bcg["models"]["DL"]["weights_percent"]
    # area ratio == weight ratio, relative to the heaviest study (TPT Madras, 10.2%)
    big = max(range(13), key=lambda i: w[i])
    for i in range(13):
        assert halves[i] ** 2 / halves[big] ** 2 == pytest.approx(w[i] / w[big], rel=1e-4)


@pytest.mark.parametrize("direction,left,right", [
    ("lower_is_better", "Favours experimental", "Favours control"),
    ("higher_is_better", "Favours control", "Favours experimental"),
])
def test_favours_labels_on_the_correct_sides(bcg: dict, direction: str, left: str,
                                             right: str) -> None:
    svg = render(forest_svg, bcg_forest(bcg, direction=direction))
    null_tick = [t for t in texts(svg) if t.text == "1" and t.anchor == "middle"]
    assert len(null_tick) == 1
    x_null = null_tick[0].x
    lt, rt = find(svg, left), find(svg, right)
    assert lt.anchor == "end" and lt.x < x_null
    assert rt.anchor == "start" and rt.x > x_null
    assert lt.cls == "favours-left" and rt.cls == "favours-right"


def test_custom_favours_texts(bcg: dict) -> None:
    svg = render(forest_svg, bcg_forest(bcg, favours=("Favours BCG", "Favours no vaccine")))
    assert find(svg, "Favours BCG").x < find(svg, "Favours no vaccine").x


def _ticks(svg: str) -> dict[str, float]:
    y_axis = max(t.y for t in texts(svg) if t.anchor == "middle" and t.text in {"1", "0"})
    return {t.text: t.x for t in texts(svg) if t.anchor == "middle" and abs(t.y - y_axis) < 0.01}


def test_ratio_measure_has_log_axis(bcg: dict) -> None:
    ticks = _ticks(render(forest_svg, bcg_forest(bcg)))
    # limits chosen to contain the CIs (lowest bound 0.07): 0.05 .. 20, RevMan's ticks
    assert list(ticks) == ["0.05", "0.2", "1", "5", "20"]
    # log scale: x is linear in log(value) (on a linear axis 0.05..1 would be squeezed)
    vals = [float(k) for k in ticks]
    xs = list(ticks.values())
    slope = (xs[-1] - xs[0]) / (math.log(vals[-1]) - math.log(vals[0]))
    for v, x in zip(vals, xs, strict=True):
        assert x == pytest.approx(xs[0] + slope * (math.log(v) - math.log(vals[0])), abs=0.01)
    assert ticks["1"] == pytest.approx((xs[0] + xs[-1]) / 2, abs=0.01)  # null in the middle


def test_difference_measure_has_linear_axis_around_zero() -> None:
    studies = (StudyRow("A 2001", -2.0, -5.0, 1.0, 60.0, Arm(20, 10.5, 3.2), Arm(21, 12.5, 3.0)),
               StudyRow("B 2002", 1.0, -3.0, 5.0, 40.0, Arm(15, 11, 4), Arm(15, 10, 4.1)))
    pooled = PooledRow(-0.8, -3.2, 1.6, heterogeneity=Heterogeneity(1.3, 1, 0.25, 23.0, 0.5),
                       test=EffectTest(-0.65, 0.52))
    plot = ForestPlot("MD", (ForestGroup(studies),), kind="continuous", total=pooled,
                      direction="higher_is_better")
    svg = render(forest_svg, plot)
    ticks = _ticks(svg)
    assert list(ticks) == ["-5", "-2.5", "0", "2.5", "5"]
    xs = list(ticks.values())
    assert xs[2] - xs[1] == pytest.approx(xs[3] - xs[2], abs=0.01)
    for cell in ("Mean", "SD", "10.5", "3.2", "12.5", "Mean Difference",
                 "-2.00 [-5.00, 1.00]", "-0.80 [-3.20, 1.60]",
                 "Heterogeneity: Tau\u00b2 = 0.50; Chi\u00b2 = 1.30, df = 1 (P = 0.25); "
                 "I\u00b2 = 23%", "Test for overall effect: Z = 0.65 (P = 0.52)"):
        find(svg, cell)
    assert find(svg, "Favours control").x < find(svg, "Favours experimental").x


def test_subgroup_blocks_diamonds_and_test(bcg: dict) -> None:
    svg = render(forest_svg, bcg_subgroup_forest(bcg))
    for name in ("alternate", "random", "systematic"):
        find(svg, f"Allocation: {name}")
    assert len([t for t in texts(svg) if t.text == "Subtotal (95% CI)"]) == 3
    assert len(by_class(svg, "pooled-diamond")) == 4  # 3 subtotals + total
    assert len(marks(svg, "study-square")) == 13
    # subgroups_DL: random Q = 110.213, df 6, p 1.8e-21, I2 94.56, tau2 0.7631;
    # z = -2.773, p = 0.00555; systematic p(Q) = 0.00086 -> "0.0009"
    find(svg, "Heterogeneity: Tau\u00b2 = 0.76; Chi\u00b2 = 110.21, df = 6 (P < 0.00001); "
              "I\u00b2 = 95%")
    find(svg, "Test for overall effect: Z = 2.77 (P = 0.006)")
    # test_for_subgroup_differences: Q 1.5368, df 2, p 0.4638, I2 0
    find(svg, "Test for subgroup differences: Chi\u00b2 = 1.54, df = 2 (P = 0.46), I\u00b2 = 0%")
    # block order follows the input: alternate above random above systematic
    ys = [find(svg, f"Allocation: {n}").y for n in ("alternate", "random", "systematic")]
    assert ys == sorted(ys)
    assert find(svg, "Stein & Aronson 1953").y < ys[1] < find(svg, "Aronson 1948").y


def test_prediction_interval_row(bcg: dict) -> None:
    plot = bcg_forest(bcg, total=bcg_total(bcg, show_pi=True))
    svg = render(forest_svg, plot)
    # DL pi_lb -1.858154, pi_ub 0.429919 -> exp: 0.16, 1.54
    pi = find(svg, "[0.16, 1.54]")
    label = find(svg, "95% prediction interval")
    assert abs(pi.y - label.y) < 0.01
    assert label.y > find(svg, "Total (95% CI)").y
    assert len(by_class(svg, "prediction-interval")) == 1


def test_hksj_t_test_and_fixed_effect_lines(bcg: dict) -> None:
    # DL+HKSJ: t = -3.952, df 12, p = 0.00192
    hk = bcg_total(bcg, "DL+HKSJ")
    svg = render(forest_svg, bcg_forest(bcg, total=hk))
    find(svg, "Test for overall effect: t = 3.95, df = 12 (P = 0.002)")
    fe = bcg_total(bcg, "FE", method="FE")
    svg = render(forest_svg, bcg_forest(bcg, total=fe))
    # FE: no Tau²; z = -10.62, p 2.3e-26
    find(svg, "Heterogeneity: Chi\u00b2 = 152.23, df = 12 (P < 0.00001); I\u00b2 = 92%")
    find(svg, "Test for overall effect: Z = 10.62 (P < 0.00001)")


def test_single_study_subgroup_and_not_estimable() -> None:
    one = ForestGroup((StudyRow("Solo 2010", 0.2, -0.1, 0.5, 100.0),), title="Only one",
                      subtotal=PooledRow(0.2, -0.1, 0.5, k=1, test=EffectTest(1.3, 0.19)))
    two = ForestGroup((StudyRow("Zero 2011", None, None, None, None, Arm(10, events=0),
                                Arm(10, events=0)),), title="Double zero")
    svg = render(forest_svg, ForestPlot("OR", (one, two), kind="dichotomous"))
    find(svg, "Heterogeneity: Not applicable")
    assert abs(find(svg, "Not estimable").y - find(svg, "Zero 2011").y) < 0.01
    assert len(marks(svg, "study-square")) == 1


def test_ci_running_off_the_scale_gets_an_arrow() -> None:
    studies = (StudyRow("Wide 2000", 0.0, -9.0, 9.0, 50.0), StudyRow("Narrow 2001", 0.1, 0.0,
                                                                      0.2, 50.0))
    plot = ForestPlot("RR", (ForestGroup(studies),), xlim=(0.1, 10))
    svg = render(forest_svg, plot)
    assert len(marks(svg, "ci-arrow")) == 2  # both ends of "Wide 2000"


def test_cumulative_rows_labelled_by_study_added_and_year(bcg: dict) -> None:
    svg = render(cumulative_forest_svg, bcg_cumulative(bcg))
    order = bcg["cumulative_DL"]["order"]
    first = f"{bcg['authors'][order[0] - 1]} {bcg['years'][order[0] - 1]}"
    assert first == "Aronson 1948"
    labels = [first] + [f"+ {bcg['authors'][o - 1]} {bcg['years'][o - 1]}" for o in order[1:]]
    ys = [find(svg, lab).y for lab in labels]
    assert ys == sorted(ys), "one row per step, in the order of the cumulative analysis"
    assert len(marks(svg, "summary-point")) == 13
    assert len(by_class(svg, "pooled-diamond")) == 1
    assert len(by_class(svg, "reference-line")) == 1
    # step 1 = Aronson alone: exp(-0.889311) 0.41, exp(-2.007667) 0.13, exp(0.229045) 1.26
    find(svg, "0.41 [0.13, 1.26]")


def test_leave_one_out_rows(bcg: dict) -> None:
    svg = render(leave_one_out_svg, bcg_leave_one_out(bcg))
    for label in bcg["labels"]:
        find(svg, f"Omitting {label}")
    # omitting TPT Madras: estimate -0.790087 -> 0.45, ci -1.109727/-0.470447 -> 0.33/0.62,
    # tau2 0.2109 -> 0.21, I2 83.82 -> 84%
    row = find(svg, "Omitting TPT Madras 1980")
    for cell in ("0.45 [0.33, 0.62]", "0.21", "84%"):
        assert any(t.text == cell and abs(t.y - row.y) < 0.01 for t in texts(svg)), cell
    assert len(marks(svg, "summary-point")) == 13


def test_mode_is_set_by_the_function(bcg: dict) -> None:
    plot = replace(bcg_leave_one_out(bcg), mode="cumulative")
    svg = leave_one_out_svg(plot)
    assert any(t.text.startswith("Omitting ") for t in texts(svg))


def test_revman_number_formats() -> None:
    """RevMan 5 conventions (as printed in Cochrane reviews' analyses)."""
    from reports.figures.common import fmt_p, heterogeneity_text

    assert [fmt_p(p) for p in (2e-26, 6.46e-05, 0.00086, 0.00555, 0.0459, 0.4638, 1.0)] == [
        "< 0.00001", "< 0.0001", "= 0.0009", "= 0.006", "= 0.05", "= 0.46", "= 1.00"]
    assert fmt_p(float("nan")) == "= NA"
    assert heterogeneity_text(Heterogeneity(0.0, 0, float("nan"), 0.0, 0.0)) == (
        "Heterogeneity: Not applicable")


def test_dollar_signs_stay_literal() -> None:
    """matplotlib would read "$...$" as mathtext; a label must print as typed."""
    row = StudyRow("Cost $5 vs $10 trial", 0.1, -0.2, 0.4, 100.0)
    svg = render(forest_svg, ForestPlot("MD", (ForestGroup((row,), title="Price $ group"),)))
    find(svg, "Cost $5 vs $10 trial")
    find(svg, "Price $ group")


def test_non_finite_and_huge_values_do_not_break_the_plot() -> None:
    """NaN/inf from upstream show as "Not estimable"; a log ratio of 800 (exp overflows)
    is clipped with an arrow instead of raising."""
    from reports.figures import SummaryForest, SummaryRow

    rows = (StudyRow("Huge 2000", 800.0, 799.0, 801.0, 50.0),
            StudyRow("Nan 2001", float("nan"), float("nan"), float("nan"), 50.0))
    svg = render(forest_svg, ForestPlot("OR", (ForestGroup(rows),),
                                        total=PooledRow(float("nan"), 0.0, 1.0)))
    assert [t.text for t in texts(svg)].count("Not estimable") == 2  # study + total
    find(svg, "1.01e+304 [1.01e+304, 1.01e+304]")  # exp saturates at exp(700)
    assert len(marks(svg, "ci-arrow")) == 1  # wholly off the scale, to the right
    assert not by_class(svg, "pooled-diamond")
    loo = SummaryForest("RR", (SummaryRow("A", float("inf"), 0.0, 1.0),
                               SummaryRow("B", 0.1, -0.1, 0.3)), mode="leave_one_out")
    svg = render(leave_one_out_svg, loo)
    find(svg, "Not estimable")
    assert len(marks(svg, "summary-point")) == 1


def test_from_meta_reads_the_pooling_engines_meta_result(bcg: dict) -> None:
    """Contract with registry.pooling: field names of MetaResult map onto the RevMan lines.

    The engine is run on the reference file's yi/vi; expected texts are metafor's numbers
    (models.DL / DL+HKSJ / FE / MH in bcg_RR.json) in RevMan's format.
    """
    from registry.pooling import rma, rma_mh
    from reports.figures.common import effect_test_text, heterogeneity_text

    yi, vi = bcg["effect_sizes"]["yi"], bcg["effect_sizes"]["vi"]
    dl = PooledRow.from_meta(rma(yi, vi, method="DL"), show_pi=True)
    assert heterogeneity_text(dl.heterogeneity) == (
        "Heterogeneity: Tau\u00b2 = 0.31; Chi\u00b2 = 152.23, df = 12 (P < 0.00001); "
        "I\u00b2 = 92%")
    assert effect_test_text(dl.test) == "Test for overall effect: Z = 4.00 (P < 0.0001)"
    assert dl.pi_lb == pytest.approx(bcg["models"]["DL"]["pi_lb"], rel=1e-6)
    hk = PooledRow.from_meta(rma(yi, vi, method="DL", hksj=True))
    assert effect_test_text(hk.test) == "Test for overall effect: t = 3.95, df = 12 (P = 0.002)"
    fe = PooledRow.from_meta(rma(yi, vi, method="FE"))
    assert fe.heterogeneity.tau2 is None
    inp = bcg["input"]
    mh = PooledRow.from_meta(rma_mh(inp["events1"], inp["n1"], inp["events2"], inp["n2"], "RR"),
                             show_pi=True)
    # models.MH: Q = 152.5676 (Cochran Q of the MH fit); no tau2, no prediction interval
    assert mh.heterogeneity.tau2 is None and mh.pi_lb is None
    assert mh.estimate == pytest.approx(bcg["models"]["MH"]["estimate"], rel=1e-6)
