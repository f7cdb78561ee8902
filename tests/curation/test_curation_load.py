"""Loading reviews and trials: idempotent, audited (who, when, old -> new), all or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.curation import add_trial, history, load_review
from registry.curation.audit import format_history
from registry.errors import InputError, ValidationFailed
from registry.store import Store

from .helpers import read, set_cell, write


def test_reload_unchanged_writes_nothing(mini: Path, db: Store) -> None:
    first = load_review(db, "mini")
    assert first.inserted == 20 and first.changes > 0 and first.published == 1
    before = db.dump()
    again = load_review(db, "mini")
    assert not again.changed and again.inserted == again.updated == again.deleted == 0
    assert db.dump() == before


def test_a_change_is_audited_with_old_and_new_value(
    mini: Path, db: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_review(db, "mini")
    n_audit = db.audit_count()
    monkeypatch.setenv("REGISTRY_CURATOR", "second curator")
    set_cell(mini / "extraction", "arms", 3, "n_analysed", "17")
    summary = load_review(db, "mini")
    assert (summary.updated, summary.changes) == (1, 1)
    assert db.audit_count() == n_audit + 1
    last = db.curation_history("Alpha2010")[-1]
    assert last["table_name"] == "arms" and last["row_key"] == "Alpha2010 | ctl"
    assert last["column_name"] == "n_analysed" and last["action"] == "update"
    assert (last["old_value"], last["new_value"]) == ("19", "17")
    assert last["curator"] == "second curator" and last["changed_at"] is not None
    text = format_history(history(db, "Alpha2010"))
    assert "update arms[Alpha2010 | ctl].n_analysed: '19' -> '17'" in text
    assert "second curator" in text and "tester" in text


def test_removed_rows_are_deleted_and_audited(mini: Path, db: Store) -> None:
    load_review(db, "mini")
    header, rows = read(mini / "extraction" / "adverse_events.csv")
    write(mini / "extraction" / "adverse_events.csv", header, rows[:1])
    summary = load_review(db, "mini")
    assert summary.deleted == 1
    dels = [h for h in db.curation_history("Beta2012") if h["action"] == "delete"]
    assert {h["column_name"] for h in dels} >= {"event", "reported_text", "source"}
    assert all(h["new_value"] is None for h in dels)
    assert len(db.curation_rows("mini", "adverse_events")) == 1


def test_failed_reload_leaves_registry_as_it_was(mini: Path, db: Store) -> None:
    load_review(db, "mini")
    before = db.dump()
    set_cell(mini / "extraction", "arms", 3, "n_analysed", "17")  # valid change ...
    set_cell(mini / "extraction", "outcomes", 2, "sd", "-1")  # ... next to an invalid one
    with pytest.raises(ValidationFailed):
        load_review(db, "mini")
    assert db.dump() == before


def test_add_trial_replaces_only_its_studies(mini: Path, tmp_path: Path, db: Store) -> None:
    load_review(db, "mini")
    inc = tmp_path / "beta_update"
    inc.mkdir()
    for sheet in ("studies", "arms", "outcomes"):
        header, rows = read(mini / "extraction" / f"{sheet}.csv")
        write(inc / f"{sheet}.csv", header, [r for r in rows if r["study_id"] == "Beta2012"])
    set_cell(inc, "outcomes", 2, "mean", "11.2")  # Beta2012 trt score
    header, rows = read(inc / "outcomes.csv")
    write(inc / "outcomes.csv", header, rows[:2])  # drop the albumin rows
    summary = add_trial(db, inc, "mini")
    assert summary.studies == ["Beta2012"]
    assert (summary.updated, summary.deleted) == (1, 2)
    out = db.curation_rows("mini", "outcomes")
    assert len(out) == 6  # Alpha2010's four rows untouched, Beta2012 now two
    beta = out[(out["study_id"] == "Beta2012") & (out["arm_id"] == "trt")]
    assert beta["mean"].tolist() == [11.2]
    # the risk-of-bias sheet was not given: Beta2012's judgement stays
    assert "Beta2012" in set(db.curation_rows("mini", "risk_of_bias")["study_id"])


def test_add_trial_needs_a_review(sheet_copy: Path, db: Store) -> None:
    with pytest.raises(InputError, match="give --review"):
        add_trial(db, sheet_copy)


def test_add_trial_infers_review_from_path(mini: Path, db: Store) -> None:
    assert add_trial(db, mini / "extraction").review == "mini"


def test_derived_sd_is_stored_with_how_and_follows_a_corrected_se(mini: Path, db: Store) -> None:
    load_review(db, "mini")
    out = db.curation_rows("mini", "outcomes")
    row = out[(out["study_id"] == "Beta2012") & (out["arm_id"] == "trt")].iloc[0]
    # sheet: se 0.5, n 30 -> sd = 0.5 * sqrt(30) (Cochrane Handbook 6.5.2.2)
    assert row["sd"] == pytest.approx(0.5 * 30**0.5)
    assert row["derivation"].startswith("registry derived sd: SD = SE x sqrt(n)")
    set_cell(mini / "extraction", "outcomes", 4, "se", "0.6")
    summary = load_review(db, "mini")
    assert summary.updated == 1
    out = db.curation_rows("mini", "outcomes")
    row = out[(out["study_id"] == "Beta2012") & (out["arm_id"] == "trt")].iloc[0]
    assert row["sd"] == pytest.approx(0.6 * 30**0.5)


def test_cli_load_history_validate(mini: Path, tmp_path: Path) -> None:
    dbfile = str(tmp_path / "cli.duckdb")
    run = CliRunner().invoke
    r = run(app, ["--db", dbfile, "load-review", "mini"])
    assert r.exit_code == 0 and "rows inserted 20" in r.output, r.output
    r = run(app, ["--db", dbfile, "load-review", "mini"])
    assert r.exit_code == 0 and "nothing changed" in r.output
    r = run(app, ["--db", dbfile, "history", "Alpha2010"])
    assert r.exit_code == 0 and "insert studies[Alpha2010].pmid: ∅ -> '12345678'" in r.output
    r = run(app, ["--db", dbfile, "history", "Nobody1999"])
    assert r.exit_code == 2 and "no curation history" in r.output
    r = run(app, ["--db", dbfile, "validate"])
    assert r.exit_code == 0 and "0 problem(s)" in r.output, r.output


def test_validate_finds_a_stored_value_the_protocol_now_rejects(mini: Path, tmp_path: Path) -> None:
    dbfile = tmp_path / "v.duckdb"
    with Store(dbfile) as s:
        load_review(s, "mini")
    # tighten the protocol: albumin must now lie within [35, 60] g/L; 3.1 g/dL = 31 g/L fails
    proto = mini / "protocol.yaml"
    proto.write_text(
        proto.read_text().replace("plausible_range: [10, 60]", "plausible_range: [35, 60]")
    )
    r = CliRunner().invoke(app, ["--db", str(dbfile), "validate", "--review", "mini"])
    assert r.exit_code == 3, r.output
    assert "registry mini/outcomes (row as exported): row 7, column mean, value '3.1'" in r.output
    assert "plausible range" in r.output
    # the protocol file gone: the snapshot stored at load time is used, and it passes
    proto.unlink()
    r = CliRunner().invoke(app, ["--db", str(dbfile), "validate", "--review", "mini"])
    assert r.exit_code == 0, r.output


def test_mean_and_sd_from_median_are_derived_and_rederived(mini: Path, db: Store) -> None:
    x = mini / "extraction"
    for col, v in (("mean", ""), ("sd", ""), ("median", "13"), ("q1", "11"), ("q3", "15")):
        set_cell(x, "outcomes", 5, col, v)  # Beta2012 ctl score, n 29
    load_review(db, "mini")
    out = db.curation_rows("mini", "outcomes")
    row = out[(out["study_id"] == "Beta2012") & (out["arm_id"] == "ctl")].iloc[0]
    # Luo 2018 (C3): w = 0.7 + 0.39/29 = 0.713448; mean = w * (11 + 15)/2 + (1 - w) * 13 = 13
    # (symmetric quartiles); Wan 2014 (C3): SD = 4 / (2 * Phi^-1((0.75*29 - 0.125)/29.25))
    assert row["mean"] == pytest.approx(13.0)
    assert row["derivation"].startswith("registry derived mean, sd: S3 (q1, median, q3)")
    set_cell(x, "outcomes", 5, "q3", "17")
    load_review(db, "mini")
    out = db.curation_rows("mini", "outcomes")
    row = out[(out["study_id"] == "Beta2012") & (out["arm_id"] == "ctl")].iloc[0]
    # mean = 0.713448 * 14 + 0.286552 * 13 = 13.713448
    assert row["mean"] == pytest.approx(13.713448, abs=1e-6)


def test_cli_gaps_export_and_errors(mini: Path, tmp_path: Path) -> None:
    dbfile = str(tmp_path / "g.duckdb")
    run = CliRunner().invoke
    assert run(app, ["--db", dbfile, "load-review", "mini"]).exit_code == 0
    r = run(app, ["--db", dbfile, "gaps"])  # the only review: no --review needed
    assert r.exit_code == 0 and r.output.startswith("mini: 6 gap(s)"), r.output
    assert "Beta2012" in r.output and "no Death values extracted" in r.output
    r = run(app, ["--db", dbfile, "gaps", "--status", "missing dispersion"])
    assert r.exit_code == 0 and r.output.startswith("mini: 0 gap(s)")
    r = run(app, ["--db", dbfile, "extract", "export", "--review", "nope", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no protocol file" in r.output
    r = run(app, ["--db", dbfile, "add-trial", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "give --review" in r.output
    r = run(app, ["--db", dbfile, "add-trial", str(tmp_path / "missing"), "--review", "mini"])
    assert r.exit_code == 2 and "not a folder of CSV sheets" in r.output


def test_review_folder_with_a_workbook_loads_the_same(mini: Path, tmp_path: Path) -> None:
    import pandas as pd

    with Store(tmp_path / "csv.duckdb") as s:
        load_review(s, "mini")
        from_csv = {sh: s.curation_rows("mini", sh) for sh in ("studies", "arms", "outcomes")}
    with pd.ExcelWriter(mini / "extraction.xlsx") as xw:
        for f in sorted((mini / "extraction").glob("*.csv")):
            pd.read_csv(f, dtype=str, keep_default_na=False).to_excel(
                xw, sheet_name=f.stem, index=False
            )
    shutil.rmtree(mini / "extraction")
    with Store(tmp_path / "xlsx.duckdb") as s:
        assert load_review(s, "mini").inserted == 20
        for sh, df in from_csv.items():
            pd.testing.assert_frame_equal(s.curation_rows("mini", sh), df)


def test_a_new_protocol_snapshot_is_audited(mini: Path, db: Store) -> None:
    assert load_review(db, "mini").protocol_updated
    proto = mini / "protocol.yaml"
    proto.write_text(proto.read_text().replace("Mini review for", "Small review for"))
    before = db.audit_count()
    summary = load_review(db, "mini")
    assert summary.protocol_updated and not summary.changed
    assert "protocol snapshot updated" in str(summary)
    assert db.audit_count() == before + 1
    assert "Small review for" in db.stored_protocol("mini")[0]
    assert not load_review(db, "mini").protocol_updated


def test_validate_reports_a_broken_protocol_file(mini: Path, tmp_path: Path) -> None:
    dbfile = str(tmp_path / "b.duckdb")
    assert CliRunner().invoke(app, ["--db", dbfile, "load-review", "mini"]).exit_code == 0
    (mini / "protocol.yaml").write_text("review: mini\ntitle: x\noutcomes: []\nbogus: 1\n")
    r = CliRunner().invoke(app, ["--db", dbfile, "validate"])
    assert r.exit_code == 2 and "bogus: unknown key" in r.output, r.output
