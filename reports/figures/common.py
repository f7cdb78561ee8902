"""Shared machinery of the figures: matplotlib settings, number formats, SVG finishing.

Number formats follow Review Manager 5 so that the report reads like a Cochrane review:
P values "< 0.00001" or rounded to 2 decimals (1 significant digit below 0.01), Chi² and Z
with 2 decimals, I² as a whole percent, weights with 1 decimal. The reports helper may reuse
these formatters so tables and figures agree.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")  # no display; must precede any pyplot import elsewhere

from lxml import etree  # noqa: E402
from matplotlib.backends.backend_agg import RendererAgg  # noqa: E402
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

from schemas.values import is_missing  # noqa: E402

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

FONT_SIZE = 8.0  # points: legible when the figure is printed at its natural size
SMALL_FONT = 7.0

# robvis palette (McGuinness & Higgins 2021, robvis R package, colour = "cochrane")
ROB_COLOURS = {
    "low": "#02C100",
    "some_concerns": "#E2DF07",
    "unclear": "#E2DF07",
    "high": "#BF0000",
    "no_information": "#4EA1F7",
}
SQUARE_COLOUR = "#1F4E96"
DIAMOND_COLOUR = "#000000"

RC = {
    "svg.fonttype": "none",  # real <text>: searchable, selectable, read by screen readers
    "text.parse_math": False,  # "$" in a study label must stay a dollar sign
    "text.usetex": False,
    "axes.unicode_minus": False,  # ASCII minus: what a reader types when searching
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": FONT_SIZE,
    "path.simplify": False,
    "svg.image_inline": True,
}

FONT_STACK = "'DejaVu Sans', 'Arial', 'Helvetica', 'Liberation Sans', sans-serif"
BASELINE = 0.36  # baseline sits this many font sizes below a text's vertical centre


@dataclass(frozen=True)
class Label:
    """Table text written straight into the SVG as ``<text>``.

    Coordinates are inches from the figure's top-left corner; ``y`` is the vertical centre.
    Laying out thousands of cells through matplotlib ``Text`` artists costs ~1 ms each;
    writing them directly keeps a 500-study forest plot fast. The plot itself (axes, ticks,
    squares, diamonds) is still drawn by matplotlib.
    """

    x: float
    y: float
    text: str
    align: str = "left"  # left | right | center
    size: float = FONT_SIZE
    bold: bool = False
    italic: bool = False
    colour: str | None = None
    cls: str | None = None


@contextmanager
def figure_context(key: str) -> Iterator[None]:
    """rcParams for building and saving one figure; ``key`` seeds the SVG id hashes."""
    with matplotlib.rc_context({**RC, "svg.hashsalt": key}):
        yield


def new_figure(width_in: float, height_in: float) -> Figure:
    """A pyplot-free figure (no global state) with an SVG canvas attached."""
    fig = Figure(figsize=(width_in, height_in), dpi=72)
    FigureCanvasSVG(fig)
    return fig


def inch_canvas(fig: Figure):
    """An invisible axes covering ``fig`` in inches, y growing downwards (table text, grids)."""
    w, h = fig.get_size_inches()
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_axis_off()
    return ax


def gid(cls: str, n: int | str = 0) -> str:
    """Artist gid that ``finish_svg`` turns into ``class="cls"`` on the artist's group."""
    return f"c--{cls}--{n}"


def figure_key(kind: str, obj: object) -> str:
    """Deterministic per-input id: same input, same SVG; different figures, distinct ids."""
    digest = hashlib.sha256(f"{kind}:{obj!r}".encode()).hexdigest()[:10]
    return f"fig-{kind}-{digest}"


# ---------------------------------------------------------------------------- formats


def fmt_num(x: float | None, decimals: int = 2) -> str:
    """Fixed decimals, ASCII minus, no "-0.00"; ``None``/NaN -> empty string."""
    if is_missing(x):
        return ""
    if abs(x) >= 1e6:  # absurd values (e.g. exp of a huge log ratio) stay readable
        return f"{x:.{decimals}e}"
    s = f"{x:.{decimals}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    return s


def fmt_p(p: float) -> str:
    """P value as RevMan 5 prints it, with its relation sign.

    ``"< 0.00001"``, ``"< 0.0001"``, one significant digit below 0.01 (``"= 0.006"``),
    otherwise two decimals (``"= 0.46"``).
    """
    if p is None or not math.isfinite(p):
        return "= NA"
    if p < 0.00001:
        return "< 0.00001"
    if p < 0.0001:
        return "< 0.0001"
    if p >= 0.01:
        return f"= {p:.2f}"
    decimals = -math.floor(math.log10(p))
    return f"= {p:.{decimals}f}"


def fmt_tau2(tau2: float) -> str:
    """Tau² with 2 decimals; a small non-zero value keeps 2 significant digits."""
    if tau2 == 0 or abs(tau2) >= 0.005:
        return fmt_num(tau2, 2)
    return f"{tau2:.2g}" if abs(tau2) >= 1e-4 else f"{tau2:.1e}"


def fmt_i2(i2: float) -> str:
    """I² (percent) as a whole number."""
    return f"{i2:.0f}"


def fmt_weight(w: float | None) -> str:
    """Weight percent with one decimal."""
    return "" if w is None else f"{w:.1f}%"


def fmt_value(x: float | int | None) -> str:
    """An arm's mean/SD/count: integers as integers, others to at most 2 decimals."""
    if is_missing(x):
        return ""
    if float(x).is_integer():
        return str(int(x))
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return s.lstrip("-") if float(s) == 0 else s


def safe_exp(v: float) -> float:
    """exp() that saturates instead of raising OverflowError on absurd log ratios."""
    return math.exp(min(max(v, -700.0), 700.0))


def fmt_effect(est: float | None, lb: float | None, ub: float | None, ratio: bool,
               decimals: int = 2) -> str:
    """``"0.49 [0.35, 0.70]"``; ratio effects arrive on the log scale and are shown exp'd."""
    if any(v is None or not math.isfinite(v) for v in (est, lb, ub)):
        return "Not estimable"
    vals = [safe_exp(v) for v in (est, lb, ub)] if ratio else [est, lb, ub]
    a, b, c = (fmt_num(v, decimals) for v in vals)
    return f"{a} [{b}, {c}]"


def heterogeneity_text(het: object | None, k: int | None = None) -> str:
    """RevMan's line: "Heterogeneity: Tau² = …; Chi² = …, df = … (P …); I² = …%"."""
    if het is None:
        return "Heterogeneity: Not applicable" if k == 1 else ""
    if het.df == 0 or not math.isfinite(het.q):  # type: ignore[attr-defined]  # one study
        return "Heterogeneity: Not applicable"
    tau2 = getattr(het, "tau2", None)
    parts = []
    if tau2 is not None:
        parts.append(f"Tau\u00b2 = {fmt_tau2(tau2)}; ")
    parts.append(
        f"Chi\u00b2 = {fmt_num(het.q, 2)}, df = {het.df} (P {fmt_p(het.q_pval)}); "  # type: ignore[attr-defined]
        f"I\u00b2 = {fmt_i2(het.i2)}%"  # type: ignore[attr-defined]
    )
    return "Heterogeneity: " + "".join(parts)


def effect_test_text(test: object | None) -> str:
    """RevMan's line: "Test for overall effect: Z = 3.99 (P < 0.0001)" (or t with df)."""
    if test is None:
        return ""
    if not math.isfinite(test.stat):  # type: ignore[attr-defined]
        return "Test for overall effect: Not applicable"
    stat = abs(test.stat)  # type: ignore[attr-defined]  # RevMan prints |Z|
    if test.test == "t":  # type: ignore[attr-defined]
        df = "" if test.df is None else f", df = {test.df}"  # type: ignore[attr-defined]
        return f"Test for overall effect: t = {fmt_num(stat, 2)}{df} (P {fmt_p(test.pval)})"  # type: ignore[attr-defined]
    return f"Test for overall effect: Z = {fmt_num(stat, 2)} (P {fmt_p(test.pval)})"  # type: ignore[attr-defined]


def subgroup_test_text(test: object | None) -> str:
    """RevMan's "Test for subgroup differences: Chi² = …, df = … (P = …), I² = …%"."""
    if test is None:
        return ""
    return (
        f"Test for subgroup differences: Chi\u00b2 = {fmt_num(test.q, 2)}, "  # type: ignore[attr-defined]
        f"df = {test.df} (P {fmt_p(test.pval)}), I\u00b2 = {fmt_i2(test.i2)}%"  # type: ignore[attr-defined]
    )


# ---------------------------------------------------------------------------- measuring


_RENDERER: RendererAgg | None = None


@lru_cache(maxsize=65536)
def text_width(s: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    """Width of ``s`` in inches, measured with matplotlib's own font (DejaVu Sans).

    DejaVu Sans is wider than the fonts browsers usually substitute, so layouts made with
    it leave room to spare.
    """
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = RendererAgg(1, 1, 72)
    if not s:
        return 0.0
    with matplotlib.rc_context(RC):
        prop = FontProperties(size=size, weight="bold" if bold else "normal")
        width = max(
            _RENDERER.get_text_width_height_descent(line, prop, ismath=False)[0]
            for line in s.split("\n")
        )
    return width / 72.0


# ---------------------------------------------------------------------------- SVG output

PNG_DIR: str | None = None  # when set, every figure is also saved there as PNG

_URL_REF = re.compile(r"url\(#([^)]+)\)")


def figure_to_svg(fig: Figure, key: str, title: str, desc: str,
                  labels: tuple[Label, ...] | list[Label] = ()) -> str:
    """Save ``fig`` as SVG (inside ``figure_context``) and finish it with ``finish_svg``."""
    if PNG_DIR is not None:  # development aid: look at what was drawn, labels included
        overlay = _label_overlay(fig, labels)
        fig.savefig(f"{PNG_DIR}/{key}.png", format="png", dpi=150)
        fig.delaxes(overlay)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                             "Type": None})
    return finish_svg(buf.getvalue(), key=key, title=title, desc=desc, labels=labels)


def _label_overlay(fig: Figure, labels: tuple[Label, ...] | list[Label]):
    """Draw ``labels`` with matplotlib (for PNG previews only; same positions as the SVG)."""
    ax = inch_canvas(fig)
    ax.patch.set_visible(False)
    for lab in labels:
        ax.text(lab.x, lab.y + BASELINE * lab.size / 72, lab.text, fontsize=lab.size,
                ha=lab.align, va="baseline", fontweight="bold" if lab.bold else "normal",
                style="italic" if lab.italic else "normal", color=lab.colour or "black",
                parse_math=False)
    return ax


def _label_element(lab: Label) -> etree._Element:
    anchor = {"left": "start", "right": "end", "center": "middle"}[lab.align]
    style = []
    if lab.italic:
        style.append("font-style: italic")
    if lab.bold:
        style.append("font-weight: 700")
    style += [f"font-size: {lab.size:g}px", f"font-family: {FONT_STACK}",
              f"text-anchor: {anchor}"]
    if lab.colour:
        style.append(f"fill: {lab.colour}")
    el = etree.Element(f"{{{SVG_NS}}}text")
    el.set("style", "; ".join(style))
    el.set("x", f"{lab.x * 72:.3f}")
    el.set("y", f"{(lab.y + BASELINE * lab.size / 72) * 72:.3f}")
    el.text = lab.text
    return el


def finish_svg(raw: str, *, key: str, title: str, desc: str,
               labels: tuple[Label, ...] | list[Label] = ()) -> str:
    """Make an SVG document fit for inlining into HTML.

    Drops the XML declaration, DOCTYPE and RDF metadata (they carry http URLs), renames the
    ids that are referenced with a per-figure prefix and drops the rest (matplotlib's
    ``figure_1``/``text_3`` ids would repeat across the figures of one page), uses plain
    ``href`` instead of ``xlink:href``, scopes matplotlib's global ``*{...}`` style rule to
    this figure, appends the ``labels`` as ``<text>`` and adds ``<title>``, ``<desc>``,
    ``role="img"`` and ``aria-label``.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             remove_blank_text=False, huge_tree=True)
    root = etree.fromstring(raw.encode("utf-8"), parser)
    for meta in root.findall(f"{{{SVG_NS}}}metadata"):
        root.remove(meta)
    referenced = _referenced_ids(root)
    for el in root.iter():
        if isinstance(el.tag, str):
            _scope_element(el, key, referenced)
    if labels:
        _append_labels(root, labels)
    add_accessibility(root, key=key, title=title, desc=desc)
    etree.cleanup_namespaces(root)
    return etree.tostring(root, encoding="unicode")


_HREF = f"{{{XLINK_NS}}}href"


def _referenced_ids(root: etree._Element) -> set[str]:
    """Ids some element points at (href="#id" or url(#id))."""
    referenced: set[str] = set()
    for el in root.iter():
        for attr in (_HREF, "href"):
            v = el.get(attr)
            if v and v.startswith("#"):
                referenced.add(v[1:])
        for name, v in el.attrib.items():
            if "url(#" in v and name != "id":
                referenced.update(_URL_REF.findall(v))
    return referenced


def _scope_element(el: etree._Element, key: str, referenced: set[str]) -> None:
    """Per-figure ids and references, gids as classes, plain href, scoped style rules."""
    def rename(i: str) -> str:
        return f"{key}-{i}"

    i = el.get("id")
    if i is not None and i.startswith("c--"):
        # gid "c--study-square--3" -> class="study-square" (for tests and CSS)
        el.set("class", i.split("--")[1])
        del el.attrib["id"]
    elif i is not None:
        if i in referenced:
            el.set("id", rename(i))
        else:
            del el.attrib["id"]
    v = el.get(_HREF)
    if v is not None:
        del el.attrib[_HREF]
        el.set("href", "#" + rename(v[1:]) if v.startswith("#") else v)
    elif el.get("href", "").startswith("#"):
        el.set("href", "#" + rename(el.get("href")[1:]))
    for name, v in list(el.attrib.items()):
        if "url(#" in v and name != "id":
            el.set(name, _URL_REF.sub(lambda m: f"url(#{rename(m.group(1))})", v))
    if el.tag == f"{{{SVG_NS}}}style" and el.text:
        el.text = re.sub(r"(^|\})\s*\*\s*\{", lambda m: f"{m.group(1)}#{key} *{{", el.text)


def _append_labels(root: etree._Element, labels: tuple[Label, ...] | list[Label]) -> None:
    """The table text as <text> elements in one <g class="figure-text">."""
    group = etree.SubElement(root, f"{{{SVG_NS}}}g")
    group.set("class", "figure-text")
    group.text = "\n"
    for lab in labels:
        el = _label_element(lab)
        if lab.cls:
            wrap = etree.SubElement(group, f"{{{SVG_NS}}}g")
            wrap.set("class", lab.cls)
            wrap.append(el)
            wrap.tail = "\n"
        else:
            group.append(el)
            el.tail = "\n"


def add_accessibility(root: etree._Element, *, key: str, title: str, desc: str) -> None:
    """Root id, ``role="img"``, ``aria-label``, and ``<title>``/``<desc>`` as first children."""
    root.set("id", key)
    root.set("role", "img")
    root.set("aria-label", title)
    root.set("aria-describedby", f"{key}-desc")
    root.set("style", "max-width:100%;height:auto")
    t = etree.Element(f"{{{SVG_NS}}}title")
    t.set("id", f"{key}-title")
    t.text = title
    d = etree.Element(f"{{{SVG_NS}}}desc")
    d.set("id", f"{key}-desc")
    d.text = desc
    t.tail = "\n"
    d.tail = "\n"
    root.insert(0, d)
    root.insert(0, t)
