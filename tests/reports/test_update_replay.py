"""`registry update` with a live source: the real client against the loopback NCBI replay."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "search"))
from replay import ReplayServer, load_corpus  # noqa: E402

runner = CliRunner()


def test_update_searches_dedups_queues_and_reports(
    reviews: Path, db: Path, tmp_path: Path, fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = load_corpus(fixtures, sets=("pubmedportable",))  # 100 real efetch records
    out = tmp_path / "out"
    args = ["--db", str(db), "update", "--review", "msc-cirrhosis", "--out", str(out)]
    with ReplayServer(corpus) as srv:
        monkeypatch.setenv("NCBI_EUTILS_URL", srv.url)
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        assert f"msc-cirrhosis: {len(corpus)} new records" in first.output
        assert "unreachable" not in first.output
        second = runner.invoke(app, args)
        assert second.exit_code == 0, second.output
        assert "msc-cirrhosis: 0 new records" in second.output
        assert "(data unchanged since that version)" in second.output
        # the incremental re-run costs one ESearch and no EFetch
        assert srv.count("esearch") == 2
        assert srv.count("efetch") == 1
    md = (out / "msc-cirrhosis" / "report.md").read_text(encoding="utf-8")
    assert f"{len(corpus)} records await title/abstract screening" in md
    assert "| Identification | Records from pubmed | 100 | registry |" in md
    with Store(db) as s:
        runs = s.search_runs("msc-cirrhosis")
        assert [r["outcome"] for r in runs if r["kind"] == "search"] == ["ok", "ok"]
        versions = s.report_versions("msc-cirrhosis")
        assert len(versions) == 1  # the second cycle found nothing new: no second version
        assert versions[0]["summary"]["new_records"] == len(corpus)


def test_update_with_unreachable_ncbi_goes_on(
    reviews: Path, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NCBI_EUTILS_URL", "http://127.0.0.1:9/")  # discard port: refused
    args = ["--db", str(db), "update", "--review", "msc-cirrhosis", "--out",
            str(tmp_path / "out")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "pubmed (" in res.output and "unreachable" in res.output
    assert (tmp_path / "out" / "msc-cirrhosis" / "report.html").is_file()
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 4
