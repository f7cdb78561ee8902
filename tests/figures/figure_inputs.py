"""Helpers and inputs of the figure tests: BCG numbers from metafor's reference file.

The per-study 95% CIs are built as yi ± 1.959964·√vi (the Wald interval metafor's forest()
draws) -- input preparation, not a result under test. Every pooled number (estimates, CIs,
τ², Q, I², weights, tests, cumulative and leave-one-out fits, Egger) is metafor's, read
from ``reference/metafor/bcg_RR.json``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from reports.figures import (
    Arm,
    ForestGroup,
    ForestPlot,
    PooledRow,
    StudyRow,
    SubgroupTest,
)
from schemas.values import Z975

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Text:
    text: str
    x: float
    y: float
    anchor: str
    cls: str | None


def parse(svg: str) -> etree._Element:
    """Parse an SVG string strictly (fails on malformed XML)."""
    return etree.fromstring(svg.encode("utf-8"), etree.XMLParser(resolve_entities=False,
                                                                 no_network=True))


def texts(svg: str) -> list[Text]:
    """Every <text> (with tspans joined) and its anchor position."""
    out = []
    for t in parse(svg).iter(f"{SVG}text"):
        style = t.get("style") or ""
        anchor = "end" if "text-anchor: end" in style else (
            "middle" if "text-anchor: middle" in style else "start")
        parent = t.getparent()
        out.append(Text("".join(t.itertext()), float(t.get("x")), float(t.get("y")), anchor,
                        parent.get("class") if parent is not None else None))
    return out


def text_values(svg: str) -> list[str]:
    return [t.text for t in texts(svg)]


def by_class(svg: str, cls: str) -> list[etree._Element]:
    return [el for el in parse(svg).iter() if el.get("class") == cls]


def marks(svg: str, cls: str) -> list[etree._Element]:
    """The markers drawn by the collection(s) of class ``cls``: ``<use>`` of a defined
    marker, or an inline ``<path>`` (matplotlib picks whichever is shorter)."""
    out = []
    for g in by_class(svg, cls):
        for el in g.iter(f"{SVG}use", f"{SVG}path"):
            if el.getparent().tag != f"{SVG}defs":
                out.append(el)
    return out


def mark_width(svg: str, mark: etree._Element) -> float:
    """Width of a marker in SVG units (from its own path or the one it ``href``s)."""
    d = mark.get("d")
    if d is None:
        ref = mark.get("href")[1:]
        d = next(el.get("d") for el in parse(svg).iter() if el.get("id") == ref)
    xs = [float(v) for v in re.findall(r"(-?[\d.]+) -?[\d.]+", d)]
    return max(xs) - min(xs)


def load_bcg(shared: Path) -> dict:
    """bcg_RR.json plus study labels ("Author Year") from examples/bcg_colditz1994.csv."""
    ref = json.loads((shared / "reference" / "metafor" / "bcg_RR.json").read_text())
    with open(shared / "examples" / "bcg_colditz1994.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ref["labels"] = [f"{r['author']} {r['year']}" for r in rows]
    ref["authors"] = [r["author"] for r in rows]
    ref["years"] = [int(r["year"]) for r in rows]
    return ref


def bcg_studies(ref: dict, weights: list[float]) -> list[StudyRow]:
    yi, vi = ref["effect_sizes"]["yi"], ref["effect_sizes"]["vi"]
    inp = ref["input"]
    out = []
    for i, (y, v) in enumerate(zip(yi, vi, strict=True)):
        half = Z975 * math.sqrt(v)
        out.append(StudyRow(ref["labels"][i], y, y - half, y + half, weights[i],
                            Arm(n=inp["n1"][i], events=inp["events1"][i]),
                            Arm(n=inp["n2"][i], events=inp["events2"][i])))
    return out


def bcg_total(ref: dict, model: str = "DL", show_pi: bool = False, **kw) -> PooledRow:
    m = ref["models"][model]
    return PooledRow.from_meta(m, df=m["k"] - 1, show_pi=show_pi, weight_percent=100.0, **kw)


def bcg_forest(ref: dict, **kw) -> ForestPlot:
    studies = bcg_studies(ref, ref["models"]["DL"]["weights_percent"])
    args = dict(measure="RR", groups=(ForestGroup(tuple(studies)),), kind="dichotomous",
                total=bcg_total(ref), method_label="IV, Random, 95% CI", title="BCG: TB")
    args.update(kw)
    return ForestPlot(**args)


def bcg_subgroup_forest(ref: dict) -> ForestPlot:
    sg = ref["subgroups_DL"]
    all_rows = bcg_studies(ref, ref["models"]["DL"]["weights_percent"])
    groups = []
    for name, sub in sg["subgroups"].items():
        rows = tuple(StudyRow(all_rows[r - 1].label, all_rows[r - 1].estimate,
                              all_rows[r - 1].ci_lb, all_rows[r - 1].ci_ub,
                              sub["weights_percent"][j], all_rows[r - 1].experimental,
                              all_rows[r - 1].control)
                     for j, r in enumerate(sub["rows"]))
        groups.append(ForestGroup(rows, title=f"Allocation: {name}",
                                  subtotal=PooledRow.from_meta(sub, df=sub["k"] - 1)))
    t = sg["test_for_subgroup_differences"]
    return ForestPlot("RR", tuple(groups), kind="dichotomous", total=bcg_total(ref),
                      subgroup_test=SubgroupTest(t["Q"], t["df"], t["pval"], t["I2"]),
                      title="BCG by allocation")


_CACHE: dict[str, str] = {}


def render(fn, obj, *args) -> str:
    """Draw once per distinct input: keeps the suite fast (matplotlib work dominates)."""
    key = f"{fn.__name__}:{obj!r}:{args!r}"
    if key not in _CACHE:
        _CACHE[key] = fn(obj, *args)
    return _CACHE[key]


def bcg_cumulative(ref: dict):
    """metafor's cumul() of the DL model, by year (order and fits from the reference file)."""
    from reports.figures import SummaryForest, SummaryRow

    c = ref["cumulative_DL"]
    rows = tuple(SummaryRow(ref["authors"][o - 1], e, lo, hi, year=ref["years"][o - 1])
                 for o, e, lo, hi in zip(c["order"], c["estimate"], c["ci_lb"], c["ci_ub"],
                                         strict=True))
    return SummaryForest("RR", rows, mode="cumulative", overall=bcg_total(ref),
                         title="Cumulative meta-analysis by year")


def bcg_leave_one_out(ref: dict):
    """metafor's leave1out() of the DL model."""
    from reports.figures import SummaryForest, SummaryRow

    lo = ref["leave_one_out_DL"]
    rows = tuple(SummaryRow(ref["labels"][i], e, a, b, tau2=t2, i2=i2)
                 for i, (e, a, b, t2, i2) in enumerate(zip(lo["estimate"], lo["ci_lb"],
                                                           lo["ci_ub"], lo["tau2"], lo["I2"],
                                                           strict=True)))
    return SummaryForest("RR", rows, mode="leave_one_out", overall=bcg_total(ref),
                         title="Leave-one-out")


# Hand-made trim-and-fill points (the reference file gives k0 and the adjusted estimate only).
FILLED_YI = (0.1, 0.3, 0.5, 0.7)
FILLED_SEI = (0.15, 0.3, 0.45, 0.6)


def bcg_funnel(ref: dict):
    from reports.figures import EggerTest, FunnelPlot

    e = ref["egger_lm"]
    return FunnelPlot("RR", tuple(ref["effect_sizes"]["yi"]),
                      tuple(math.sqrt(v) for v in ref["effect_sizes"]["vi"]),
                      ref["models"]["FE"]["estimate"], labels=tuple(ref["labels"]),
                      filled_yi=FILLED_YI, filled_sei=FILLED_SEI,
                      adjusted_estimate=ref["trimfill_FE"]["estimate"],
                      egger=EggerTest(e["stat"], e["pval"], e["dfs"]))


def small_rob(tool: str = "RoB1", label: str = "Smith 2020"):
    from reports.figures import ROB1_DOMAINS, RobRow, RobTable

    if tool == "RoB1":
        doms = list(ROB1_DOMAINS)
        rows = (
            RobRow(label, dict.fromkeys(doms, "low"), overall="low"),
            RobRow("Jones 2021", {**dict.fromkeys(doms, "unclear"), "random_sequence": "high"},
                   overall="high"),
            RobRow("Lee 2022", {d: "low" for d in doms[:3]}, overall="unclear"),
        )
    else:
        rows = (
            RobRow(label, {"D1": "low", "D2": "some concerns", "D3": "high", "D4": "low",
                           "D5": "low"}, overall="high"),
            RobRow("Jones 2021", {"D1": "low", "D2": "low", "D3": "low", "D4": "low",
                                  "D5": "low"}, overall="low"),
        )
    return RobTable(tool, rows)


def small_prisma(**kw):
    from reports.figures import PrismaFlow

    args = dict(previous_studies=11, previous_reports=12,
                identified=(("PubMed", 120), ("Embase", 85), ("CENTRAL", None)),
                duplicates_removed=40, automation_removed=0, other_removed=2, screened=163,
                screened_excluded=150, sought=13, not_retrieved=1, assessed=12,
                excluded_reasons=(("Not a randomised controlled trial", 6),
                                  ("Intervention is not MSC therapy", 3)),
                new_studies=2, new_reports=3, total_studies=13, total_reports=15,
                previous_label="Lu et al. 2023")
    args.update(kw)
    return PrismaFlow(**args)


def all_figures(ref: dict, label: str = "Smith 2020") -> dict[str, str]:
    """One SVG of every kind; ``label`` is used as a study/reason label in each."""
    from dataclasses import replace

    from reports.figures import (
        cumulative_forest_svg,
        forest_svg,
        funnel_svg,
        leave_one_out_svg,
        prisma_svg,
        rob_summary_svg,
        rob_traffic_light_svg,
    )

    forest = bcg_forest(ref)
    g = forest.groups[0]
    forest = replace(forest, groups=(replace(g, studies=(replace(g.studies[0], label=label),
                                                         *g.studies[1:])),))
    cum = bcg_cumulative(ref)
    cum = replace(cum, rows=(replace(cum.rows[0], label=label), *cum.rows[1:]))
    loo = bcg_leave_one_out(ref)
    loo = replace(loo, rows=(replace(loo.rows[0], label=label), *loo.rows[1:]))
    rob = small_rob("RoB1", label)
    return {
        "forest": render(forest_svg, forest),
        "cumulative": render(cumulative_forest_svg, cum),
        "leave_one_out": render(leave_one_out_svg, loo),
        "funnel": render(funnel_svg, replace(bcg_funnel(ref), title=f"Funnel {label}")),
        "rob_traffic": render(rob_traffic_light_svg, rob),
        "rob_summary": render(rob_summary_svg, replace(rob, title=f"Risk of bias: {label}"), None),
        "prisma": render(prisma_svg, small_prisma(
            excluded_reasons=((label, 4),), identified=(("PubMed", 120),))),
    }
