"""Figures of the evidence-summary report, as inline SVG strings.

Every function takes a frozen dataclass of **already computed** numbers (pooling engine,
curation layer, store) and only draws. Output is an ``<svg>`` element string ready to inline
into HTML: real ``<text>`` (``svg.fonttype = 'none'``: searchable, selectable, read by screen
readers), ``<title>``/``<desc>``, ``role="img"`` and ``aria-label`` on the root, no external
resources, no XML declaration/DOCTYPE/metadata, ids prefixed per figure, and byte-identical
output for identical input. Record text (study labels, reasons, sources) is XML-escaped.

Scales: effects of ratio measures (RR, OR, HR, PETO, ROM, IRR) are passed **on the log scale**
(as the pooling engine and metafor return them); the figures exponentiate them for labels and
draw a log axis around 1. Other measures (MD, SMD, RD, GEN) are drawn on a linear axis
around 0. ``None`` is drawn as missing ("Not estimable", "n = not reported"), never as 0.

Public API
==========

``forest_svg(plot: ForestPlot) -> str``
    RevMan-style forest plot. Build it from:

    - ``StudyRow(label, estimate, ci_lb, ci_ub, weight_percent=None, experimental=Arm(...),
      control=Arm(...))`` -- ``Arm(n, mean=None, sd=None, events=None)``.
    - ``ForestGroup(studies=(StudyRow, ...), title=None | "subgroup name",
      subtotal=PooledRow | None)`` -- one untitled group for a plain plot, several titled
      groups (each with a subtotal diamond) for a subgroup analysis.
    - ``PooledRow(estimate, ci_lb, ci_ub, label=None, pi_lb=None, pi_ub=None,
      weight_percent=None, k=None, n_experimental=None, n_control=None,
      events_experimental=None, events_control=None, heterogeneity=Heterogeneity(q, df,
      q_pval, i2, tau2=None), test=EffectTest(stat, pval, test="z"|"t", df=None))``.
      ``PooledRow.from_meta(meta_result, show_pi=..., **overrides)`` reads a pooling
      ``MetaResult`` (or a metafor-style dict) by field name; pass ``show_pi=True`` when the
      preset reports a prediction interval (cochrane2025).
    - ``ForestPlot(measure, groups, kind="continuous"|"dichotomous"|"generic",
      direction="lower_is_better"|"higher_is_better", total=PooledRow | None,
      subgroup_test=SubgroupTest(q, df, pval, i2) | None, method_label="IV, Random, 95% CI",
      effect_label=None, experimental_label="Experimental", control_label="Control",
      favours=None | (left_text, right_text), title="Forest plot", description=None,
      decimals=2, xlim=None)``.

    "Favours experimental" goes left of the null line when lower values are better (the
    effect is experimental minus/over control), right when higher is better; ``favours``
    overrides both texts. Text lines: "Heterogeneity: Tau² = 0.31; Chi² = 152.23, df = 12
    (P < 0.00001); I² = 92%", "Test for overall effect: Z = 4.00 (P < 0.0001)" (t with df for
    HKSJ), "Test for subgroup differences: Chi² = 1.54, df = 2 (P = 0.46), I² = 0%".

``cumulative_forest_svg(plot: SummaryForest) -> str`` / ``leave_one_out_svg(plot) -> str``
    ``SummaryForest(measure, rows=(SummaryRow(label, estimate, ci_lb, ci_ub, year=None, k=None,
    tau2=None, i2=None, pval=None), ...), mode="cumulative"|"leave_one_out",
    overall=PooledRow | None, direction=..., method_label=..., title=...)``. Cumulative rows
    read "Aronson 1948", "+ Ferguson & Simes 1949", ... (study added, year); leave-one-out
    rows read "Omitting Aronson 1948". ``overall`` adds the all-studies diamond and a dashed
    reference line.

``funnel_svg(plot: FunnelPlot) -> str``
    ``FunnelPlot(measure, yi, sei, estimate, labels=(), filled_yi=(), filled_sei=(),
    adjusted_estimate=None, egger=EggerTest(stat, pval, df=None, intercept=None) | None,
    title="Funnel plot")``: effect against SE (inverted axis), the pseudo 95% CI triangle
    around ``estimate``, trim-and-fill studies hollow, Egger's test as text.

``rob_traffic_light_svg(table: RobTable) -> str`` / ``rob_summary_svg(table, weights=None)``
    ``RobTable(tool="RoB1"|"RoB2", rows=(RobRow(study, judgements={domain_id: judgement},
    overall=None), ...), domains=(), show_overall=True, title="Risk of bias")``. Judgements:
    ``low``, ``unclear`` (RoB 1) / ``some_concerns`` (RoB 2), ``high``, ``no_information``
    (or ``None``/missing). RoB 1 domain ids as in FORMATS.md (``random_sequence`` ...);
    RoB 2 ids ``randomisation, deviations, missing_data, measurement, selection`` or
    ``D1``-``D5``. robvis colours: low #02C100 "+", unclear/some concerns #E2DF07 "?",
    high #BF0000 "−", no information #4EA1F7 "NI". ``weights`` maps study -> weight
    (e.g. meta-analysis weight); ``None`` gives unweighted percentages.

``prisma_svg(flow: PrismaFlow) -> str``
    PRISMA 2020 flow diagram for updated reviews; see ``PrismaFlow`` for the counts
    (previous studies/reports, records identified per source, removed before screening,
    screened/excluded, sought/not retrieved, assessed/excluded with (reason, n) pairs, new
    and total included; optional "other methods" column). Boxes carry ``data-box`` names.

Hooks for CSS and tests: drawn elements carry classes -- ``study-square``, ``summary-point``,
``pooled-diamond``, ``ci-line``, ``ci-arrow``, ``prediction-interval``, ``null-line``,
``reference-line``, ``favours-left``/``favours-right``, ``funnel-study``, ``funnel-filled``,
``funnel-region``, ``egger``, ``rob-dot rob-<judgement>``, ``rob-bar rob-<judgement>``; table
text sits in ``<g class="figure-text">`` (written straight into the SVG for speed; axes,
markers and ticks are matplotlib's). PRISMA boxes are ``<g data-box="screened">`` etc.
Development preview: ``python tests/figures/svg_preview.py DIR`` writes PNGs of every kind.

Formatters shared with tables: ``fmt_p``, ``fmt_num``, ``fmt_effect``, ``heterogeneity_text``,
``effect_test_text``, ``subgroup_test_text``, ``egger_text``.
"""

from schemas.values import is_ratio  # public here too: ratio measures get a log axis

from .common import (
    effect_test_text,
    fmt_effect,
    fmt_num,
    fmt_p,
    heterogeneity_text,
    subgroup_test_text,
)
from .forest import cumulative_forest_svg, forest_svg, leave_one_out_svg, summary_forest_svg
from .funnel import egger_text, funnel_svg
from .model import (
    Arm,
    EffectTest,
    EggerTest,
    ForestGroup,
    ForestPlot,
    FunnelPlot,
    Heterogeneity,
    PooledRow,
    PrismaFlow,
    RobRow,
    RobTable,
    StudyRow,
    SubgroupTest,
    SummaryForest,
    SummaryRow,
)
from .prisma import prisma_svg
from .rob import ROB1_DOMAINS, ROB2_DOMAINS, rob_summary_svg, rob_traffic_light_svg

__all__ = [
    "ROB1_DOMAINS",
    "ROB2_DOMAINS",
    "Arm",
    "EffectTest",
    "EggerTest",
    "ForestGroup",
    "ForestPlot",
    "FunnelPlot",
    "Heterogeneity",
    "PooledRow",
    "PrismaFlow",
    "RobRow",
    "RobTable",
    "StudyRow",
    "SubgroupTest",
    "SummaryForest",
    "SummaryRow",
    "cumulative_forest_svg",
    "effect_test_text",
    "egger_text",
    "fmt_effect",
    "fmt_num",
    "fmt_p",
    "forest_svg",
    "funnel_svg",
    "heterogeneity_text",
    "is_ratio",
    "leave_one_out_svg",
    "prisma_svg",
    "rob_summary_svg",
    "rob_traffic_light_svg",
    "subgroup_test_text",
    "summary_forest_svg",
]
