"""Render the hand-written PRISMA SVG to PNG with matplotlib (to look at its layout).

Understands only what ``prisma_svg`` writes: rect, straight-line path, text/tspan (with an
optional rotate transform). Used by the preview test and during development.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from reports.figures.common import new_figure

NS = {"s": "http://www.w3.org/2000/svg"}


def render_png(svg: str, out: Path, dpi: int = 120) -> Path:
    """Draw ``svg`` onto a matplotlib figure and save it as PNG at ``out``."""
    root = etree.fromstring(svg.encode())
    _, _, w, h = (float(v) for v in root.get("viewBox").split())
    fig = new_figure(w / 72, h / 72)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_axis_off()
    for r in root.iterfind(".//s:rect", NS):
        x, y, rw, rh = (float(r.get(k)) for k in ("x", "y", "width", "height"))
        ax.add_patch(
            __import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
                (x, y), rw, rh, facecolor=r.get("fill", "none"), edgecolor="black", lw=0.6
            )
        )
    for p in root.iterfind(".//s:g/s:path", NS):
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", p.get("d"))]
        xs, ys = nums[0::2], nums[1::2]
        ax.plot(xs, ys, color="black", lw=0.8)
        if p.get("marker-end"):
            ax.plot([xs[-1]], [ys[-1]], marker="v" if ys[-1] > ys[-2] else ">", color="black",
                    markersize=4)
    for t in root.iterfind(".//s:text", NS):
        size = 9.0
        bold = t.get("font-weight") == "bold" or t.getparent().get("font-weight") == "bold"
        anchor = {"middle": "center", "start": "left"}.get(t.get("text-anchor", "start"))
        rot = 90 if "rotate(-90" in (t.get("transform") or "") else 0
        spans = t.findall("s:tspan", NS) or [t]
        for sp in spans:
            ax.text(float(sp.get("x")), float(sp.get("y")), sp.text or "", fontsize=size,
                    ha=anchor if not rot else "center", va="baseline" if not rot else "center",
                    rotation=rot, fontweight="bold" if bold else "normal", parse_math=False)
    fig.savefig(out, dpi=dpi)
    return out


def main(out_dir: str) -> None:
    """Write a PNG of every figure kind (BCG inputs) to ``out_dir`` -- to look at them."""
    import sys

    from reports.figures import common

    sys.path.insert(0, str(Path(__file__).parent))
    from figure_inputs import all_figures, load_bcg

    shared = Path(__file__).resolve().parents[2].parent / "shared"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    common.PNG_DIR = str(out)
    figs = all_figures(load_bcg(shared))
    common.PNG_DIR = None
    render_png(figs["prisma"], out / "prisma.png")
    for name, svg in figs.items():
        (out / f"{name}.svg").write_text(svg)


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "figures-preview")
