"""Funnel plot (effect against standard error) with the pseudo 95% confidence region."""

from __future__ import annotations

import math

from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.ticker import FixedLocator, NullLocator

from schemas.values import Z975, is_ratio

from .common import (
    FONT_SIZE,
    SMALL_FONT,
    SQUARE_COLOUR,
    figure_context,
    figure_key,
    figure_to_svg,
    fmt_num,
    fmt_p,
    gid,
    new_figure,
    safe_exp,
)
from .model import EFFECT_NAMES, FunnelPlot

# the pseudo 95% region is estimate +/- Z975 SE (Sterne & Egger 2001, BMJ)

_LOG_CANDIDATES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50,
                   100, 200, 500, 1000)


def egger_text(egger: object | None) -> str:
    """"Egger's test: t = -1.40, df = 11 (P = 0.19)" (the sign of t is kept: it says which
    side the small studies lean to)."""
    if egger is None:
        return ""
    df = "" if egger.df is None else f", df = {egger.df}"  # type: ignore[attr-defined]
    return f"Egger's test: t = {fmt_num(egger.stat, 2)}{df} (P {fmt_p(egger.pval)})"  # type: ignore[attr-defined]


def funnel_svg(plot: FunnelPlot) -> str:
    """Draw a funnel plot as an SVG string (SE axis inverted: precise studies on top)."""
    if len(plot.yi) != len(plot.sei):
        raise ValueError(f"funnel plot: {len(plot.yi)} effects but {len(plot.sei)} SEs")
    if len(plot.filled_yi) != len(plot.filled_sei):
        raise ValueError("funnel plot: filled_yi and filled_sei differ in length")
    ratio = is_ratio(plot.measure)
    name = plot.effect_label or EFFECT_NAMES.get(plot.measure.upper(), plot.measure)
    key = figure_key("funnel", plot)
    with figure_context(key):
        return _draw(plot, ratio, name, key)


def _draw(plot: FunnelPlot, ratio: bool, name: str, key: str) -> str:
    def tx(v: float) -> float:
        return safe_exp(v) if ratio else v

    all_se = [s for s in (*plot.sei, *plot.filled_sei) if math.isfinite(s)]
    se_max = max(all_se, default=1.0) * 1.08 or 1.0
    lo_tri = plot.estimate - Z975 * se_max
    hi_tri = plot.estimate + Z975 * se_max
    xs = [v for v in (*plot.yi, *plot.filled_yi, lo_tri, hi_tri) if math.isfinite(v)]
    span = max(xs) - min(xs)
    x_lo, x_hi = min(xs) - 0.04 * span, max(xs) + 0.04 * span

    fig = new_figure(5.2, 3.7)
    ax = fig.add_axes((0.13, 0.22, 0.82, 0.71))
    if ratio:
        ax.set_xscale("log")
    ax.set_xlim(tx(x_lo), tx(x_hi))
    ax.set_ylim(se_max, 0)  # inverted: SE 0 at the top
    handles = _funnel_marks(ax, plot, tx, se_max, (lo_tri, hi_tri))
    _funnel_axes(ax, ratio, name, tx(x_lo), tx(x_hi))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.13), ncol=3,
              fontsize=SMALL_FONT, frameon=False, handlelength=1.6, columnspacing=1.2)
    text = egger_text(plot.egger)
    if text:
        fig.text(0.95, 0.955, text, ha="right", va="center", fontsize=FONT_SIZE,
                 parse_math=False, gid=gid("egger"))
    desc = plot.description or (
        f"Funnel plot of {len(plot.yi)} studies: {name} against its standard error, "
        f"with the pseudo 95% confidence region around the pooled estimate "
        f"{fmt_num(tx(plot.estimate), 2)}."
        + (f" {len(plot.filled_yi)} studies imputed by trim and fill are drawn hollow."
           if plot.filled_yi else "")
        + (f" {text}." if text else "")
    )
    return figure_to_svg(fig, key, plot.title, desc)


def _funnel_marks(ax, plot: FunnelPlot, tx, se_max: float,
                  tri: tuple[float, float]) -> list:
    """The pseudo 95% region, pooled line, studies, filled studies; the legend handles."""
    lo_tri, hi_tri = tri
    region = Polygon([(tx(lo_tri), se_max), (tx(plot.estimate), 0), (tx(hi_tri), se_max)],
                     closed=True, facecolor="#EEEEEE", edgecolor="#777777", lw=0.8,
                     ls=(0, (4, 2)), zorder=0, gid=gid("funnel-region"))
    ax.add_patch(region)
    ax.plot([tx(plot.estimate)] * 2, [0, se_max], color="black", lw=0.9, zorder=1)
    handles = [Line2D([], [], marker="o", ls="none", color=SQUARE_COLOUR, label="Studies")]
    ax.scatter([tx(v) for v in plot.yi], list(plot.sei), s=22, color=SQUARE_COLOUR,
               linewidths=0, zorder=3, gid=gid("funnel-study"))
    if plot.filled_yi:
        ax.scatter([tx(v) for v in plot.filled_yi], list(plot.filled_sei), s=22,
                   facecolors="white", edgecolors=SQUARE_COLOUR, linewidths=1.0, zorder=3,
                   gid=gid("funnel-filled"))
        handles.append(Line2D([], [], marker="o", ls="none", markerfacecolor="white",
                              markeredgecolor=SQUARE_COLOUR, label="Filled (trim and fill)"))
    handles.append(Line2D([], [], color="black", lw=0.9, label="Pooled estimate"))
    if plot.adjusted_estimate is not None:
        ax.plot([tx(plot.adjusted_estimate)] * 2, [0, se_max], color="#8B1A1A", lw=0.9,
                ls=(0, (3, 2)), zorder=1)
        handles.append(Line2D([], [], color="#8B1A1A", lw=0.9, ls=(0, (3, 2)),
                              label="Adjusted (trim and fill)"))
    handles.append(Polygon([(0, 0)], facecolor="#EEEEEE", edgecolor="#777777",
                           ls=(0, (4, 2)), label="Pseudo 95% CI"))
    return handles


def _funnel_axes(ax, ratio: bool, name: str, lo: float, hi: float) -> None:
    """Ticks and axis labels (log ticks for ratio measures)."""
    if ratio:
        ticks = [t for t in _LOG_CANDIDATES if lo <= t <= hi]
        if len(ticks) > 7:
            ticks = [t for t in ticks if f"{t:g}"[0] in "15"]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlabel(f"{name} (log scale)", fontsize=FONT_SIZE)
        ax.set_ylabel(f"Standard error of log {name}", fontsize=FONT_SIZE)
    else:
        ax.set_xlabel(name, fontsize=FONT_SIZE)
        ax.set_ylabel("Standard error", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=SMALL_FONT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
