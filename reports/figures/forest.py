"""RevMan-style forest plots (plain, subgroups, cumulative, leave-one-out) as SVG strings.

Layout: one invisible "canvas" axes covering the figure holds the table text, in inches with
y growing downwards; the plot column is a second axes sharing the same y coordinates, so a
row's text and its square/diamond line up exactly. Nothing is computed here except display
transforms (exp of log ratios, marker sizes, axis limits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

from matplotlib.collections import LineCollection
from matplotlib.patches import Polygon
from matplotlib.ticker import FixedLocator, NullLocator

from schemas.values import is_ratio

from .common import (
    DIAMOND_COLOUR,
    FONT_SIZE,
    SMALL_FONT,
    SQUARE_COLOUR,
    Label,
    effect_test_text,
    figure_context,
    figure_key,
    figure_to_svg,
    fmt_effect,
    fmt_i2,
    fmt_num,
    fmt_tau2,
    fmt_value,
    fmt_weight,
    gid,
    heterogeneity_text,
    inch_canvas,
    new_figure,
    safe_exp,
    subgroup_test_text,
    text_width,
)
from .model import (
    EFFECT_NAMES,
    Direction,
    ForestPlot,
    PooledRow,
    StudyRow,
    SummaryForest,
    SummaryRow,
)

ROW_H = 0.19  # inches per table row (8 pt text + leading)
MARGIN = 0.08
RIGHT_MARGIN = 0.25  # half of the widest end tick label ("1000") sticks out of the axis
PAD = 0.13  # horizontal padding between columns
MAX_SQUARE_PT = 10.0  # side of the heaviest study's square, in points
MIN_SQUARE_PT = 2.5  # below this a square would vanish; clamped (noted in the docs)

Align = Literal["left", "right", "center"]


@dataclass
class _Col:
    key: str
    header: str
    align: Align = "right"
    group: str | None = None
    min_width: float = 0.0
    width: float = 0.0


@dataclass
class _Row:
    cells: dict[str, str] = field(default_factory=dict)
    bold: bool = False
    span: str | None = None  # free text from the first column, across the table
    graphic: tuple | None = None


@dataclass
class _Table:
    cols: list[_Col]
    body: list[_Row]
    footer: list[_Row]  # below the plot axes (overall heterogeneity lines)
    ratio: bool
    effect_header: tuple[str, str]
    favours: tuple[str, str]
    xlim: tuple[float, float] | None
    ref_line: float | None = None  # dashed line at the overall estimate (analysis scale)


def _favours(direction: Direction, favours: tuple[str, str] | None) -> tuple[str, str]:
    """(left, right) labels; left of the null the experimental arm has the lower value."""
    if favours is not None:
        return favours
    if direction not in ("lower_is_better", "higher_is_better"):
        raise ValueError(f"forest plot: direction must be lower_is_better or "
                         f"higher_is_better, not {direction!r}")
    if direction == "higher_is_better":
        return ("Favours control", "Favours experimental")
    return ("Favours experimental", "Favours control")


# ---------------------------------------------------------------------------- rows


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _study_row(s: StudyRow, kind: str, ratio: bool, decimals: int) -> _Row:
    if not _finite(s.estimate, s.ci_lb, s.ci_ub):  # NaN from upstream = not estimable
        s = StudyRow(s.label, None, None, None, s.weight_percent, s.experimental, s.control)
    cells = {"study": s.label, "weight": fmt_weight(s.weight_percent),
             "effect": fmt_effect(s.estimate, s.ci_lb, s.ci_ub, ratio, decimals)}
    for prefix, arm in (("e", s.experimental), ("c", s.control)):
        if arm is None:
            continue
        if kind == "continuous":
            cells[f"{prefix}_mean"] = fmt_value(arm.mean)
            cells[f"{prefix}_sd"] = fmt_value(arm.sd)
        else:
            cells[f"{prefix}_events"] = fmt_value(arm.events)
        cells[f"{prefix}_n"] = fmt_value(arm.n)
    graphic = None
    if s.estimate is not None and s.ci_lb is not None and s.ci_ub is not None:
        graphic = ("square", s.estimate, s.ci_lb, s.ci_ub, s.weight_percent)
    return _Row(cells=cells, graphic=graphic)


def _pooled_rows(p: PooledRow, default_label: str, kind: str, ratio: bool,
                 decimals: int) -> tuple[list[_Row], list[_Row]]:
    """(rows drawn inside the plot, text lines) of one subtotal/total."""
    cells = {"study": p.label or default_label, "weight": fmt_weight(p.weight_percent),
             "effect": fmt_effect(p.estimate, p.ci_lb, p.ci_ub, ratio, decimals),
             "e_n": fmt_value(p.n_experimental), "c_n": fmt_value(p.n_control)}
    ok = _finite(p.estimate, p.ci_lb, p.ci_ub)
    rows = [_Row(cells=cells, bold=True,
                 graphic=("diamond", p.estimate, p.ci_lb, p.ci_ub) if ok else None)]
    if kind == "dichotomous" and (p.events_experimental is not None
                                  or p.events_control is not None):
        rows.append(_Row(cells={"study": "Total events",
                                "e_events": fmt_value(p.events_experimental),
                                "c_events": fmt_value(p.events_control)}))
    if ok and _finite(p.pi_lb, p.pi_ub):
        lo, hi = (safe_exp(v) for v in (p.pi_lb, p.pi_ub)) if ratio else (p.pi_lb, p.pi_ub)
        rows.append(_Row(cells={"study": "95% prediction interval",
                                "effect": f"[{fmt_num(lo, decimals)}, {fmt_num(hi, decimals)}]"},
                         graphic=("pi", p.pi_lb, p.pi_ub)))
    lines = [heterogeneity_text(p.heterogeneity, p.k), effect_test_text(p.test)]
    text = [_Row(span=t) for t in lines if t]
    return rows, text


def _effect_name(measure: str, effect_label: str | None) -> str:
    return effect_label or EFFECT_NAMES.get(measure.upper(), measure)


def _forest_table(plot: ForestPlot) -> _Table:
    ratio = is_ratio(plot.measure)
    kind = plot.kind
    cols = [_Col("study", "Study or Subgroup", "left", min_width=1.4)]
    arm_keys = {"continuous": [("mean", "Mean"), ("sd", "SD"), ("n", "Total")],
                "dichotomous": [("events", "Events"), ("n", "Total")],
                "generic": []}[kind]
    for prefix, label in (("e", plot.experimental_label), ("c", plot.control_label)):
        cols += [_Col(f"{prefix}_{k}", h, "right", group=label, min_width=0.3)
                 for k, h in arm_keys]
    all_studies = [s for g in plot.groups for s in g.studies]
    if any(s.weight_percent is not None for s in all_studies):
        cols.append(_Col("weight", "Weight", "right", min_width=0.45))
    cols.append(_Col("effect", plot.method_label, "center", group=None, min_width=1.2))

    body: list[_Row] = []
    footer: list[_Row] = []
    n_groups = len(plot.groups)
    for gi, g in enumerate(plot.groups):
        if g.title:
            body.append(_Row(span=g.title, bold=True))
        body += [_study_row(s, kind, ratio, plot.decimals) for s in g.studies]
        if g.subtotal is not None:
            rows, text = _pooled_rows(g.subtotal, "Subtotal (95% CI)", kind, ratio,
                                      plot.decimals)
            body += rows + text
        if g.title and (gi < n_groups - 1 or plot.total is not None):
            body.append(_Row())
    if plot.total is not None:
        rows, text = _pooled_rows(plot.total, "Total (95% CI)", kind, ratio, plot.decimals)
        body += rows
        footer += text
    if plot.subgroup_test is not None:
        footer.append(_Row(span=subgroup_test_text(plot.subgroup_test)))
    name = _effect_name(plot.measure, plot.effect_label)
    return _Table(cols, body, footer, ratio, (name, plot.method_label),
                  _favours(plot.direction, plot.favours), plot.xlim)


def _summary_table(plot: SummaryForest) -> _Table:
    ratio = is_ratio(plot.measure)
    cumulative = plot.mode == "cumulative"
    first = "Study added" if cumulative else "Study omitted"
    cols = [_Col("study", first, "left", min_width=1.6)]
    rows = plot.rows
    if any(r.k is not None for r in rows):
        cols.append(_Col("k", "Studies", "right", min_width=0.45))
    if any(r.tau2 is not None for r in rows):
        cols.append(_Col("tau2", "Tau\u00b2", "right", min_width=0.45))
    if any(r.i2 is not None for r in rows):
        cols.append(_Col("i2", "I\u00b2", "right", min_width=0.4))
    cols.append(_Col("effect", plot.method_label, "center", min_width=1.2))

    body: list[_Row] = []
    for i, r in enumerate(rows):
        ok = _finite(r.estimate, r.ci_lb, r.ci_ub)
        body.append(_Row(cells=_summary_cells(r, i, cumulative, ratio, plot.decimals),
                         graphic=("point", r.estimate, r.ci_lb, r.ci_ub) if ok else None))
    footer: list[_Row] = []
    ref = None
    if plot.overall is not None:
        body.append(_Row())
        prow, text = _pooled_rows(plot.overall, "All studies (95% CI)", "generic", ratio,
                                  plot.decimals)
        if plot.overall.k is not None and any(c.key == "k" for c in cols):
            prow[0].cells["k"] = str(plot.overall.k)
        body += prow
        footer += text
        ref = plot.overall.estimate
    name = _effect_name(plot.measure, plot.effect_label)
    return _Table(cols, body, footer, ratio, (name, plot.method_label),
                  _favours(plot.direction, plot.favours), plot.xlim, ref_line=ref)


def _summary_cells(r: SummaryRow, i: int, cumulative: bool, ratio: bool,
                   decimals: int) -> dict[str, str]:
    name = r.label if r.year is None else f"{r.label} {r.year}"
    if cumulative:
        label = name if i == 0 else f"+ {name}"
    else:
        label = f"Omitting {name}"
    return {
        "study": label,
        "k": "" if r.k is None else str(r.k),
        "tau2": "" if r.tau2 is None else fmt_tau2(r.tau2),
        "i2": "" if r.i2 is None else f"{fmt_i2(r.i2)}%",
        "effect": fmt_effect(r.estimate, r.ci_lb, r.ci_ub, ratio, decimals),
    }


# ---------------------------------------------------------------------------- axis


def _nice_up(m: float) -> float:
    """Smallest 1/2/5 x 10^k that is >= m."""
    if m <= 0 or not math.isfinite(m):
        return 1.0
    e = math.floor(math.log10(m))
    for f in (1, 2, 5, 10):
        if f * 10**e >= m * (1 - 1e-12):
            return f * 10**e
    return 10 ** (e + 1)


_LOG_TICKS = {
    2: (0.5, 0.7, 1, 1.5, 2),
    5: (0.2, 0.5, 1, 2, 5),
    10: (0.1, 0.2, 0.5, 1, 2, 5, 10),
    20: (0.05, 0.2, 1, 5, 20),
    50: (0.02, 0.1, 1, 10, 50),
    100: (0.01, 0.1, 1, 10, 100),
    1000: (0.001, 0.01, 0.1, 1, 10, 100, 1000),
}


def _axis(table: _Table) -> tuple[tuple[float, float], list[float]]:
    """Display-scale x limits (symmetric around the null, as RevMan) and tick positions."""
    ests: list[float] = []
    cis: list[float] = []
    for row in table.body:
        g = row.graphic
        if g is None:
            continue
        if g[0] == "pi":
            cis += [g[1], g[2]]
        else:
            ests.append(g[1])
            (ests if g[0] == "diamond" else cis).extend([g[2], g[3]])
    finite_e = [abs(v) for v in ests if v is not None and math.isfinite(v)]
    finite_c = [abs(v) for v in cis if v is not None and math.isfinite(v)]
    m_est = max(finite_e, default=0.0)
    m_ci = max(finite_c, default=0.0)
    if table.xlim is not None:
        lo, hi = table.xlim
        if table.ratio:
            ticks = [t for t in sorted({*_LOG_TICKS[100], *_LOG_TICKS[10]}) if lo <= t <= hi]
        else:
            step = _nice_up((hi - lo) / 4)
            ticks = [step * i for i in range(math.ceil(lo / step), math.floor(hi / step) + 1)]
        return (lo, hi), ticks
    if table.ratio:
        # contain every estimate; contain CIs up to 0.01-100, clip wider ones with arrows
        need = max(m_est, min(m_ci, math.log(100)))
        for lim in (2, 5, 10, 20, 50, 100, 1000):
            if math.log(lim) >= need * (1 - 1e-9):
                break
        return (1 / lim, float(lim)), list(_LOG_TICKS[lim])
    cap = 3 * m_est if m_est > 0 else m_ci
    lim = _nice_up(max(m_est, min(m_ci, cap)))
    return (-lim, lim), [-lim, -lim / 2, 0.0, lim / 2, lim]


def _tick_label(v: float) -> str:
    s = f"{v:g}"
    return "0" if float(s) == 0 else s


# ---------------------------------------------------------------------------- drawing


def _layout(table: _Table) -> tuple[float, float]:
    """Fix column widths; return (width of the table left of the plot, plot width)."""
    for c in table.cols:
        texts = [c.header] + [r.cells.get(c.key, "") for r in table.body + table.footer]
        bold_texts = [r.cells.get(c.key, "") for r in table.body if r.bold]
        w = max([text_width(t) for t in texts] + [text_width(t, bold=True) for t in bold_texts])
        c.width = max(c.min_width, w + PAD)
    # group headers (Experimental / Control) must fit over their columns
    groups: dict[str, list[_Col]] = {}
    for c in table.cols:
        if c.group:
            groups.setdefault(c.group, []).append(c)
    for label, cs in groups.items():
        need = text_width(label, bold=True) + PAD
        have = sum(c.width for c in cs)
        if need > have:
            for c in cs:
                c.width += (need - have) / len(cs)
    eff = next(c for c in table.cols if c.key == "effect")
    eff.width = max(eff.width, text_width(table.effect_header[0], bold=True) + PAD)
    # span lines (subgroup titles, heterogeneity) run from the first column to the plot
    left = sum(c.width for c in table.cols)
    span_w = max([text_width(r.span or "", bold=r.bold) for r in table.body + table.footer],
                 default=0.0) + 2 * PAD
    if span_w > left:
        table.cols[0].width += span_w - left
        left = span_w
    fav = max(text_width(f, SMALL_FONT) for f in table.favours)
    plot_w = max(2.2, 2 * fav + 0.35, text_width(table.effect_header[1], bold=True) + PAD)
    return left, plot_w


@dataclass
class _Frame:
    """Where everything goes, in inches from the top-left corner; collects the text."""

    table: _Table
    left: float  # width of the table left of the plot
    plot_w: float
    width: float
    height: float
    y_top: float  # top of the first body row
    y_bottom: float  # bottom of the plot area
    xs: dict[str, tuple[float, float]]  # column key -> (x, width)
    labels: list[Label] = field(default_factory=list)

    @property
    def x_plot(self) -> float:
        return MARGIN + self.left

    def put(self, x: float, y: float, s: str, align: Align = "left", bold: bool = False,
            size: float = FONT_SIZE, cls: str | None = None) -> None:
        if s:
            self.labels.append(Label(x, y, s, align, size, bold, cls=cls))

    def anchor(self, c: _Col) -> float:
        x0, w = self.xs[c.key]
        if c.align == "left":
            return x0
        if c.align == "right":
            return x0 + w - PAD / 2
        return x0 + w / 2

    def row_y(self, i: int) -> float:
        return self.y_top + (i + 0.5) * ROW_H


def _frame(table: _Table) -> _Frame:
    """Figure size, plot position and column x positions."""
    left, plot_w = _layout(table)
    y_top = MARGIN + 2 * ROW_H + 0.06
    y_bottom = y_top + len(table.body) * ROW_H + 0.05
    footer_h = max(len(table.footer) * ROW_H, 2.4 * ROW_H) + 0.1
    xs: dict[str, tuple[float, float]] = {}
    x = MARGIN
    for c in table.cols:
        xs[c.key] = (x, c.width)
        x += c.width
    return _Frame(table, left, plot_w, width=MARGIN + left + plot_w + RIGHT_MARGIN,
                  height=y_bottom + footer_h + MARGIN, y_top=y_top, y_bottom=y_bottom, xs=xs)


def _render(table: _Table, key: str, title: str, desc: str) -> str:
    fr = _frame(table)
    fig = new_figure(fr.width, fr.height)
    canvas = inch_canvas(fig)
    _header(fr, canvas)
    for i, row in enumerate(table.body):
        _row_text(fr, row, fr.row_y(i))
    for i, row in enumerate(table.footer):
        _row_text(fr, row, fr.y_bottom + (i + 0.5) * ROW_H)
    ax, (xmin, xmax) = _plot_axes(fig, fr)
    _reference_lines(ax, fr)
    _draw_marks(ax, fr, xmin, xmax)
    _favours_labels(fr, xmin, xmax)
    return figure_to_svg(fig, key, title, desc, fr.labels)


def _header(fr: _Frame, canvas) -> None:
    """Group labels / effect name on line 1, column names on line 2, and the rules."""
    table = fr.table
    rules: list[list[tuple[float, float]]] = []
    y1, y2 = MARGIN + 0.5 * ROW_H, MARGIN + 1.5 * ROW_H
    seen: set[str] = set()
    for c in table.cols:
        if c.group and c.group not in seen:
            seen.add(c.group)
            members = [d for d in table.cols if d.group == c.group]
            x0 = fr.xs[members[0].key][0]
            x1 = fr.xs[members[-1].key][0] + fr.xs[members[-1].key][1]
            fr.put((x0 + x1) / 2, y1, c.group, "center", bold=True)
            rules.append([(x0 + 0.04, y1 + 0.45 * ROW_H), (x1 - 0.04, y1 + 0.45 * ROW_H)])
        fr.put(fr.anchor(c), y2, c.header, c.align, bold=True)
    eff = next(c for c in table.cols if c.key == "effect")
    mid = fr.x_plot + fr.plot_w / 2
    fr.put(fr.anchor(eff), y1, table.effect_header[0], "center", bold=True)
    fr.put(mid, y1, table.effect_header[0], "center", bold=True)
    fr.put(mid, y2, table.effect_header[1], "center", bold=True)
    rules.append([(MARGIN, fr.y_top - 0.03), (fr.width - MARGIN, fr.y_top - 0.03)])
    canvas.add_collection(LineCollection(rules, colors="black", linewidths=[0.5] * (
        len(rules) - 1) + [0.8]))


def _row_text(fr: _Frame, row: _Row, y: float) -> None:
    if row.span is not None:
        fr.put(MARGIN, y, row.span, "left", bold=row.bold)
    for c in fr.table.cols:
        fr.put(fr.anchor(c), y, row.cells.get(c.key, ""), c.align, bold=row.bold)


def _plot_axes(fig, fr: _Frame) -> tuple[object, tuple[float, float]]:
    """The plot column: an axes sharing the table's y coordinates; its x limits."""
    table = fr.table
    (xmin, xmax), ticks = _axis(table)
    ax = fig.add_axes((fr.x_plot / fr.width, 1 - fr.y_bottom / fr.height,
                       fr.plot_w / fr.width, (fr.y_bottom - fr.y_top) / fr.height))
    ax.patch.set_visible(False)
    ax.set_ylim(fr.y_bottom, fr.y_top)
    if table.ratio:
        ax.set_xscale("log")
    ax.set_xlim(xmin, xmax)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_linewidth(0.8)
    ax.yaxis.set_major_locator(NullLocator())
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(ticks, [_tick_label(t) for t in ticks], fontsize=SMALL_FONT)
    ax.tick_params(axis="x", length=3, width=0.8, pad=2)
    return ax, (xmin, xmax)


def _tx(table: _Table, v: float) -> float:
    """Analysis scale -> display scale (exp of log ratios)."""
    return safe_exp(v) if table.ratio else v


def _reference_lines(ax, fr: _Frame) -> None:
    """The null line and, in summary plots, the dashed line at the overall estimate."""
    table = fr.table
    null = 1.0 if table.ratio else 0.0
    ax.plot([null, null], [fr.y_bottom, fr.y_top], color="black", lw=0.8, zorder=1,
            gid=gid("null-line"))
    if table.ref_line is not None:
        ax.plot([_tx(table, table.ref_line)] * 2, [fr.y_bottom, fr.y_top], color="#555555",
                lw=0.7, ls=(0, (3, 2)), zorder=1, gid=gid("reference-line"))


@dataclass
class _Marks:
    """Study marks batched by kind: one collection per kind keeps 500-study plots fast."""

    squares: tuple[list[float], list[float], list[float]] = field(
        default_factory=lambda: ([], [], []))  # x, y, marker area
    points: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    segments: list[list[tuple[float, float]]] = field(default_factory=list)
    arrows: dict[str, tuple[list[float], list[float]]] = field(
        default_factory=lambda: {"<": ([], []), ">": ([], [])})

    def interval(self, lo: float, hi: float, y: float, xmin: float, xmax: float) -> None:
        """A CI clipped to the axis, with an arrow head where it runs (or lies) off it."""
        a, b = max(lo, xmin), min(hi, xmax)
        if a <= b:
            self.segments.append([(a, y), (b, y)])
        if lo < xmin and hi >= xmin:
            self.arrow("<", xmin, y)
        if hi > xmax and lo <= xmax:
            self.arrow(">", xmax, y)
        if hi < xmin or lo > xmax:
            side = "<" if hi < xmin else ">"
            self.arrow(side, xmin if side == "<" else xmax, y)

    def arrow(self, side: str, x: float, y: float) -> None:
        self.arrows[side][0].append(x)
        self.arrows[side][1].append(y)


def _draw_marks(ax, fr: _Frame, xmin: float, xmax: float) -> None:
    """Squares, points, CI lines, diamonds and prediction intervals, in row order."""
    table = fr.table
    weights = [r.graphic[4] for r in table.body
               if r.graphic and r.graphic[0] == "square" and r.graphic[4] is not None]
    w_max = max(weights, default=0.0)
    marks = _Marks()
    for i, row in enumerate(table.body):
        g = row.graphic
        if g is None:
            continue
        y = fr.row_y(i)
        if g[0] in ("square", "point"):
            marks.interval(_tx(table, g[2]), _tx(table, g[3]), y, xmin, xmax)
            est = _tx(table, g[1])
            if not xmin <= est <= xmax:
                continue
            if g[0] == "square":
                w = g[4]
                side = (MAX_SQUARE_PT * math.sqrt(w / w_max)) if (w and w_max) else 4.0
                marks.squares[0].append(est)
                marks.squares[1].append(y)
                marks.squares[2].append(max(side, MIN_SQUARE_PT) ** 2)
            else:
                marks.points[0].append(est)
                marks.points[1].append(y)
        elif g[0] == "diamond":
            h = 0.34 * ROW_H
            lo, mid, hi = (_tx(table, g[j]) for j in (2, 1, 3))
            ax.add_patch(Polygon([(lo, y), (mid, y - h), (hi, y), (mid, y + h)], closed=True,
                                 facecolor=DIAMOND_COLOUR, edgecolor=DIAMOND_COLOUR, lw=0.5,
                                 zorder=3, gid=gid("pooled-diamond", i)))
        elif g[0] == "pi":
            _ci_line(ax, _tx(table, g[1]), _tx(table, g[2]), y, xmin, xmax, lw=2.2,
                     colour="#8B1A1A", caps=True, cls=f"prediction-interval--{i}")
    _flush_marks(ax, marks)


def _flush_marks(ax, marks: _Marks) -> None:
    """Add the batched marks to the axes (one artist per kind)."""
    if marks.segments:
        ax.add_collection(LineCollection(marks.segments, colors="black", linewidths=0.9,
                                         capstyle="butt", zorder=2, gid=gid("ci-line")))
    for marker, (axs, ays) in marks.arrows.items():
        if axs:
            ax.plot(axs, ays, ls="none", marker=marker, markersize=4, color="black",
                    zorder=2, clip_on=False, gid=gid("ci-arrow", marker == "<"))
    if marks.squares[0]:
        ax.scatter(marks.squares[0], marks.squares[1], s=marks.squares[2], marker="s",
                   color=SQUARE_COLOUR, linewidths=0, zorder=3, gid=gid("study-square"))
    if marks.points[0]:
        ax.scatter(marks.points[0], marks.points[1], s=22, marker="o", color=SQUARE_COLOUR,
                   linewidths=0, zorder=3, gid=gid("summary-point"))


def _favours_labels(fr: _Frame, xmin: float, xmax: float) -> None:
    """The favours texts under the tick labels, on either side of the null line."""
    table = fr.table
    null = 1.0 if table.ratio else 0.0
    frac = ((math.log(null) - math.log(xmin)) / (math.log(xmax) - math.log(xmin))
            if table.ratio else (null - xmin) / (xmax - xmin))
    x_null = fr.x_plot + frac * fr.plot_w
    y_fav = fr.y_bottom + 1.75 * ROW_H
    fr.put(x_null - 0.06, y_fav, table.favours[0], "right", size=SMALL_FONT,
           cls="favours-left")
    fr.put(x_null + 0.06, y_fav, table.favours[1], "left", size=SMALL_FONT,
           cls="favours-right")


def _ci_line(ax, lo: float, hi: float, y: float, xmin: float, xmax: float,
             lw: float = 0.9, colour: str = "black", caps: bool = False,
             cls: str = "ci-line--0") -> None:
    """A CI line clipped to the axis, with an arrow head where it runs off the scale."""
    a, b = max(lo, xmin), min(hi, xmax)
    if a > b:
        return
    ax.plot([a, b], [y, y], color=colour, lw=lw, solid_capstyle="butt", zorder=2,
            gid=f"c--{cls}")
    n = cls.split("--")[-1]
    if lo < xmin:
        ax.plot([xmin], [y], marker="<", markersize=4, color=colour, zorder=2, clip_on=False,
                gid=gid("ci-arrow", f"l{n}"))
    elif caps:
        ax.plot([a], [y], marker="|", markersize=6, color=colour, zorder=2)
    if hi > xmax:
        ax.plot([xmax], [y], marker=">", markersize=4, color=colour, zorder=2, clip_on=False,
                gid=gid("ci-arrow", f"r{n}"))
    elif caps:
        ax.plot([b], [y], marker="|", markersize=6, color=colour, zorder=2)


# ---------------------------------------------------------------------------- public


def _describe(table: _Table, what: str, n: int) -> str:
    lines = [f"{what} of {table.effect_header[0]} ({table.effect_header[1]}), {n} rows. "
             f"Left of the null line: {table.favours[0]}; right: {table.favours[1]}."]
    for row in table.body + table.footer:
        if row.span:
            lines.append(row.span)
        elif row.bold and row.cells.get("effect"):
            lines.append(f"{row.cells['study']}: {row.cells['effect']}")
    return " ".join(lines)


def forest_svg(plot: ForestPlot) -> str:
    """Draw a RevMan-style forest plot (optionally with subgroups) as an SVG string."""
    table = _forest_table(plot)
    key = figure_key("forest", plot)
    n = sum(len(g.studies) for g in plot.groups)
    desc = plot.description or _describe(table, "Forest plot", n)
    with figure_context(key):
        return _render(table, key, plot.title, desc)


def summary_forest_svg(plot: SummaryForest) -> str:
    """Draw a cumulative or leave-one-out forest plot as an SVG string."""
    table = _summary_table(plot)
    key = figure_key(plot.mode, plot)
    what = "Cumulative forest plot" if plot.mode == "cumulative" else "Leave-one-out plot"
    desc = plot.description or _describe(table, what, len(plot.rows))
    with figure_context(key):
        return _render(table, key, plot.title, desc)


def cumulative_forest_svg(plot: SummaryForest) -> str:
    """Cumulative forest plot: one row per step, labelled by the study added and its year."""
    if plot.mode != "cumulative":
        plot = _replace_mode(plot, "cumulative")
    return summary_forest_svg(plot)


def leave_one_out_svg(plot: SummaryForest) -> str:
    """Leave-one-out plot: one row per omitted study ("Omitting X")."""
    if plot.mode != "leave_one_out":
        plot = _replace_mode(plot, "leave_one_out")
    return summary_forest_svg(plot)


def _replace_mode(plot: SummaryForest, mode: str) -> SummaryForest:
    title = plot.title
    if mode == "leave_one_out" and title == "Cumulative forest plot":
        title = "Leave-one-out plot"
    return replace(plot, mode=mode, title=title)
