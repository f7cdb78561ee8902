"""Properties every figure must have: well-formed, accessible, self-contained, escaped,
deterministic, real text."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from figure_inputs import SVG, all_figures, parse, text_values

KINDS = ["forest", "cumulative", "leave_one_out", "funnel", "rob_traffic", "rob_summary",
         "prisma"]
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def figures(bcg: dict) -> dict[str, str]:
    return all_figures(bcg)


@pytest.mark.parametrize("kind", KINDS)
def test_well_formed_accessible_svg_root(figures: dict[str, str], kind: str) -> None:
    svg = figures[kind]
    assert svg.startswith("<svg"), "inline SVG: no XML declaration or DOCTYPE"
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    first, second = root[0], root[1]
    assert first.tag == f"{SVG}title" and first.text == root.get("aria-label")
    assert second.tag == f"{SVG}desc" and len(second.text) > 20
    assert root.get("aria-describedby") == second.get("id")


@pytest.mark.parametrize("kind", KINDS)
def test_no_external_resources(figures: dict[str, str], kind: str) -> None:
    svg = figures[kind]
    urls = re.findall(r"https?://[^\s\"'<>)]+", svg)
    assert set(urls) == {"http://www.w3.org/2000/svg"}, urls
    root = parse(svg)
    for el in root.iter():
        for name, value in el.attrib.items():
            if name.endswith("href"):
                assert value.startswith("#"), (name, value)
            if "url(" in value:
                assert re.fullmatch(r".*url\(#[^)]+\).*", value), value
    assert "<metadata" not in svg and "<script" not in svg.lower().replace("&lt;script", "")


@pytest.mark.parametrize("kind", KINDS)
def test_text_is_real_text(figures: dict[str, str], kind: str) -> None:
    svg = figures[kind]
    assert len(text_values(svg)) >= 5
    # matplotlib's default (fonttype 'path') would define glyph outlines like DejaVuSans-41
    assert "DejaVuSans-" not in svg


@pytest.mark.parametrize("kind", KINDS)
def test_script_in_labels_is_escaped_text(bcg: dict, kind: str) -> None:
    svg = all_figures(bcg, label=SCRIPT)[kind]
    root = parse(svg)
    assert not [el for el in root.iter() if isinstance(el.tag, str)
                and el.tag.rsplit("}", 1)[-1].lower() == "script"]
    values = text_values(svg) + [root[0].text or ""]
    assert any(SCRIPT in v for v in values), "label must survive as visible text"
    assert "&lt;script&gt;" in svg


def test_deterministic_across_processes(shared: Path, figures: dict[str, str]) -> None:
    """Same input, same bytes: redrawn in a fresh interpreter with another hash seed."""
    code = (
        "import hashlib, json, sys; from pathlib import Path;"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r});"
        "from figure_inputs import all_figures, load_bcg;"
        f"figs = all_figures(load_bcg(Path({str(shared)!r})));"
        "print(json.dumps({k: hashlib.sha256(v.encode()).hexdigest() for k, v in figs.items()}))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, cwd=Path(__file__).parents[2]).stdout
    again = json.loads(out)
    assert again == {k: hashlib.sha256(v.encode()).hexdigest() for k, v in figures.items()}


def test_ids_unique_within_and_across_figures(figures: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for kind, svg in figures.items():
        root = parse(svg)
        prefix = root.get("id")
        for el in root.iter():
            i = el.get("id") if isinstance(el.tag, str) else None
            if i is None:
                continue
            assert i.startswith(prefix), (kind, i)
            assert i not in seen, f"id {i} in {kind} and {seen.get(i)}"
            seen[i] = kind
