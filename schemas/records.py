"""pandera schema guarding the ingest boundary: parsed records before they are stored.

``records_frame`` turns parser output into one row per record; ``validate_records``
checks every row lazily and returns every problem at once, each naming the record
(position and PMID) and the column, so a bad export is reported in full, not one error
at a time.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import fields

import pandas as pd
import pandera.pandas as pa

from ingest.records import Record

PMID_RE = r"^\d{1,9}$"
DOI_RE = r"^10\.\d{4,9}/\S+$"
PMCID_RE = r"^PMC\d{1,9}$"
ISO_DATE_RE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
# Earliest printed journal in PubMed's range (OLDMEDLINE reaches back to the 1600s);
# a year after next year is a typo.
MIN_YEAR = 1600

_LIST_FIELDS = (
    "authors",
    "publication_types",
    "mesh_terms",
    "keywords",
    "languages",
    "registry_ids",
)
_REGISTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/.]*[0-9][A-Za-z0-9\-/.]*$")  # no spaces


def records_frame(records: Iterable[Record]) -> pd.DataFrame:
    """One row per record: the scalar fields as they are, list fields as Python lists,
    plus ``n_authors``, ``first_author``, ``is_retracted`` and ``n_abstract_sections``."""
    scalar = [
        f.name
        for f in fields(Record)
        if f.name not in _LIST_FIELDS + ("abstract_sections", "comments")
    ]
    rows = []
    for r in records:
        row = {name: getattr(r, name) for name in scalar}
        for name in _LIST_FIELDS:
            row[name] = list(getattr(r, name))
        row["n_authors"] = len(r.authors)
        row["first_author"] = r.authors[0] if r.authors else None
        row["n_abstract_sections"] = len(r.abstract_sections)
        row["comment_types"] = [c.ref_type for c in r.comments]
        row["is_retracted"] = r.is_retracted
        rows.append(row)
    columns = (
        scalar
        + list(_LIST_FIELDS)
        + ["n_authors", "first_author", "n_abstract_sections", "comment_types", "is_retracted"]
    )
    df = pd.DataFrame(rows, columns=columns)
    df["year"] = df["year"].astype("Int64")
    return df


def _non_blank(s: pd.Series) -> pd.Series:
    return s.map(lambda v: isinstance(v, str) and bool(v.strip()))


def _list_of_strings(s: pd.Series) -> pd.Series:
    return s.map(lambda v: isinstance(v, list) and all(isinstance(x, str) and x for x in v))


def _registry_ids_ok(s: pd.Series) -> pd.Series:
    return s.map(
        lambda v: (
            isinstance(v, list)
            and all(isinstance(x, str) and bool(_REGISTRY_ID.match(x)) for x in v)
        )
    )


def _optional_str(pattern: str, name: str) -> pa.Column:
    return pa.Column(
        nullable=True,
        checks=pa.Check.str_matches(pattern, name=name, error=f"must match {pattern}"),
    )


def records_schema(max_year: int | None = None) -> pa.DataFrameSchema:
    """The schema (a function so the upper year bound follows the calendar)."""
    top = max_year or _dt.date.today().year + 1
    return pa.DataFrameSchema(
        {
            "source": pa.Column(
                checks=pa.Check(_non_blank, name="non-empty", error="source must be named")
            ),
            "pmid": _optional_str(PMID_RE, "pmid digits"),
            "doi": _optional_str(DOI_RE, "doi form"),
            "pmcid": _optional_str(PMCID_RE, "pmcid form"),
            "title": pa.Column(
                checks=pa.Check(_non_blank, name="non-empty", error="title is empty")
            ),
            "year": pa.Column(
                "Int64",
                nullable=True,
                checks=pa.Check.in_range(
                    MIN_YEAR, top, name="year range", error=f"year outside {MIN_YEAR}-{top}"
                ),
            ),
            "entrez_date": _optional_str(ISO_DATE_RE, "ISO date"),
            "record_type": pa.Column(checks=pa.Check.isin(["article", "book"])),
            "authors": pa.Column(
                checks=pa.Check(
                    _list_of_strings, name="list of names", error="must be a list of names"
                )
            ),
            "publication_types": pa.Column(
                checks=pa.Check(_list_of_strings, name="list of strings")
            ),
            "mesh_terms": pa.Column(checks=pa.Check(_list_of_strings, name="list of strings")),
            "registry_ids": pa.Column(
                checks=pa.Check(
                    _registry_ids_ok, name="trial registry ids", error="not a trial registry id"
                )
            ),
        },
        strict=False,
        coerce=False,
        name="parsed records",
    )


def validate_records(df: pd.DataFrame, *, max_year: int | None = None) -> list[str]:
    """Every problem in ``df`` (a :func:`records_frame`), one string each:
    ``record 3 (PMID 123): column 'doi': value 'x' must match ...``. Empty list = valid."""
    try:
        records_schema(max_year).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _messages(exc.failure_cases, df)
    return []


def _messages(fc: pd.DataFrame, df: pd.DataFrame) -> list[str]:
    out: list[str] = []
    for row in fc.itertuples(index=False):
        idx = getattr(row, "index", None)
        column = getattr(row, "column", None)
        check = getattr(row, "check", None)
        value = getattr(row, "failure_case", None)
        if idx is None or (isinstance(idx, float) and pd.isna(idx)):
            # Schema-level problem (a missing column, a wrong dtype).
            out.append(f"column {column!r}: {check}: {value}")
            continue
        where = f"record {int(idx) + 1}"
        if "pmid" in df.columns:
            pmid = df.at[idx, "pmid"]
            if isinstance(pmid, str) and pmid:
                where += f" (PMID {pmid})"
        out.append(f"{where}: column {column!r}: {value!r}: {check}")
    return out
