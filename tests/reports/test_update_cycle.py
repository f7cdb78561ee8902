"""The living cycle end to end: update, versions, what's new, exit codes, escaping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from _report_cycle import report_at, update_at
from typer.testing import CliRunner

from ingest.records import Record
from registry.cli import app
from registry.store import Store

runner = CliRunner()


def _drop_studies(reviews: Path, review: str, keep: int) -> list[str]:
    """Keep only the first ``keep`` studies of a review's extraction sheets."""
    ext = reviews / review / "extraction"
    studies = pd.read_csv(ext / "studies.csv", dtype=str)
    kept = studies["study_id"].tolist()[:keep]
    for f in ext.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "study_id" in df.columns:
            df[df["study_id"].isin(kept)].to_csv(f, index=False)
    return kept


def test_update_offline_writes_report_and_version(reviews: Path, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["--db", str(db), "update", "--review", "bcg-vaccine",
                              "--out", str(out), "--offline"])
    assert res.exit_code == 0, res.output
    assert "report " in res.output and "no conclusion changed" in res.output
    html = (out / "bcg-vaccine" / "report.html").read_text(encoding="utf-8")
    md = (out / "bcg-vaccine" / "report.md").read_text(encoding="utf-8")
    assert "EXAMPLE REVIEW" in html and "first version" in md
    # Colditz 1994 / metafor: RevMan-style M-H random effects RR for the 13 BCG trials is
    # 0.49 [0.34, 0.70] (DL on the log RR; metafor bcg_RR.json DL estimate -0.7141 -> 0.49).
    assert "RR 0.49 [0.34, 0.70]" in md
    res = runner.invoke(app, ["--db", str(db), "versions", "--json"])
    assert res.exit_code == 0 and '"review": "bcg-vaccine"' in res.output


def test_second_update_reports_changes_since_previous_version(
    reviews: Path, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    kept = _drop_studies(reviews, "bcg-vaccine", keep=4)
    first = update_at(db, "bcg-vaccine", out, offline=True)
    assert first.report is not None
    # restore the full data set: 9 studies come back, the estimate moves
    full = Path(__file__).resolve().parents[2] / "data" / "reviews" / "bcg-vaccine" / "extraction"
    for f in full.glob("*.csv"):
        (reviews / "bcg-vaccine" / "extraction" / f.name).write_bytes(f.read_bytes())
    second = update_at(db, "bcg-vaccine", out, offline=True)
    assert second.report is not None
    assert len(second.new_studies) == 13 - len(kept)
    md = (out / "bcg-vaccine" / "report.md").read_text(encoding="utf-8")
    assert f"since version {first.report.version_label}" in md
    with Store(db) as s:
        versions = s.report_versions("bcg-vaccine")
    assert [v["label"] for v in versions][1] == first.report.version_label
    assert versions[0]["n_studies"] == 13 and versions[1]["n_studies"] == 4
    # `registry report` right after, on the same data: no new version, and the month's
    # "What's new" is kept (still compared with the version before)
    again = report_at(db, "bcg-vaccine", out)
    assert again.unchanged and again.version_label == second.report.version_label
    md = (out / "bcg-vaccine" / "report.md").read_text(encoding="utf-8")
    assert f"since version {first.report.version_label}" in md
    with Store(db) as s:
        assert len(s.report_versions("bcg-vaccine")) == 2


def test_fail_on_change_exit_code(reviews: Path, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # With only the two BCG trials nearest the equator (TPT Madras, Coetzee & Berjak) the
    # pooled RR is not significant; the full set is (P < 0.0001): the conclusion changes.
    ext = reviews / "bcg-vaccine" / "extraction"
    original = {f.name: f.read_bytes() for f in ext.glob("*.csv")}
    studies = pd.read_csv(ext / "studies.csv", dtype=str)
    keep = [s for s in studies["study_id"] if s in ("TPTMadras1980", "CoetzeeBerjak1968")]
    assert len(keep) == 2
    for f in ext.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "study_id" in df.columns:
            df[df["study_id"].isin(keep)].to_csv(f, index=False)
    args = ["--db", str(db), "update", "--review", "bcg-vaccine", "--out", str(out),
            "--offline", "--fail-on-change"]
    assert runner.invoke(app, args).exit_code == 0
    for name, data in original.items():
        (ext / name).write_bytes(data)
    res = runner.invoke(app, args)
    assert res.exit_code == 10, res.output
    assert "conclusion changed" in res.output


def test_record_text_is_escaped(reviews: Path, db: Path, tmp_path: Path) -> None:
    evil = "<script>alert('x')</script> MSC in cirrhosis: a randomised trial"
    with Store(db) as s:
        run = s.record_search_run(source="pubmed", kind="import", tool_version="test",
                                  review="msc-cirrhosis")
        s.add_records([Record(source="pubmed", source_id="99999999", pmid="99999999",
                              title=evil, year=2024, journal="J <b>Test</b>")], run_id=run)
        s.finish_search_run(run, outcome="ok")
    res = report_at(db, "msc-cirrhosis", tmp_path / "out")
    html = res.html_path.read_text(encoding="utf-8")
    md = res.md_path.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    # Markdown: a '<' that could open a tag is an entity, so no renderer sees a tag
    assert "<script" not in md and "</script" not in md and "&lt;script>" in md
    assert "<b>Test</b>" not in html
    # self-contained: no external resource is referenced by the page
    for bad in ('src="http', "href=\"http", "@import", "url(http"):
        assert bad not in html


def test_update_imports_inbox_files_once(
    reviews: Path, db: Path, tmp_path: Path, fixtures: Path
) -> None:
    inbox = reviews / "msc-cirrhosis" / "imports" / "embase"
    inbox.mkdir(parents=True)
    # asreview/pubmed_zotero.ris: 6 PubMed records exported as RIS by Zotero (SOURCES.md)
    (inbox / "export.ris").write_bytes((fixtures / "asreview" / "pubmed_zotero.ris").read_bytes())
    first = update_at(db, "msc-cirrhosis", tmp_path / "out", offline=True)
    assert first.new_records == 6
    assert any("export.ris" in n for n in first.notes)
    md = (tmp_path / "out" / "msc-cirrhosis" / "report.md").read_text(encoding="utf-8")
    assert "6 records await title/abstract screening" in md
    second = update_at(db, "msc-cirrhosis", tmp_path / "out", offline=True)
    assert second.new_records == 0 and not any("export.ris" in n for n in second.notes)
    with Store(db) as s:
        assert s.record_counts("msc-cirrhosis")["embase"]["records"] == 6


def test_trial_added_with_add_trial_survives_the_monthly_update(
    reviews: Path, db: Path, tmp_path: Path
) -> None:
    folder = reviews / "stroke-unit-los" / "extraction"
    # a new trial's sheets outside the review folder: Edinburgh's rows under a new id
    # (a software test of the update cycle, not curated data)
    new = tmp_path / "new-trial"
    new.mkdir()
    for f in folder.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "study_id" in df.columns:
            df = df[df["study_id"] == "Edinburgh"].assign(study_id="NewTrial2026")
        df.to_csv(new / f.name, index=False)
    out = tmp_path / "out"
    update_at(db, "stroke-unit-los", out, offline=True)
    res = runner.invoke(app, ["--db", str(db), "add-trial", str(new), "--review",
                              "stroke-unit-los"])
    assert res.exit_code == 0, res.output
    second = update_at(db, "stroke-unit-los", out, offline=True)
    assert second.new_studies == ["NewTrial2026"]
    # a study removed from the folder is removed from the registry; the added one stays
    for f in folder.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "study_id" in df.columns:
            df[df["study_id"] != "Uppsala"].to_csv(f, index=False)
    update_at(db, "stroke-unit-los", out, offline=True)
    with Store(db) as s:
        ids = set(s.curation_rows("stroke-unit-los", "studies")["study_id"])
    assert "NewTrial2026" in ids and "Uppsala" not in ids and len(ids) == 9


def test_inbox_bad_file_is_reported_and_duplicates_count_per_cycle(
    reviews: Path, db: Path, tmp_path: Path, fixtures: Path
) -> None:
    inbox = reviews / "stroke-unit-los" / "imports"
    xml = (fixtures / "pubmedportable" / "medline_00000000.xml").read_bytes()  # 100 records
    for src in ("pubmed", "embase"):  # the same 100 records exported from two databases
        (inbox / src).mkdir(parents=True)
        (inbox / src / "export.xml").write_bytes(xml)
    (inbox / "embase" / "broken.ris").write_bytes(b"")
    first = update_at(db, "stroke-unit-los", tmp_path / "out", offline=True)
    assert first.report is not None  # the cycle went on past the unreadable file
    assert any("not imported" in n and "broken.ris" in n for n in first.notes)
    assert first.new_records == 200 and first.duplicates_removed == 100
    second = update_at(db, "stroke-unit-los", tmp_path / "out", offline=True)
    assert second.new_records == 0 and second.duplicates_removed == 0


def test_add_trial_on_a_folder_study_warns_that_update_restores_it(
    reviews: Path, db: Path, tmp_path: Path
) -> None:
    folder = reviews / "stroke-unit-los" / "extraction"
    edit = tmp_path / "edit"
    edit.mkdir()
    for f in folder.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "study_id" in df.columns:
            df = df[df["study_id"] == "Edinburgh"]
        df.to_csv(edit / f.name, index=False)
    update_at(db, "stroke-unit-los", tmp_path / "out", offline=True)
    res = runner.invoke(app, ["--db", str(db), "add-trial", str(edit), "--review",
                              "stroke-unit-los"])
    assert res.exit_code == 0, res.output
    assert "study Edinburgh comes from the review folder" in res.output


def test_first_pooled_estimate_is_news_for_fail_on_change(
    reviews: Path, db: Path, tmp_path: Path
) -> None:
    # Issue 10 item 14: one BCG trial cannot be pooled; when a second arrives the outcome
    # has its first pooled estimate, which a scheduler must hear about (exit 10).
    ext = reviews / "bcg-vaccine" / "extraction"
    original = {f.name: f.read_bytes() for f in ext.glob("*.csv")}
    _drop_studies(reviews, "bcg-vaccine", keep=1)
    args = ["--db", str(db), "update", "--review", "bcg-vaccine", "--out", str(tmp_path / "o"),
            "--offline", "--fail-on-change"]
    assert runner.invoke(app, args).exit_code == 0
    for name, data in original.items():
        (ext / name).write_bytes(data)
    _drop_studies(reviews, "bcg-vaccine", keep=2)
    res = runner.invoke(app, args)
    assert res.exit_code == 10, res.output
    assert "first pooled estimate:" in res.output and "k = 2" in res.output
    md = (tmp_path / "o" / "bcg-vaccine" / "report.md").read_text(encoding="utf-8")
    assert "**New:**" in md and "first pooled estimate" in md
    # the same data again: that version's news is not reported a second time
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "first pooled estimate" not in again.output


def test_stale_conclusion_change_is_not_reprinted(reviews: Path, db: Path, tmp_path: Path
                                                  ) -> None:
    # Issue 10 item 14: after the version whose conclusion changed, a rerun on the same
    # data neither prints "conclusion changed" again nor exits 10 again.
    ext = reviews / "bcg-vaccine" / "extraction"
    original = {f.name: f.read_bytes() for f in ext.glob("*.csv")}
    studies = pd.read_csv(ext / "studies.csv", dtype=str)
    keep = [s for s in studies["study_id"] if s in ("TPTMadras1980", "CoetzeeBerjak1968")]
    for f in ext.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "study_id" in df.columns:
            df[df["study_id"].isin(keep)].to_csv(f, index=False)
    args = ["--db", str(db), "update", "--review", "bcg-vaccine", "--out", str(tmp_path / "o"),
            "--offline", "--fail-on-change"]
    runner.invoke(app, args)
    for name, data in original.items():
        (ext / name).write_bytes(data)
    assert runner.invoke(app, args).exit_code == 10
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "conclusion changed:" not in again.output


def test_update_line_counts_records_as_the_report_does(
    reviews: Path, db: Path, tmp_path: Path, fixtures: Path
) -> None:
    # Issue 10 item 14: records imported between two updates were "0 new records" in the
    # update's line while the report counted them.
    out = tmp_path / "o"
    update_at(db, "msc-cirrhosis", out)
    # asreview/pubmed_zotero.ris: 6 PubMed records exported as RIS by Zotero (SOURCES.md)
    res = runner.invoke(app, ["--db", str(db), "import", str(fixtures / "asreview" /
                                                            "pubmed_zotero.ris"),
                              "--source", "embase", "--review", "msc-cirrhosis"])
    assert res.exit_code == 0, res.output
    second = update_at(db, "msc-cirrhosis", out)
    md = (out / "msc-cirrhosis" / "report.md").read_text(encoding="utf-8")
    assert "New records identified since the previous version: 6" in md
    line = [s for s in second.lines() if s.startswith("msc-cirrhosis:") and "new records" in s]
    assert line and line[0].startswith("msc-cirrhosis: 6 new records since the previous report")


def test_every_report_version_is_kept_and_can_be_shown(
    reviews: Path, db: Path, tmp_path: Path
) -> None:
    # Issue 10 item 15: version 1's report used to be overwritten by version 2's.
    out = tmp_path / "o"
    _drop_studies(reviews, "bcg-vaccine", keep=4)
    first = update_at(db, "bcg-vaccine", out)
    full = Path(__file__).resolve().parents[2] / "data" / "reviews" / "bcg-vaccine" / "extraction"
    for f in full.glob("*.csv"):
        (reviews / "bcg-vaccine" / "extraction" / f.name).write_bytes(f.read_bytes())
    second = update_at(db, "bcg-vaccine", out)
    assert first.report and second.report
    assert first.report.version_label != second.report.version_label
    base = ["--db", str(db), "versions", "show"]
    res = runner.invoke(app, [*base, "1", "--review", "bcg-vaccine", "--out", str(out),
                              "--markdown"])
    assert res.exit_code == 0, res.output
    assert f"version **{first.report.version_label}**" in res.output
    assert "first version" in res.output  # v1's own What's new, not v2's
    res = runner.invoke(app, [*base, "2", "--review", "bcg-vaccine", "--out", str(out)])
    assert res.exit_code == 0 and second.report.version_label in res.output
    res = runner.invoke(app, [*base, "9", "--review", "bcg-vaccine", "--out", str(out)])
    assert res.exit_code == 2 and "no report version 9" in res.output
