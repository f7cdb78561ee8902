"""Funnel plot, risk-of-bias figures and the PRISMA flow diagram."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from figure_inputs import (
    FILLED_YI,
    SVG,
    bcg_funnel,
    by_class,
    marks,
    parse,
    render,
    small_prisma,
    small_rob,
    texts,
)

from reports.figures import (
    FunnelPlot,
    RobRow,
    RobTable,
    funnel_svg,
    prisma_svg,
    rob_summary_svg,
    rob_traffic_light_svg,
)

# ---------------------------------------------------------------------------- funnel


def test_funnel_points_triangle_and_egger(bcg: dict) -> None:
    svg = render(funnel_svg, bcg_funnel(bcg))
    (filled,) = by_class(svg, "funnel-filled")
    assert len(marks(svg, "funnel-study")) == 13
    assert len(marks(svg, "funnel-filled")) == len(FILLED_YI)
    # hollow: filled points are drawn white with a coloured edge
    assert "fill: #ffffff" in "".join(el.get("style") or "" for el in filled.iter())
    assert len(by_class(svg, "funnel-region")) == 1
    # egger_lm: stat -1.401282, pval 0.188707, dfs 11 (sign kept)
    egger = [t.text for t in texts(svg) if t.cls == "egger"]
    assert egger == ["Egger's test: t = -1.40, df = 11 (P = 0.19)"]
    assert "Risk Ratio (log scale)" in [t.text for t in texts(svg)]


def test_funnel_se_axis_is_inverted_and_x_log(bcg: dict) -> None:
    svg = render(funnel_svg, bcg_funnel(bcg))
    ts = texts(svg)
    ytick = {t.text: t.y for t in ts if t.anchor == "end" and t.text.startswith("0.")}
    assert ytick["0.0"] < ytick["0.5"], "SE 0 (precise studies) at the top"
    xtick = {t.text: t.x for t in ts if t.anchor == "middle" and t.text in {"0.2", "1", "2"}}
    # log axis: 0.2 -> 1 spans log(5), 1 -> 2 spans log(2)
    ratio = (xtick["1"] - xtick["0.2"]) / (xtick["2"] - xtick["1"])
    assert ratio == pytest.approx(math.log(5) / math.log(2), rel=1e-3)


def test_funnel_without_filled_points_or_egger_and_bad_lengths() -> None:
    plot = FunnelPlot("MD", (1.0, 2.0, 0.5), (0.5, 1.0, 0.3), 1.0)
    svg = render(funnel_svg, plot)
    assert not by_class(svg, "funnel-filled")
    assert not [t for t in texts(svg) if t.cls == "egger"]
    assert "Mean Difference" in [t.text for t in texts(svg)]
    with pytest.raises(ValueError, match="3 effects but 2 SEs"):
        funnel_svg(replace(plot, sei=(0.5, 1.0)))


# ---------------------------------------------------------------------------- RoB


def _dots(svg: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for el in parse(svg).iter():
        cls = el.get("class") or ""
        if cls.startswith("rob-dot "):
            judgement = cls.split()[1].removeprefix("rob-")
            out[judgement] = out.get(judgement, 0) + len(marks(svg, cls))
    return out


def test_traffic_light_rob1() -> None:
    table = small_rob("RoB1")
    svg = render(rob_traffic_light_svg, table)
    values = [t.text for t in texts(svg)]
    for h in ("D1", "D7", "Overall", "Smith 2020", "Jones 2021", "Lee 2022",
              "D1: Random sequence generation (selection bias)",
              "D3: Blinding of participants and personnel (performance bias)",
              "Low", "Unclear", "High", "No information"):
        assert h in values, h
    # 3 studies x (7 domains + overall); Lee 2022 has 4 domains without a judgement
    assert _dots(svg) == {"low": 7 + 1 + 3, "high": 1 + 1, "unclear": 6 + 1,
                          "no_information": 4}
    # robvis colours on the dots
    styles = {cls: next(el for el in parse(svg).iter() if el.get("class") == f"rob-dot rob-{cls}")
              for cls in ("low", "unclear", "high", "no_information")}
    for cls, colour in (("low", "#02c100"), ("unclear", "#e2df07"), ("high", "#bf0000"),
                        ("no_information", "#4ea1f7")):
        assert f"fill: {colour}" in "".join(el.get("style") or "" for el in styles[cls].iter())
    assert values.count("+") >= 11 and values.count("\u2212") >= 2 and values.count("?") >= 7


def test_traffic_light_rob2_names_and_bad_judgement() -> None:
    svg = render(rob_traffic_light_svg, small_rob("RoB2"))
    values = [t.text for t in texts(svg)]
    assert "D1: Bias arising from the randomisation process" in values
    assert "D5: Bias in selection of the reported result" in values
    assert "Some concerns" in values and "Unclear" not in values
    # judgements keyed "D1".."D5" land in the RoB 2 columns (small_rob: Smith low,
    # some concerns, high, low, low, overall high; Jones all low)
    assert _dots(svg) == {"low": 3 + 6, "some_concerns": 1, "high": 2}
    named = RobTable("RoB2", (RobRow("Kim 2019", {"randomisation": "high",
                                                  "Missing_Data": "low"}, "high"),))
    assert _dots(rob_traffic_light_svg(named)) == {"high": 2, "low": 1, "no_information": 3}
    with pytest.raises(ValueError, match="'Kim 2019'.*unknown RoB2 domain.*blinding"):
        rob_traffic_light_svg(RobTable("RoB2", (RobRow("Kim 2019", {"blinding": "low"}),)))
    bad = RobTable("RoB1", (RobRow("X 2000", {"random_sequence": "maybe"}),))
    with pytest.raises(ValueError, match="'X 2000'.*'random_sequence'.*'maybe'"):
        rob_traffic_light_svg(bad)


def test_summary_bars_unweighted_and_weighted() -> None:
    table = small_rob("RoB1")
    # D1 (random sequence): Smith low, Jones high, Lee low -> unweighted 67% low, 33% high
    svg = render(rob_summary_svg, table, None)
    bar_texts = [t.text for t in texts(svg)]
    assert "Random sequence generation (selection bias)" in bar_texts
    assert "Overall risk of bias" in bar_texts
    assert "67%" in bar_texts and "33%" in bar_texts
    assert "Percentage of studies, unweighted (each study counts once)" in bar_texts
    # weights 1:2:1 -> D1 low (1+1)/4 = 50%, high 2/4 = 50%
    w = {"Smith 2020": 1.0, "Jones 2021": 2.0, "Lee 2022": 1.0}
    svg_w = render(rob_summary_svg, table, w)
    assert [t.text for t in texts(svg_w)].count("50%") >= 2
    assert "Percentage of studies, weighted by study weight" in [t.text for t in texts(svg_w)]
    # one bar per domain + overall, each stacked from the judgements present
    bars = [el.get("class") for el in parse(svg).iter()
            if (el.get("class") or "").startswith("rob-bar")]
    # 8 bars (7 domains + overall); judgements: D1 low+high, D2/D3 low+unclear, D4-D7
    # low+unclear+no information, overall low+high+unclear -> 2+2+2+3*4+3 segments
    assert len(bars) == 21 and bars.count("rob-bar rob-no_information") == 4
    with pytest.raises(ValueError, match="no weight for Lee 2022"):
        rob_summary_svg(table, {"Smith 2020": 1.0, "Jones 2021": 1.0})


# ---------------------------------------------------------------------------- PRISMA


def _boxes(svg: str) -> dict[str, str]:
    return {g.get("data-box"): " ".join(" ".join(g.itertext()).split())
            for g in parse(svg).iter(f"{SVG}g") if g.get("data-box")}


def test_prisma_numbers_in_the_right_boxes() -> None:
    svg = render(prisma_svg, small_prisma())
    b = _boxes(svg)
    assert "Studies included in previous version of review (n = 11)" in b["previous"]
    assert "Reports of studies included in previous version of review (n = 12)" in b["previous"]
    assert "Lu et al. 2023" in b["previous"]
    assert "PubMed (n = 120)" in b["identified"] and "Embase (n = 85)" in b["identified"]
    assert "CENTRAL (n = not reported)" in b["identified"]
    assert "Duplicate records removed (n = 40)" in b["removed"]
    assert "automation tools (n = 0)" in b["removed"]
    assert "other reasons (n = 2)" in b["removed"]
    assert b["screened"] == "Records screened (n = 163)"
    assert b["screened_excluded"] == "Records excluded (n = 150)"
    assert b["sought"] == "Reports sought for retrieval (n = 13)"
    assert b["not_retrieved"] == "Reports not retrieved (n = 1)"
    assert b["assessed"] == "Reports assessed for eligibility (n = 12)"
    assert "Not a randomised controlled trial (n = 6)" in b["excluded_reasons"]
    assert "Intervention is not MSC therapy (n = 3)" in b["excluded_reasons"]
    assert "New studies included in review (n = 2)" in b["new_included"]
    assert "Reports of new included studies (n = 3)" in b["new_included"]
    assert "Total studies included in review (n = 13)" in b["total_included"]
    assert "Reports of total included studies (n = 15)" in b["total_included"]
    for phase in ("Identification", "Screening", "Included"):
        assert b[f"phase_{phase}"] == phase
    assert "other_identified" not in b


def test_prisma_layout_flows_downwards_with_arrows() -> None:
    svg = render(prisma_svg, small_prisma())
    root = parse(svg)
    ys = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("data-box"):
            rect = g.find(f"{SVG}rect")
            ys[g.get("data-box")] = (float(rect.get("x")), float(rect.get("y")),
                                     float(rect.get("height")))
    chain = ["identified", "screened", "sought", "assessed", "new_included", "total_included"]
    for a, b in zip(chain, chain[1:], strict=False):
        assert ys[a][1] + ys[a][2] < ys[b][1], (a, b)
        assert ys[a][0] == ys[b][0]
    for main, side in (("screened", "screened_excluded"), ("assessed", "excluded_reasons")):
        assert ys[side][0] > ys[main][0] and ys[side][1] == ys[main][1]
    assert ys["previous"][0] < ys["identified"][0]
    arrows = [p for p in root.iter(f"{SVG}path") if p.get("marker-end")]
    assert len(arrows) == 5 + 4 + 1  # down chain, right to exclusions, previous -> total


def test_prisma_wraps_long_text_and_other_methods_column() -> None:
    long = "Duplicate publication of an included trial reported with another title " * 2
    flow = small_prisma(excluded_reasons=((long.strip(), 1),),
                        other_identified=(("Citation searching", 4),), other_sought=4,
                        other_not_retrieved=0, other_assessed=4,
                        other_excluded_reasons=(("Not RCT", 3),))
    svg = render(prisma_svg, flow)
    root = parse(svg)
    box = next(g for g in root.iter(f"{SVG}g") if g.get("data-box") == "excluded_reasons")
    assert len(box.findall(f".//{SVG}tspan")) >= 4, "long reason wrapped over lines"
    b = _boxes(svg)
    assert "Citation searching (n = 4)" in b["other_identified"]
    assert b["other_sought"] == "Reports sought for retrieval (n = 4)"
    assert "Not RCT (n = 3)" in b["other_excluded_reasons"]
    assert "via other methods" in b["header_other"]
    assert all("(n =" not in t.text or t.text.count("(") == t.text.count(")")
               for t in texts(svg)), "a count never breaks across lines"


def test_prisma_without_previous_review() -> None:
    svg = render(prisma_svg, small_prisma(previous_studies=None, previous_reports=None))
    assert "previous" not in _boxes(svg)
