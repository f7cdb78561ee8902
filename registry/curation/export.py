"""Writing a stored review back out as extraction CSVs (the round trip of add-trial).

Cells go through :mod:`registry.csvout`: a text cell a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``, tab, CR first) is written with a protective quote, which
:func:`registry.curation.sheets.read_csv` removes when the file comes back; numbers are
written as numbers (a negative mean is a number, not a formula).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from registry.csvout import write_csv
from registry.errors import InputError
from registry.store import Store
from schemas.sheet_format import EXTRACTION_SHEETS, columns_for

from .inputs import review_protocol
from .load import canon


def _ordered_columns(sheet: str, df: pd.DataFrame, base: list[str]) -> list[str]:
    """Format columns first, then each value's X_source / X_location right after nothing else."""
    extra = [c for c in df.columns if c not in base]
    return base + sorted(extra)


def _cell(v: Any) -> Any:
    """Text as audited (:func:`canon`); numbers as numbers, in their shortest exact form."""
    t = canon(v)
    if t is None:
        return ""
    if isinstance(v, int | float) and not isinstance(v, bool):
        f = float(v)
        return int(f) if t == str(int(f)) else f
    return t


def export_review(store: Store, review: str, out: str | Path) -> list[Path]:
    """Write the review's stored sheets (and published results) as CSVs into ``out``.

    Columns are the format's, then the protocol's characteristics, then any X_source /
    X_location columns; numbers are written in their shortest exact form.
    """
    protocol = review_protocol(store, review)
    if review not in store.curated_reviews():
        raise InputError(f"review {review!r} has no curated data in the registry")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for sheet in (*EXTRACTION_SHEETS, "published_results"):
        df = store.curation_rows(review, sheet)
        if sheet == "published_results" and df.empty:
            continue
        base = list(columns_for(sheet, protocol))
        cols = _ordered_columns(sheet, df, base)
        path = folder / f"{sheet}.csv"
        records = df.to_dict("records") if len(df) else []
        write_csv(path, cols, ([_cell(rec.get(c)) for c in cols] for rec in records))
        written.append(path)
    return written
