"""Helpers for the dedup tests: import real fixture records, write RIS "exports" of them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ingest.detect import parse_file
from ingest.records import Record
from registry.store import Store


def parse(path: Path, source: str = "pubmed") -> list[Record]:
    """Every Record in a fixture file (parse problems dropped)."""
    return [r for r in parse_file(path, source_name=source) if isinstance(r, Record)]


def by_pmid(path: Path) -> dict[str, Record]:
    """Records of a PubMed fixture keyed by PMID."""
    return {r.pmid: r for r in parse(path) if r.pmid}


def add(store: Store, records: Iterable[Record], *, source: str, review: str | None = "rv",
        file_name: str | None = None) -> list[int]:
    """Store records through the records verb as one import run; their record ids."""
    run = store.record_search_run(
        source=source, kind="import", tool_version="test", review=review, file_name=file_name
    )
    res = store.add_records(list(records), run_id=run)
    return list(res.record_ids)


def import_file(store: Store, path: Path, *, source: str, review: str | None = "rv") -> list[int]:
    """Parse a file with the real parsers and store it as one import run."""
    return add(store, parse(path, source), source=source, review=review, file_name=str(path))


def write_ris(path: Path, entries: list[dict[str, object]]) -> Path:
    """A RIS file as Embase/Web of Science exports look (one dict of tag -> value(s) per
    record), so the real RIS parser reads it."""
    lines: list[str] = []
    for e in entries:
        lines.append("TY  - JOUR")
        for tag, value in e.items():
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v is not None and v != "":
                    lines.append(f"{tag}  - {v}")
        lines.append("ER  - ")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def ris_entry(rec: Record, **override: object) -> dict[str, object]:
    """RIS tags for a parsed PubMed record ("Surname, Initials" authors, full journal
    name, no PMID unless AN is given). ``override`` replaces tags (None drops one)."""
    authors = []
    for a in rec.authors:
        parts = a.rsplit(" ", 1)
        authors.append(f"{parts[0]}, {parts[1]}" if len(parts) == 2 else a)
    entry: dict[str, object] = {
        "TI": rec.title,
        "AU": authors,
        "PY": rec.year,
        "T2": rec.journal,
        "VL": rec.volume,
        "IS": rec.issue,
        "SP": (rec.pages or "").split("-")[0] or None,
        "DO": rec.doi,
        "AB": rec.abstract,
    }
    entry.update(override)
    return {k: v for k, v in entry.items() if v is not None}


def uncertain_copies(pubmed_file: Path) -> list[dict[str, object]]:
    """Embase-style copies of three records of ncbiutils/pubmed.xml that score between the
    thresholds: trailing words or subtitle dropped, no authors, journal spelt out."""
    recs = by_pmid(pubmed_file)
    return [
        ris_entry(recs["33278872"], AN="L20", DO=None, AU=None,
                  T2="Communicable Diseases Intelligence",
                  TI="Physical distancing and non-respiratory notifiable diseases in the "
                     "Northern Territory"),
        ris_entry(recs["30158200"], AN="L21", DO=None, AU=None, T2="British Medical Journal",
                  TI="Assessment of the genetic and clinical determinants of fracture risk"),
        ris_entry(recs["24792780"], AN="L22", DO=None, AU=None, T2="Clinical Toxicology",
                  TI="Evaluation of dexmedetomidine therapy for sedation in patients with "
                     "toxicological events"),
    ]
