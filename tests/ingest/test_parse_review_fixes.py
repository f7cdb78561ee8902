"""Fixes from review: namesake co-authors kept, entities a file declares resolved."""

from __future__ import annotations

from pathlib import Path

from ingest.medline import iter_medline
from ingest.pubmed_xml import iter_pubmed_xml
from ingest.records import Record


def test_namesake_coauthors_are_two_people(fixtures: Path) -> None:
    # searchbuildR/custom_rct_popset.txt, PMID 30541549: FAU "Liu, Jufen" and "Liu, Jianmeng"
    # are both AU "Liu J" (read in the file)
    path = str(fixtures / "searchbuildR" / "custom_rct_popset.txt")
    recs = {r.pmid: r for r in iter_medline(path, source_name="pubmed")
            if isinstance(r, Record)}
    assert recs["30541549"].authors == ["Liu J", "Li Z", "Ye R", "Liu J", "Ren A"]


def test_entity_declared_in_the_file_is_resolved(fixtures: Path) -> None:
    raw = (fixtures / "biopython" / "pubmed1.xml").read_text(encoding="utf-8")
    head, _, body = raw.partition("<PubmedArticleSet>")
    head = head[: head.index("<!DOCTYPE")] + '<!DOCTYPE PubmedArticleSet [<!ENTITY agr "&#945;">]>'
    body = body.replace("<ArticleTitle>", "<ArticleTitle>&agr;-test ", 1)
    recs = [r for r in iter_pubmed_xml((head + "<PubmedArticleSet>" + body).encode())
            if isinstance(r, Record)]
    assert recs[0].title.startswith("α-test ")
