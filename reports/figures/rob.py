"""Risk-of-bias figures in robvis style: traffic-light table and summary bars."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from matplotlib.collections import LineCollection

from .common import (
    FONT_SIZE,
    ROB_COLOURS,
    SMALL_FONT,
    Label,
    figure_context,
    figure_key,
    figure_to_svg,
    gid,
    inch_canvas,
    new_figure,
    text_width,
)
from .model import RobTable

# Cochrane RoB 1 domains (Higgins et al. 2011, BMJ 343:d5928), ids as in FORMATS.md.
ROB1_DOMAINS = {
    "random_sequence": "Random sequence generation (selection bias)",
    "allocation_concealment": "Allocation concealment (selection bias)",
    "blinding_participants": "Blinding of participants and personnel (performance bias)",
    "blinding_outcome": "Blinding of outcome assessment (detection bias)",
    "incomplete_outcome": "Incomplete outcome data (attrition bias)",
    "selective_reporting": "Selective reporting (reporting bias)",
    "other_bias": "Other bias",
}
# RoB 2 domains (Sterne et al. 2019, BMJ 366:l4898); D1-D5 are accepted as ids too.
ROB2_DOMAINS = {
    "randomisation": "Bias arising from the randomisation process",
    "deviations": "Bias due to deviations from intended interventions",
    "missing_data": "Bias due to missing outcome data",
    "measurement": "Bias in measurement of the outcome",
    "selection": "Bias in selection of the reported result",
}
_ROB2_ALIASES = dict(zip(("D1", "D2", "D3", "D4", "D5"), ROB2_DOMAINS, strict=True))

SYMBOLS = {"low": "+", "some_concerns": "?", "unclear": "?", "high": "\u2212",
           "no_information": "NI"}
_TEXT_ON = {"high": "white"}  # white on dark red; black elsewhere (WCAG contrast)
_ALIASES = {
    "low": "low", "low risk": "low", "+": "low",
    "some_concerns": "some_concerns", "some concerns": "some_concerns",
    "unclear": "unclear", "unclear risk": "unclear", "?": "unclear",
    "high": "high", "high risk": "high", "-": "high",
    "no_information": "no_information", "no information": "no_information",
    "ni": "no_information", "": "no_information",
}
OVERALL = "overall"


def normalise_judgement(value: str | None, study: str, domain: str) -> str:
    """Map a curator's judgement to low/some_concerns/unclear/high/no_information."""
    if value is None:
        return "no_information"
    key = str(value).strip().lower().replace("-", " ").replace("_", " ")
    key = key if key in _ALIASES else key.replace(" ", "_")
    if key not in _ALIASES:
        raise ValueError(f"risk of bias: study {study!r}, domain {domain!r}: unknown "
                         f"judgement {value!r} (use low, some_concerns/unclear, high)")
    return _ALIASES[key]


def judgement_label(j: str, tool: str) -> str:
    """Legend text of a judgement for the tool ("Unclear" in RoB 1, "Some concerns" in 2)."""
    if j in ("some_concerns", "unclear"):
        return "Unclear" if tool == "RoB1" else "Some concerns"
    return {"low": "Low", "high": "High", "no_information": "No information"}[j]


def _domains(table: RobTable) -> list[tuple[str, str]]:
    """(id, full name) of the columns, in order; Overall excluded."""
    standard = ROB1_DOMAINS if table.tool == "RoB1" else ROB2_DOMAINS
    ids = list(table.domains) or list(standard)
    out = []
    for d in ids:
        if d.lower() == OVERALL:
            continue
        canon = _ROB2_ALIASES.get(d, d) if table.tool == "RoB2" else d
        out.append((d, standard.get(canon, d.replace("_", " ").capitalize())))
    return out


def _matrix(table: RobTable) -> tuple[list[tuple[str, str]], list[list[str]], list[str] | None]:
    domains = _domains(table)
    cells = []
    overall: list[str] | None = [] if table.show_overall else None
    standard = list(ROB1_DOMAINS if table.tool == "RoB1" else ROB2_DOMAINS)
    for row in table.rows:
        judg = {str(k).strip().lower(): v for k, v in row.judgements.items()}
        known = {OVERALL}
        values = []
        for j, (d, _) in enumerate(domains):
            # a domain may be keyed by its id, its position ("D1") or the standard id
            keys = [d.lower(), f"d{j + 1}"]
            if d in _ROB2_ALIASES and table.tool == "RoB2":
                keys.append(_ROB2_ALIASES[d])
            if d in standard:
                keys.append(f"d{standard.index(d) + 1}")
            known.update(keys)
            hit = next((judg[k] for k in keys if k in judg), None)
            values.append(normalise_judgement(hit, row.study, d))
        unknown = sorted(set(judg) - known)
        if unknown:
            raise ValueError(f"risk of bias: study {row.study!r}: unknown {table.tool} "
                             f"domain(s) {', '.join(unknown)}")
        cells.append(values)
        if overall is not None:
            value = row.overall if row.overall is not None else judg.get(OVERALL)
            overall.append(normalise_judgement(value, row.study, OVERALL))
    return domains, cells, overall


def _legend_items(tool: str, used: set[str]) -> list[str]:
    middle = "unclear" if tool == "RoB1" else "some_concerns"
    items = ["low", middle, "high"]
    if "no_information" in used:
        items.append("no_information")
    return items


def rob_traffic_light_svg(table: RobTable) -> str:
    """Traffic-light table: one row per study, one coloured dot per domain (+ Overall)."""
    key = figure_key("rob-traffic", table)
    with figure_context(key):
        return _traffic(table, key)


_COL_W, _ROW_H, _MARGIN = 0.42, 0.3, 0.1  # traffic-light grid, inches


@dataclass
class _Traffic:
    """Geometry of the traffic-light plot and the text collected while drawing it."""

    domains: list[tuple[str, str]]
    cells: list[list[str]]
    overall: list[str] | None
    label_w: float
    legend_lines: list[str]
    width: float
    height: float
    labels: list[Label] = field(default_factory=list)

    @property
    def n_cols(self) -> int:
        return len(self.domains) + (1 if self.overall is not None else 0)

    @property
    def x0(self) -> float:
        return _MARGIN + self.label_w

    @property
    def y0(self) -> float:
        return _MARGIN + 2 * _ROW_H

    def put(self, x: float, y: float, s: str, align: str = "left", size: float = FONT_SIZE,
            bold: bool = False, colour: str | None = None) -> None:
        self.labels.append(Label(x, y, s, align, size, bold, colour=colour))


def _traffic_frame(table: RobTable) -> _Traffic:
    domains, cells, overall = _matrix(table)
    n_cols = len(domains) + (1 if overall is not None else 0)
    label_w = max([text_width(r.study) for r in table.rows] + [text_width("Study", bold=True)]
                  ) + 0.2
    legend_lines = [f"D{i + 1}: {name}" for i, (_, name) in enumerate(domains)]
    legend_w = max([text_width(t, SMALL_FONT) for t in legend_lines], default=0.0)
    grid_w = label_w + n_cols * _COL_W
    width = max(grid_w, legend_w + 0.2, 4.2) + 2 * _MARGIN
    legend_h = (len(legend_lines) + 2.2) * 0.17 + 0.1
    height = _MARGIN + 2 * _ROW_H + len(table.rows) * _ROW_H + 0.15 + legend_h + _MARGIN
    return _Traffic(domains, cells, overall, label_w, legend_lines, width, height)


def _traffic(table: RobTable, key: str) -> str:
    tr = _traffic_frame(table)
    fig = new_figure(tr.width, tr.height)
    ax = inch_canvas(fig)
    _traffic_header(ax, tr, len(table.rows))
    used = _traffic_dots(ax, tr, table)
    _traffic_legend(ax, tr, table.tool, used, len(table.rows))
    desc = table.description or _traffic_desc(table, tr.domains, tr.cells, tr.overall)
    return figure_to_svg(fig, key, table.title, desc, tr.labels)


def _traffic_header(ax, tr: _Traffic, n_rows: int) -> None:
    """Column headers and the light grid (as in robvis)."""
    x0, y0 = tr.x0, tr.y0
    headers = [f"D{i + 1}" for i in range(len(tr.domains))] + (["Overall"] if tr.overall
                                                               else [])
    tr.put(x0 + len(tr.domains) * _COL_W / 2, _MARGIN + 0.5 * _ROW_H, "Risk of bias domains",
           "center", bold=True)
    tr.put(_MARGIN, _MARGIN + 1.5 * _ROW_H, "Study", bold=True)
    for j, h in enumerate(headers):
        tr.put(x0 + (j + 0.5) * _COL_W, _MARGIN + 1.5 * _ROW_H, h, "center",
               FONT_SIZE if h != "Overall" else SMALL_FONT, bold=True)
    grid_h = n_rows * _ROW_H
    grid = [[(x0, y0 + i * _ROW_H), (x0 + tr.n_cols * _COL_W, y0 + i * _ROW_H)]
            for i in range(n_rows + 1)]
    grid += [[(x0 + j * _COL_W, y0), (x0 + j * _COL_W, y0 + grid_h)]
             for j in range(tr.n_cols + 1)]
    ax.add_collection(LineCollection(grid, colors="#BBBBBB", linewidths=0.5))


def _traffic_dots(ax, tr: _Traffic, table: RobTable) -> set[str]:
    """One coloured dot with its symbol per study and domain; the judgements used."""
    used: set[str] = set()
    dots: dict[str, tuple[list[float], list[float]]] = {}
    for i, row in enumerate(table.rows):
        y = tr.y0 + (i + 0.5) * _ROW_H
        tr.put(_MARGIN, y, row.study)
        values = tr.cells[i] + ([tr.overall[i]] if tr.overall is not None else [])
        for j, judg in enumerate(values):
            used.add(judg)
            x = tr.x0 + (j + 0.5) * _COL_W
            xs, ys = dots.setdefault(judg, ([], []))
            xs.append(x)
            ys.append(y)
            sym = SYMBOLS[judg]
            tr.put(x, y, sym, "center", FONT_SIZE + (2 if len(sym) == 1 else -1.5), bold=True,
                   colour=_TEXT_ON.get(judg))
    for judg in ("low", "some_concerns", "unclear", "high", "no_information"):
        if judg in dots:  # one collection per judgement, in a fixed order
            ax.scatter(*dots[judg], s=(0.24 * 72) ** 2, color=ROB_COLOURS[judg],
                       linewidths=0.5, edgecolors="#333333", zorder=3,
                       gid=gid(f"rob-dot rob-{judg}"))
    return used


def _traffic_legend(ax, tr: _Traffic, tool: str, used: set[str], n_rows: int) -> None:
    """Domain names, then the judgements used with their symbols."""
    y = tr.y0 + n_rows * _ROW_H + 0.15 + 0.17 * 0.6
    for line in tr.legend_lines:
        tr.put(_MARGIN, y, line, size=SMALL_FONT)
        y += 0.17
    y += 0.17 * 0.6
    x = _MARGIN
    tr.put(x, y, "Judgement:", size=SMALL_FONT, bold=True)
    x += text_width("Judgement:", SMALL_FONT, bold=True) + 0.12
    for j in _legend_items(tool, used):
        ax.scatter([x + 0.07], [y], s=(0.15 * 72) ** 2, color=ROB_COLOURS[j], linewidths=0.5,
                   edgecolors="#333333", zorder=3)
        tr.put(x + 0.07, y, SYMBOLS[j], "center",
               SMALL_FONT - (1.5 if len(SYMBOLS[j]) > 1 else 0), bold=True,
               colour=_TEXT_ON.get(j))
        label = judgement_label(j, tool)
        tr.put(x + 0.2, y, label, size=SMALL_FONT)
        x += 0.2 + text_width(label, SMALL_FONT) + 0.2


def _traffic_desc(table: RobTable, domains: list[tuple[str, str]], cells: list[list[str]],
                  overall: list[str] | None) -> str:
    parts = [f"{table.tool} risk-of-bias judgements of {len(table.rows)} studies."]
    for i, row in enumerate(table.rows):
        items = [f"D{j + 1} {judgement_label(c, table.tool).lower()}"
                 for j, c in enumerate(cells[i])]
        if overall is not None:
            items.append(f"overall {judgement_label(overall[i], table.tool).lower()}")
        parts.append(f"{row.study}: {', '.join(items)}.")
    return " ".join(parts)


def rob_summary_svg(table: RobTable, weights: Mapping[str, float] | None = None) -> str:
    """Summary bars: per domain, the (weighted) percentage of studies in each judgement.

    ``weights`` maps study label -> weight (e.g. meta-analysis weight or sample size);
    ``None`` counts each study once. Every study needs a weight when weights are given.
    """
    domains, cells, overall = _matrix(table)
    if weights is not None:
        missing = [r.study for r in table.rows if r.study not in weights]
        if missing:
            raise ValueError(f"risk-of-bias summary: no weight for {', '.join(missing)}")
        w = [float(weights[r.study]) for r in table.rows]
    else:
        w = [1.0] * len(table.rows)
    total = sum(w)
    if not table.rows or total <= 0:
        raise ValueError("risk-of-bias summary: no studies (or all weights are zero)")
    bars: list[tuple[str, dict[str, float]]] = []
    columns = [[cells[i][j] for i in range(len(cells))] for j in range(len(domains))]
    names = [name for _, name in domains]
    if overall is not None:
        columns.append(overall)
        names.append("Overall risk of bias")
    for name, col in zip(names, columns, strict=True):
        shares: dict[str, float] = {}
        for judg, wi in zip(col, w, strict=True):
            shares[judg] = shares.get(judg, 0.0) + 100.0 * wi / total
        bars.append((name, shares))
    key = figure_key("rob-summary", (table, None if weights is None else sorted(weights.items())))
    with figure_context(key):
        return _summary(table, bars, weights is not None, key)


def _summary(table: RobTable, bars: list[tuple[str, dict[str, float]]], weighted: bool,
             key: str) -> str:
    middle = "unclear" if table.tool == "RoB1" else "some_concerns"
    order = ["low", middle, "high", "no_information"]
    used = {j for _, s in bars for j in s}
    if "unclear" in used and "some_concerns" in used:
        order.insert(2, "some_concerns" if middle == "unclear" else "unclear")
    label_w = max(text_width(n) for n, _ in bars) + 0.15
    bar_w, bar_h, row_h, margin = 3.4, 0.2, 0.3, 0.1
    width = margin + label_w + bar_w + 0.3
    height = margin + len(bars) * row_h + 0.9
    fig = new_figure(width, height)
    canvas = inch_canvas(fig)
    x0 = margin + label_w
    ax = fig.add_axes((x0 / width, 1 - (margin + len(bars) * row_h) / height, bar_w / width,
                       len(bars) * row_h / height))
    ax.set_xlim(0, 100)
    ax.set_ylim(len(bars), 0)
    ax.set_yticks([])
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"],
                  fontsize=SMALL_FONT)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    for i, (name, shares) in enumerate(bars):
        canvas.text(x0 - 0.08, margin + (i + 0.5) * row_h, name, ha="right", va="center",
                    fontsize=FONT_SIZE, fontweight="bold" if name.startswith("Overall") else
                    "normal", parse_math=False)
        left = 0.0
        for j in order:
            share = shares.get(j, 0.0)
            if share <= 0:
                continue
            ax.barh([i + 0.5], [share], left=left, height=bar_h / row_h,
                    color=ROB_COLOURS[j], edgecolor="#333333", linewidth=0.4,
                    gid=gid(f"rob-bar rob-{j}", f"{i}"))
            if share >= 9:
                ax.text(left + share / 2, i + 0.5, f"{share:.0f}%", ha="center", va="center",
                        fontsize=SMALL_FONT, color=_TEXT_ON.get(j, "black"))
            left += share
    y = margin + len(bars) * row_h + 0.45
    x = x0
    for j in [j for j in order if j in used or j in ("low", middle, "high")]:
        canvas.scatter([x + 0.06], [y], s=(0.12 * 72) ** 2, marker="s", color=ROB_COLOURS[j],
                       edgecolors="#333333", linewidths=0.4)
        label = judgement_label(j, table.tool) if j != "some_concerns" or table.tool == "RoB2" \
            else "Some concerns"
        canvas.text(x + 0.17, y, label, ha="left", va="center", fontsize=SMALL_FONT)
        x += 0.17 + text_width(label, SMALL_FONT) + 0.25
    basis = "weighted by study weight" if weighted else "unweighted (each study counts once)"
    canvas.text(x0, y + 0.22, f"Percentage of studies, {basis}", ha="left", va="center",
                fontsize=SMALL_FONT, style="italic")
    desc = table.description or (
        f"{table.tool} risk-of-bias summary, {basis}. " + " ".join(
            f"{name}: " + ", ".join(f"{judgement_label(j, table.tool).lower()} {s:.0f}%"
                                    for j, s in shares.items() if s > 0) + "."
            for name, shares in bars))
    return figure_to_svg(fig, key, table.title, desc)
