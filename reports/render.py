"""Render a :class:`reports.model.ReviewReport` to self-contained HTML and to Markdown.

Templates only present: the filters here format numbers, they compute nothing.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports.figures.common import fmt_p as _revman_p
from reports.model import Effect, Pooled, ReviewReport

_MD_SPECIAL = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "*": "\\*",
        "_": "\\_",
        "`": "\\`",
        "[": "\\[",
        "]": "\\]",
        "\n": " ",
    }
)


def fmt_num(x: float | int | None, digits: int = 2) -> str:
    """A number with fixed decimals; a dash for missing values."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}f}"


def fmt_p(p: float | None) -> str:
    """P value as Review Manager 5 prints it, without the relation ("0.006", "< 0.0001")."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    text = _revman_p(p)
    return text[2:] if text.startswith("= ") else text


def p_clause(p: float | None) -> str:
    """'P = 0.03' or 'P < 0.00001': the same wording the figures print."""
    return "P = NA" if p is None else f"P {_revman_p(p)}"


def fmt_effect(e: Effect | None, digits: int = 2) -> str:
    """'1.23 [0.45, 2.01]'."""
    if e is None:
        return "—"
    return f"{fmt_num(e.estimate, digits)} [{fmt_num(e.ci_lb, digits)}, {fmt_num(e.ci_ub, digits)}]"


def fmt_pct(x: float | None, digits: int = 0) -> str:
    """Percentage without the sign's computation (x already in percent)."""
    return "—" if x is None else f"{x:.{digits}f}%"


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# ':key:' / ':+1:' would become an emoji on GitHub, GitLab and markdown-it's emoji plugin;
# an empty HTML comment after the first colon splits the text node every one of them
# scans, and shows nothing (a backslash or an entity does not help: the emoji filters run
# on the decoded text).
_SHORTCODE = re.compile(r":(?=[A-Za-z0-9+\-][A-Za-z0-9_+\-\\]*:)")


def md_escape(text: object) -> str:
    """Escape record text for Markdown so markup in titles stays text.

    Only a '<' that could open an HTML tag or comment becomes '&lt;'; "P < 0.05" and
    "0.1 > 0.02" stay readable in the raw Markdown. Emoji shortcodes (":key:") are broken
    up so no renderer turns them into pictures.
    """
    if text is None:
        return ""
    escaped = _TAG_START.sub("&lt;", str(text).translate(_MD_SPECIAL))
    return _SHORTCODE.sub(":<!-- -->", escaped)


def heterogeneity_text(p: Pooled) -> str:
    """RevMan's heterogeneity line."""
    parts = []
    if p.tau2 is not None:
        parts.append(f"Tau² = {fmt_num(p.tau2, 2)}")
    if p.q is not None:
        parts.append(f"Chi² = {fmt_num(p.q, 2)}, df = {p.df} ({p_clause(p.q_pval)})")
    if p.i2 is not None:
        parts.append(f"I² = {fmt_pct(p.i2)}")
    return "Heterogeneity: " + "; ".join(parts) if parts else ""


def overall_text(p: Pooled) -> str:
    """RevMan's test-for-overall-effect line."""
    stat = None if p.stat is None else abs(p.stat)
    clause = p_clause(p.effect.pval)
    return f"Test for overall effect: {p.stat_name} = {fmt_num(stat, 2)} ({clause})"


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=fmt_num,
        p=fmt_p,
        effect=fmt_effect,
        pct=fmt_pct,
        md=md_escape,
        het=heterogeneity_text,
        overall=overall_text,
        svg=lambda s: Markup(s) if s else "",
    )
    return env


def render_html(report: ReviewReport) -> str:
    """One self-contained HTML page (inline CSS and SVG, no external resources)."""
    return _env().get_template("report.html.j2").render(r=report)


def render_markdown(report: ReviewReport) -> str:
    """The Markdown version of the report (figures referenced by caption only)."""
    return _env().get_template("report.md.j2").render(r=report)


VERSIONS_DIR = "versions"


def version_dir(out_dir: Path, label: str) -> Path:
    """Where version ``label``'s copy is kept: ``<out_dir>/versions/<label>/``.

    Labels are made by the registry (``v<n>-<date>-<hash8>``); a label that could leave
    the folder is refused.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", label):
        raise ValueError(f"not a report version label: {label!r}")
    return out_dir / VERSIONS_DIR / label


def write_report(report: ReviewReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` into ``out_dir`` (the newest version) and a
    copy into ``out_dir/versions/<label>/`` (every version is kept); returns the newest."""
    html, md = render_html(report), render_markdown(report)
    kept = version_dir(out_dir, report.version_label)
    for folder in (kept, out_dir):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.html").write_text(html, encoding="utf-8")
        (folder / "report.md").write_text(md, encoding="utf-8")
    return out_dir / "report.html", out_dir / "report.md"
