"""PRISMA 2020 flow diagram for updated reviews, written directly as SVG.

Layout follows the PRISMA 2020 template "for updated systematic reviews which included
searches of databases and registers only" (Page et al. 2021, BMJ 372:n71, Fig. 1), with the
"other methods" column added when its counts are given. Each box is a ``<g>`` with a
``data-box`` attribute naming what it counts, so tests and readers can find numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .common import SVG_NS, add_accessibility, figure_key, text_width
from .model import PrismaFlow

FONT = 9.0  # user units are points: legible at print size
LINE = 11.5
PAD = 6.0
GAP = 26.0  # vertical gap between box rows (room for arrows)
COL_W = 190.0
COL_GAP = 34.0
SIDE_W = 24.0
MARGIN = 8.0
HEADER_COLOURS = {"previous": "#D9D9D9", "databases": "#FFC000", "other": "#D9D9D9"}
SIDE_COLOUR = "#9DC3E6"
FONT_FAMILY = "DejaVu Sans, Arial, Helvetica, sans-serif"


def n_text(n: int | None) -> str:
    """``(n = 12)``; a count nobody reported stays visibly missing."""
    return "(n = not reported)" if n is None else f"(n = {n})"


_TOKEN = re.compile(r"\(n = [^)]*\)|\S+")


@dataclass
class _Box:
    key: str
    lines: list[tuple[str, bool]]  # (text, indented)
    x: float
    y: float = 0.0
    w: float = COL_W
    h: float = 0.0
    wrapped: list[tuple[str, float]] | None = None  # (line, x offset)


def _wrap(text: str, width: float) -> list[str]:
    """Greedy word wrap measured with the same font metrics as the matplotlib figures."""
    words = _TOKEN.findall(text)  # "(n = 40)" never breaks across lines
    lines: list[str] = []
    cur = ""
    for w in words:
        cand = f"{cur} {w}" if cur else w
        if cur and text_width(cand, FONT) * 72 > width:
            lines.append(cur)
            cur = w
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines or [""]


def _layout_box(b: _Box) -> None:
    out: list[tuple[str, float]] = []
    for text, indent in b.lines:
        off = 10.0 if indent else 0.0
        if text == "":
            out.append(("", 0.0))
            continue
        for line in _wrap(text, b.w - 2 * PAD - off):
            out.append((line, off))
    b.wrapped = out
    b.h = len(out) * LINE + 2 * PAD


@dataclass(frozen=True)
class _Grid:
    """Column x positions of the diagram and which optional columns it has."""

    other: bool  # the "other methods" column pair
    has_previous: bool  # the "previous studies" column
    x_prev: float
    x_db: float
    x_ex: float
    x_oth: float
    x_oex: float
    width: float


def _grid(f: PrismaFlow) -> _Grid:
    other = bool(f.other_identified or f.other_sought is not None
                 or f.other_assessed is not None)
    has_previous = f.previous_studies is not None or f.previous_reports is not None
    x_prev = MARGIN + SIDE_W + 8
    x_db = x_prev + (COL_W + COL_GAP if has_previous else 0)
    x_ex = x_db + COL_W + COL_GAP
    x_oth = x_ex + COL_W + COL_GAP
    x_oex = x_oth + COL_W + COL_GAP
    width = (x_oex + COL_W if other else x_ex + COL_W) + MARGIN
    return _Grid(other, has_previous, x_prev, x_db, x_ex, x_oth, x_oex, width)


def prisma_svg(flow: PrismaFlow) -> str:
    """Draw the PRISMA 2020 flow diagram of an updated review as an SVG string."""
    key = figure_key("prisma", flow)
    grid = _grid(flow)
    rows = _box_rows(flow, grid)
    row_y, height = _place(rows)
    boxes = {b.key: b for row in rows for b in row}
    root, g_all = _svg_root(grid.width, height, key)
    _headers(g_all, grid)
    _phases(g_all, row_y)
    for b in boxes.values():
        _draw_box(g_all, b)
    _arrows(g_all, boxes, grid, key)
    desc = flow.description or _describe(boxes)
    add_accessibility(root, key=key, title=flow.title, desc=desc)
    return etree.tostring(root, encoding="unicode")


def _counted(title: str, n: int | None) -> list[tuple[str, bool]]:
    return [(title, False), (n_text(n), False)]


def _pair(first: str, n1: int | None, second: str, n2: int | None) -> list[tuple[str, bool]]:
    return [(f"{first} {n_text(n1)}", False), ("", False), (f"{second} {n_text(n2)}", False)]


def _listed(title: str, items: tuple[tuple[str, int | None], ...]) -> list[tuple[str, bool]]:
    return [(title, False)] + [(f"{src} {n_text(n)}", True) for src, n in items]


def _box_rows(f: PrismaFlow, grid: _Grid) -> list[list[_Box]]:
    """The boxes, row by row (identification, screening x 3, included x 2)."""
    identified = _listed("Records identified from:", f.identified)
    if not f.identified:
        identified.append(("no database searched yet", True))
    removed = [("Records removed before screening:", False),
               (f"Duplicate records removed {n_text(f.duplicates_removed)}", True),
               (f"Records marked as ineligible by automation tools "
                f"{n_text(f.automation_removed)}", True),
               (f"Records removed for other reasons {n_text(f.other_removed)}", True)]
    x_db, x_ex = grid.x_db, grid.x_ex
    rows: list[list[_Box]] = [
        [_Box("identified", identified, x_db), _Box("removed", removed, x_ex)],
        [_Box("screened", _counted("Records screened", f.screened), x_db),
         _Box("screened_excluded", _counted("Records excluded", f.screened_excluded), x_ex)],
        [_Box("sought", _counted("Reports sought for retrieval", f.sought), x_db),
         _Box("not_retrieved", _counted("Reports not retrieved", f.not_retrieved), x_ex)],
        [_Box("assessed", _counted("Reports assessed for eligibility", f.assessed), x_db),
         _Box("excluded_reasons", _listed("Reports excluded:", f.excluded_reasons), x_ex)],
        [_Box("new_included", _pair("New studies included in review", f.new_studies,
                                    "Reports of new included studies", f.new_reports), x_db)],
        [_Box("total_included", _pair("Total studies included in review", f.total_studies,
                                      "Reports of total included studies", f.total_reports),
              x_db)],
    ]
    if grid.has_previous:
        prev = _pair("Studies included in previous version of review", f.previous_studies,
                     "Reports of studies included in previous version of review",
                     f.previous_reports)
        if f.previous_label:
            prev = [(f"Previous review: {f.previous_label}", False), ("", False)] + prev
        rows[0].insert(0, _Box("previous", prev, grid.x_prev))
    if grid.other:
        x_oth, x_oex = grid.x_oth, grid.x_oex
        rows[0].append(_Box("other_identified",
                            _listed("Records identified from:", f.other_identified), x_oth))
        rows[2] += [_Box("other_sought", _counted("Reports sought for retrieval",
                                                  f.other_sought), x_oth),
                    _Box("other_not_retrieved", _counted("Reports not retrieved",
                                                         f.other_not_retrieved), x_oex)]
        rows[3] += [_Box("other_assessed", _counted("Reports assessed for eligibility",
                                                    f.other_assessed), x_oth),
                    _Box("other_excluded_reasons",
                         _listed("Reports excluded:", f.other_excluded_reasons), x_oex)]
    return rows


# boxes of one row drawn with the row's common height (the others keep their own)
_SAME_HEIGHT = frozenset({"screened", "screened_excluded", "sought", "not_retrieved",
                          "other_sought", "other_not_retrieved"})
HEADER_H = 2 * LINE + 2 * PAD


def _place(rows: list[list[_Box]]) -> tuple[list[tuple[float, float]], float]:
    """Wrap every box and stack the rows; (top, bottom) of each row and the total height."""
    y = MARGIN + HEADER_H + 14
    row_y: list[tuple[float, float]] = []
    for row in rows:
        for b in row:
            _layout_box(b)
        h = max(b.h for b in row)
        for b in row:
            b.y = y
            if b.key in _SAME_HEIGHT:
                b.h = h
        row_y.append((y, y + h))
        y += h + GAP
    return row_y, y - GAP + MARGIN


def _svg_root(width: float, height: float, key: str) -> tuple[etree._Element, etree._Element]:
    """The <svg> element with the arrow-head marker, and the group everything goes in."""
    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS})
    root.set("width", f"{width:.0f}pt")
    root.set("height", f"{height:.0f}pt")
    root.set("viewBox", f"0 0 {width:.1f} {height:.1f}")
    root.set("version", "1.1")
    defs = etree.SubElement(root, f"{{{SVG_NS}}}defs")
    marker = etree.SubElement(defs, f"{{{SVG_NS}}}marker", id=f"{key}-arrow",
                              viewBox="0 0 10 10", refX="10", refY="5", markerWidth="7",
                              markerHeight="7", orient="auto-start-reverse")
    etree.SubElement(marker, f"{{{SVG_NS}}}path", d="M 0 0 L 10 5 L 0 10 z", fill="#000000")
    g_all = etree.SubElement(root, f"{{{SVG_NS}}}g", attrib={
        "font-family": FONT_FAMILY, "font-size": f"{FONT:g}", "fill": "#000000"})
    return root, g_all


def _headers(g_all: etree._Element, grid: _Grid) -> None:
    """The coloured column headers."""
    def header(x: float, w: float, text: str, colour: str, name: str) -> None:
        g = etree.SubElement(g_all, f"{{{SVG_NS}}}g", attrib={"data-box": f"header_{name}"})
        etree.SubElement(g, f"{{{SVG_NS}}}rect", x=f"{x:.1f}", y=f"{MARGIN:.1f}",
                         width=f"{w:.1f}", height=f"{HEADER_H:.1f}", rx="6", fill=colour,
                         stroke="#000000", attrib={"stroke-width": "0.6"})
        lines = _wrap(text, w - 2 * PAD)
        y0 = MARGIN + HEADER_H / 2 - (len(lines) - 1) * LINE / 2 + FONT * 0.35
        _text(g, x + w / 2, y0, lines, anchor="middle", bold=True)

    if grid.has_previous:
        header(grid.x_prev, COL_W, "Previous studies", HEADER_COLOURS["previous"], "previous")
    header(grid.x_db, 2 * COL_W + COL_GAP,
           "Identification of new studies via databases and registers",
           HEADER_COLOURS["databases"], "databases")
    if grid.other:
        header(grid.x_oth, 2 * COL_W + COL_GAP,
               "Identification of new studies via other methods", HEADER_COLOURS["other"],
               "other")


def _phases(g_all: etree._Element, row_y: list[tuple[float, float]]) -> None:
    """The phase labels on the left (Identification, Screening, Included)."""
    phases = [("Identification", row_y[0][0], row_y[0][1]),
              ("Screening", row_y[1][0], row_y[3][1]),
              ("Included", row_y[4][0], row_y[5][1])]
    for name, top, bottom in phases:
        g = etree.SubElement(g_all, f"{{{SVG_NS}}}g", attrib={"data-box": f"phase_{name}"})
        etree.SubElement(g, f"{{{SVG_NS}}}rect", x=f"{MARGIN:.1f}", y=f"{top:.1f}",
                         width=f"{SIDE_W:.1f}", height=f"{bottom - top:.1f}", rx="4",
                         fill=SIDE_COLOUR, stroke="#000000", attrib={"stroke-width": "0.6"})
        cx, cy = MARGIN + SIDE_W / 2 + FONT * 0.35, (top + bottom) / 2
        t = etree.SubElement(g, f"{{{SVG_NS}}}text", x=f"{cx:.1f}", y=f"{cy:.1f}",
                             transform=f"rotate(-90 {cx:.1f} {cy:.1f})",
                             attrib={"text-anchor": "middle", "font-weight": "bold"})
        t.text = name


def _draw_box(g_all: etree._Element, b: _Box) -> None:
    g = etree.SubElement(g_all, f"{{{SVG_NS}}}g", attrib={"data-box": b.key})
    etree.SubElement(g, f"{{{SVG_NS}}}rect", x=f"{b.x:.1f}", y=f"{b.y:.1f}",
                     width=f"{b.w:.1f}", height=f"{b.h:.1f}", fill="#FFFFFF",
                     stroke="#000000", attrib={"stroke-width": "0.8"})
    if b.wrapped is None:
        raise ValueError(f"PRISMA box {b.key!r} drawn before its layout")
    y0 = b.y + PAD + FONT * 0.85
    t = etree.SubElement(g, f"{{{SVG_NS}}}text", x=f"{b.x + PAD:.1f}", y=f"{y0:.1f}")
    for i, (line, off) in enumerate(b.wrapped):
        ts = etree.SubElement(t, f"{{{SVG_NS}}}tspan", x=f"{b.x + PAD + off:.1f}",
                              y=f"{y0 + i * LINE:.1f}")
        ts.text = line if line else "\u00a0"


def _arrows(g_all: etree._Element, boxes: dict[str, _Box], grid: _Grid, key: str) -> None:
    """Arrows down each column, right to the exclusion boxes, and the elbows that join the
    other-methods and previous-studies columns to the included boxes."""
    def arrow(x1: float, y1: float, x2: float, y2: float) -> None:
        etree.SubElement(g_all, f"{{{SVG_NS}}}path", d=f"M {x1:.1f} {y1:.1f} L {x2:.1f} {y2:.1f}",
                         fill="none", stroke="#000000", attrib={
                             "stroke-width": "0.9", "marker-end": f"url(#{key}-arrow)"})

    def down(a: str, b: str) -> None:
        ba, bb = boxes[a], boxes[b]
        x = ba.x + ba.w / 2
        arrow(x, ba.y + ba.h, x, bb.y)

    def right(a: str, b: str) -> None:
        ba, bb = boxes[a], boxes[b]
        y = ba.y + min(ba.h, bb.h) / 2
        arrow(ba.x + ba.w, y, bb.x, y)

    def elbow(a: str, b: str, x_end: float) -> None:
        # down from the middle of box a, then across to x_end at the middle of box b
        ba, bb = boxes[a], boxes[b]
        x = ba.x + ba.w / 2
        y_mid = bb.y + bb.h / 2
        etree.SubElement(g_all, f"{{{SVG_NS}}}path",
                         d=f"M {x:.1f} {ba.y + ba.h:.1f} L {x:.1f} {y_mid:.1f}", fill="none",
                         stroke="#000000", attrib={"stroke-width": "0.9"})
        arrow(x, y_mid, x_end, y_mid)

    for a, b in (("identified", "screened"), ("screened", "sought"), ("sought", "assessed"),
                 ("assessed", "new_included"), ("new_included", "total_included")):
        down(a, b)
    for a, b in (("identified", "removed"), ("screened", "screened_excluded"),
                 ("sought", "not_retrieved"), ("assessed", "excluded_reasons")):
        right(a, b)
    if grid.other:
        down("other_identified", "other_sought")
        down("other_sought", "other_assessed")
        right("other_sought", "other_not_retrieved")
        right("other_assessed", "other_excluded_reasons")
        # other methods feed the new studies box: down from assessed, then left
        ni = boxes["new_included"]
        elbow("other_assessed", "new_included", ni.x + ni.w)
    if grid.has_previous:
        elbow("previous", "total_included", boxes["total_included"].x)


def _text(parent: etree._Element, x: float, y: float, lines: list[str], anchor: str = "start",
          bold: bool = False) -> None:
    attrib = {"text-anchor": anchor}
    if bold:
        attrib["font-weight"] = "bold"
    t = etree.SubElement(parent, f"{{{SVG_NS}}}text", x=f"{x:.1f}", y=f"{y:.1f}",
                         attrib=attrib)
    for i, line in enumerate(lines):
        ts = etree.SubElement(t, f"{{{SVG_NS}}}tspan", x=f"{x:.1f}", y=f"{y + i * LINE:.1f}")
        ts.text = line


def _describe(boxes: dict[str, _Box]) -> str:
    """Screen-reader summary: every box's text in reading order."""
    parts = []
    for b in boxes.values():
        text = " ".join(t for t, _ in b.lines if t)
        parts.append(text.rstrip(":") + ".")
    return "PRISMA 2020 flow diagram of an updated review. " + " ".join(parts)
