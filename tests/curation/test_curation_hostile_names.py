"""Hostile protocol files and review names (issue 10, items 7 and 10).

A "billion laughs" protocol.yaml (nested anchors, each aliased nine times) is refused with an
error naming the file, before any Python object is built; a review name that is not a slug
(``../../x``, an absolute path) is refused by every command that turns a name into a path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.errors import InputError
from schemas.protocol import default_review, load_protocol, protocol_path
from schemas.yaml_reader import load_yaml

from .conftest import PROTOCOL


def billion_laughs(levels: int = 9) -> str:
    """The classic alias-expansion bomb: 9 levels of 9 aliases = 9**9 strings in the title."""
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _bomb_protocol(folder: Path) -> Path:
    """The mini protocol whose title is the bomb; the anchors sit in `notes`, written first
    (an anchor must come before its aliases), so every key is one the loader knows."""
    anchors = ['  - &a0 "lol"'] + [
        f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)
    ]
    text = PROTOCOL.replace('title: "Mini review for the curation tests"', "title: *a9")
    f = folder / "protocol.yaml"
    f.write_text("notes:\n" + "\n".join(anchors) + "\n" + text)
    return f


def test_billion_laughs_refused_naming_the_file(mini: Path, tmp_path: Path) -> None:
    f = _bomb_protocol(mini)
    # a child process with a deadline: the unbounded loader needs minutes and gigabytes
    env = {**os.environ, "REGISTRY_REVIEWS": str(mini.parent)}
    proc = subprocess.run(
        [sys.executable, "-m", "registry.cli", "--db", str(tmp_path / "r.duckdb"),
         "load-review", "mini"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert str(f) in proc.stderr and "alias" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_bounded_loader_counts_expansion_not_aliases(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    # a few aliases are fine: three levels of nine = 819 values
    assert len(load_yaml(f, billion_laughs(3))["a3"]) == 9
    with pytest.raises(InputError, match="expand to more than"):
        load_yaml(f, billion_laughs(6))  # 9**6 = 531,441 strings
    with pytest.raises(InputError, match="refers to itself"):
        load_yaml(f, "a: &a [1, *a]\n")


@pytest.mark.parametrize("name", ["../../x", "/tmp/evil", "..", "a/b", "mini/../mini", ""])
def test_review_names_are_slugs(reviews: Path, name: str) -> None:
    with pytest.raises(InputError, match="is not allowed"):
        protocol_path(name)
    if name:
        with pytest.raises(InputError, match="is not allowed"):
            default_review(name)
        with pytest.raises(InputError, match="is not allowed"):
            load_protocol(name)


def test_env_review_must_be_a_slug(reviews: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_REVIEW", "../outside")
    with pytest.raises(InputError, match="is not allowed"):
        default_review(None)


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--review", "../../x", "--out", "OUT"],
        ["load-review", "/tmp/x"],
        ["validate", "--review", "../x"],
        ["extract", "template", "OUT/t.xlsx", "--review", "../../x"],
    ],
)
def test_cli_refuses_path_names(reviews: Path, tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "out"
    args = [a.replace("OUT", str(out)) for a in args]
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "r.duckdb"), *args])
    assert result.exit_code == 2, result.output
    assert "is not allowed" in result.output
    assert not (tmp_path / "x").exists() and not out.exists()
