"""`registry update` with the new living sources: the bundled review with live
ClinicalTrials.gov and Europe PMC searches added, PubMed and the three JSON APIs replayed
on loopback (real clients, real recorded responses, base URLs from the environment)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from replay import ReplayServer, load_corpus
from test_sources_protocol import EXTRA  # the same two live saved searches
from typer.testing import CliRunner

from ingest.pubmed_xml import iter_pubmed_xml
from ingest.records import Record
from registry.cli import app
from registry.store import Store
from schemas.protocol import REVIEWS_DIR

REVIEW = "msc-cirrhosis"
PMID = "11618220"  # a real PubMed record (fixtures/pubmed/metapub/pmid_xml)
runner = CliRunner()


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The bundled review with live ClinicalTrials.gov and Europe PMC searches, in a
    scratch reviews folder (the bundled protocol itself has none)."""
    dest = tmp_path / "reviews" / REVIEW
    shutil.copytree(REVIEWS_DIR / REVIEW, dest)
    text = (dest / "protocol.yaml").read_text(encoding="utf-8")
    (dest / "protocol.yaml").write_text(text.replace("\neligibility:", EXTRA + "\neligibility:",
                                                     1), encoding="utf-8")
    monkeypatch.setenv("REGISTRY_REVIEWS", str(tmp_path / "reviews"))
    return REVIEW


def _pubmed_record(fixtures: Path) -> Record:
    raw = (fixtures / "metapub" / "pmid_xml" / f"{PMID}.xml").read_bytes()
    [rec] = [r for r in iter_pubmed_xml(raw, source_name="pubmed", file_label="x")
             if isinstance(r, Record)]
    return rec


def test_update_lists_trials_counts_once_and_reports_a_retraction(
    review: str, tmp_path: Path, fixtures: Path, api, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = {PMID: load_corpus(fixtures, sets=("metapub/pmid_xml",))[PMID]}
    rec = _pubmed_record(fixtures)
    # Europe PMC returns the article PubMed already gave. No such pair was recorded, so the
    # replay serves a 'lite' result built from the PubMed record's own PMID, DOI and title,
    # in the recorded results' shape, next to two recorded results.
    api.epmc = [dict(api.epmc[0], id=rec.pmid, pmid=rec.pmid, doi=rec.doi, title=rec.title,
                     firstIndexDate="2026-11-30")] + api.epmc[1:3]
    for kind, env in (("ctgov", "CTGOV_URL"), ("europepmc", "EUROPEPMC_URL"),
                      ("crossref", "CROSSREF_URL")):
        monkeypatch.setenv(env, api.url(kind))
    db, out = tmp_path / "r.duckdb", tmp_path / "out"
    args = ["--db", str(db), "update", "--review", review, "--out", str(out),
            "--fail-on-change"]
    with ReplayServer(corpus) as ncbi:
        monkeypatch.setenv("NCBI_EUTILS_URL", ncbi.url)
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output  # nothing news-worthy yet
        assert "unreachable" not in first.output
        md = (out / review / "report.md").read_text(encoding="utf-8")
        with Store(db) as s:
            ident = s.prisma_identification(review)
            trials = s.trials(review)
        assert ident["records_identified"] == {"pubmed": 1, "europepmc": 3}
        assert ident["duplicates_removed"] == 1  # the article both gave is counted once
        assert "| Identification | Records from europepmc | 3 | registry |" in md
        # every recorded trial is new; none links to a stored publication
        assert len(trials) == len(api.studies) == 6
        assert (f"| Identification (registers) | Records identified from registers: "
                f"ClinicalTrials.gov | {len(trials)} | registry |") in md
        listed = md.split("## Ongoing and unpublished trials (awaiting classification)")[1]
        listed = listed.split("\n## ")[0]
        assert all(f"| {t['nct_id']} |" in listed for t in trials)
        assert "Integrity:" not in md

        # Salama2014's DOI as curated in data/reviews/msc-cirrhosis/extraction/studies.csv.
        # No retraction of it exists: the replay builds one from a real PLOS correction
        # notice (tests/sources/apis.py, add_retraction).
        notice = api.add_retraction("10.1186/scrt459")
        second = runner.invoke(app, args)
        assert second.exit_code == 10, second.output
        assert f"Salama2014: retraction (crossref update-to, notice {notice})" in second.output
    md = (out / review / "report.md").read_text(encoding="utf-8")
    assert (f"- **Integrity:** Salama2014: retraction (crossref update-to, notice {notice}, "
            "2026-11-02)") in md
    assert "| Salama2014 \\[retracted\\] |" in md  # brackets escaped in Markdown
    html = (out / review / "report.html").read_text(encoding="utf-8")
    assert "Salama2014 [retracted]" in html and "Ongoing and unpublished trials" in html
    # a third update: the retraction is known, no longer news
    with ReplayServer(corpus) as ncbi:
        monkeypatch.setenv("NCBI_EUTILS_URL", ncbi.url)
        third = runner.invoke(app, args)
    assert third.exit_code == 0, third.output
