"""``registry init REVIEW`` (issue 10, item 17): a new review starts valid, never overwrites."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from registry.cli import app
from registry.store import Store
from schemas.protocol import load_protocol
from schemas.sheet_format import EXTRACTION_SHEETS, columns_for


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["--db", str(tmp_path / "r.duckdb"), *args])
    return res.exit_code, res.output


def test_init_writes_a_commented_protocol_and_empty_sheets(reviews: Path, tmp_path: Path) -> None:
    code, out = _run(tmp_path, "init", "new-review")
    assert code == 0, out
    folder = reviews / "new-review"
    text = (folder / "protocol.yaml").read_text()
    assert text.startswith("# Protocol of the review 'new-review'") and "TODO" in text
    protocol = load_protocol("new-review")
    assert protocol.review == "new-review" and not protocol.example
    for sheet in EXTRACTION_SHEETS:
        lines = (folder / "extraction" / f"{sheet}.csv").read_text().splitlines()
        assert lines == [",".join(columns_for(sheet, protocol))], sheet  # header only
    # what init writes loads as it is: the store takes the review with no study
    code, out = _run(tmp_path, "load-review", "new-review")
    assert code == 0, out
    with Store(tmp_path / "r.duckdb") as s:
        assert s.curated_reviews() == ["new-review"]


def test_init_refuses_an_existing_folder(mini: Path, tmp_path: Path) -> None:
    before = (mini / "protocol.yaml").read_text()
    code, out = _run(tmp_path, "init", "mini")
    assert code == 2 and "already exists" in out, out
    assert (mini / "protocol.yaml").read_text() == before


def test_init_refuses_a_path_as_name(reviews: Path, tmp_path: Path) -> None:
    code, out = _run(tmp_path, "init", "../escaped")
    assert code == 2 and "is not allowed" in out, out
    assert not (reviews.parent / "escaped").exists()
