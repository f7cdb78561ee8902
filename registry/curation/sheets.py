"""Reading extraction sheets: a folder of CSV files or one XLSX workbook.

Every cell is read as text (so ``007`` or ``1.50`` reach validation as typed), stripped;
an empty cell becomes None (= not reported, never 0). The frame index is the position of
the data row, so the row a curator sees in a spreadsheet is ``index + 2`` (header = row 1);
blank rows are dropped without renumbering the rows after them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from registry.errors import InputError
from schemas.sheet_format import EXTRACTION_SHEETS
from schemas.values import is_missing

XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class SheetSet:
    """The sheets of one extraction (or a review's published results)."""

    origin: Path
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    # sheet -> "studies.csv" or "x.xlsx[studies]"
    labels: dict[str, str] = field(default_factory=dict)

    def frame(self, sheet: str) -> pd.DataFrame:
        """The sheet's frame (empty if the sheet was not given)."""
        return self.frames.get(sheet, pd.DataFrame())

    def label(self, sheet: str) -> str:
        """How errors name the sheet's file."""
        return self.labels.get(sheet, f"{sheet}.csv")


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.astype(object)
    df.columns = [str(c).strip() for c in df.columns]

    def cell(v: object) -> object:
        if is_missing(v):
            return None
        text = str(v).strip()
        return text or None

    out = df.map(cell) if len(df) else df
    # drop rows that are entirely empty (blank lines in a spreadsheet) but keep the index:
    # index + 2 stays the row number the curator sees
    if len(out):
        out = out[out.notna().any(axis=1)]
    out = out.loc[:, [c for c in out.columns if c and not c.startswith("Unnamed:")]]
    out = out.astype(object)
    # pandas may turn an all-None column into NaN: empty cells are None, always
    return out.where(out.notna(), None)


def read_csv(path: Path) -> pd.DataFrame:
    """One CSV sheet, all cells as text."""
    try:
        df = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot read CSV: {exc}") from exc
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    dup = [c for c in df.columns if "." in c and c.rsplit(".", 1)[0] in df.columns]
    if dup:
        raise InputError(f"{path}: duplicate column names: {', '.join(dup)}")
    return _clean(df)


def read_sheets(path: str | Path, names: tuple[str, ...] = EXTRACTION_SHEETS) -> SheetSet:
    """Read ``names`` from a folder of ``<name>.csv`` files or from an XLSX workbook.

    Absent sheets are simply not in the result (an add-trial may carry only some); a path
    that is neither raises InputError.
    """
    p = Path(path)
    out = SheetSet(origin=p)
    if p.is_dir():
        for name in names:
            f = p / f"{name}.csv"
            if f.is_file():
                out.frames[name] = read_csv(f)
                out.labels[name] = str(f)
        if not out.frames:
            raise InputError(
                f"{p}: no extraction sheets found (expected {', '.join(n + '.csv' for n in names)})"
            )
        return out
    if p.is_file() and p.suffix.lower() in XLSX_SUFFIXES:
        try:
            book = pd.read_excel(p, sheet_name=None, dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise InputError(f"{p}: cannot read workbook: {exc}") from exc
        for name in names:
            if name in book:
                out.frames[name] = _clean(book[name])
                out.labels[name] = f"{p}[{name}]"
        if not out.frames:
            raise InputError(f"{p}: workbook has none of the sheets {', '.join(names)}")
        return out
    if p.is_file() and p.suffix.lower() == ".csv":
        name = p.stem
        if name not in names:
            raise InputError(f"{p}: a single CSV must be named one of {', '.join(names)}")
        out.frames[name] = read_csv(p)
        out.labels[name] = str(p)
        return out
    raise InputError(f"{p}: not a folder of CSV sheets or an .xlsx workbook")
