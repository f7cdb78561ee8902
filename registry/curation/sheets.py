"""Reading extraction sheets: a folder of CSV files or one XLSX workbook.

Every cell is read as text (so ``007`` or ``1.50`` reach validation as typed), stripped;
an empty cell becomes None (= not reported, never 0). The frame index is the position of
the data row, so the row a curator sees in a spreadsheet is ``index + 2`` (header = row 1);
blank rows are dropped without renumbering the rows after them.

Nothing a curator wrote is ignored silently: a sheet or file whose name is not one of the
format's is an error listing the expected names; a formula cell gives the value the
spreadsheet program last computed, and an error naming the sheet and cell when it has none;
a hidden extraction sheet is read and named in a warning. Hostile input stays bounded: a
workbook is streamed row by row (openpyxl read-only) and refused past ``MAX_ROWS`` rows per
sheet or when its compressed parts would expand beyond ``MAX_XML_BYTES``.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from registry.csvout import restore_cell
from registry.errors import InputError
from schemas.sheet_format import EXTRACTION_SHEETS
from schemas.values import is_missing

XLSX_SUFFIXES = (".xlsx", ".xlsm")
# files in a sheet folder that hold tables: any other name than the format's is a mistake
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods")
# sheets `registry extract template` writes besides the data sheets
HELPER_SHEETS = ("instructions", "lists")
# written by `registry extract export` beside the extraction sheets; loaded only from a
# review folder (load-review), so elsewhere it is named in a warning, never read silently
PUBLISHED = "published_results"
# An extraction sheet holds one row per study x arm x outcome x time point: a few thousand
# rows for the largest reviews. Far beyond that is a wrong file, refused before it fills
# memory (issue 10: a 1,000,000-row workbook).
MAX_ROWS = 100_000
MAX_COLUMNS = 1_000
MAX_XML_BYTES = 512 * 1024**2  # uncompressed size of any one part of a workbook
# tags found by a byte scan (an optional namespace prefix, as some writers use)
_FORMULA_TAG = re.compile(rb"<(?:\w{1,10}:)?f[\s>/]")
_ROW_TAG = re.compile(rb"<(?:\w{1,10}:)?row[\s>]")
_TAG_MAX = 16


@dataclass
class SheetSet:
    """The sheets of one extraction (or a review's published results)."""

    origin: Path
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    # sheet -> "studies.csv" or "x.xlsx[studies]"
    labels: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

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
        # a cell this registry exported with a protective quote reads back as written
        text = str(restore_cell(str(v))).strip()
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
    """One CSV sheet, all cells as text (InputError past ``MAX_ROWS`` data rows)."""
    try:
        df = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
            skip_blank_lines=False, nrows=MAX_ROWS + 1,
        )  # fmt: skip
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot read CSV: {exc}") from exc
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    if len(df) > MAX_ROWS:
        raise InputError(_too_many_rows(str(path)))
    dup = [c for c in df.columns if "." in c and c.rsplit(".", 1)[0] in df.columns]
    if dup:
        raise InputError(f"{path}: duplicate column names: {', '.join(dup)}")
    return _clean(df)


def _too_many_rows(label: str) -> str:
    return (f"{label}: more than {MAX_ROWS:,} rows; an extraction sheet holds one row per "
            "study, arm, outcome and time point (is this the right file?); nothing was read")


def _expected(names: tuple[str, ...], suffix: str = "") -> str:
    return ", ".join(n + suffix for n in names)


def _not_read(origin: Path, what: str) -> str:
    return (f"{origin}: {what} was not read (published results load from the review "
            "folder's published_results.csv with load-review)")  # fmt: skip


def _read_folder(p: Path, names: tuple[str, ...]) -> SheetSet:
    out = SheetSet(origin=p)
    known = {n + ".csv" for n in names}
    if PUBLISHED not in names and (p / f"{PUBLISHED}.csv").is_file():
        known.add(f"{PUBLISHED}.csv")
        out.warnings.append(_not_read(p, f"{PUBLISHED}.csv"))
    unknown = sorted(
        f.name for f in p.iterdir()
        if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in TABLE_SUFFIXES
        and f.name not in known
    )  # fmt: skip
    if unknown:
        raise InputError(
            f"{p}: unknown sheet file(s) {', '.join(unknown)}; the sheets must be named "
            f"{_expected(names, '.csv')} (nothing was stored)"
        )
    for name in names:
        f = p / f"{name}.csv"
        if f.is_file():
            out.frames[name] = read_csv(f)
            out.labels[name] = str(f)
    if not out.frames:
        raise InputError(f"{p}: no extraction sheets found (expected {_expected(names, '.csv')})")
    return out


def read_sheets(path: str | Path, names: tuple[str, ...] = EXTRACTION_SHEETS) -> SheetSet:
    """Read ``names`` from a folder of ``<name>.csv`` files or from an XLSX workbook.

    Absent sheets are simply not in the result (an add-trial may carry only some); unknown
    sheet or file names, and a path that is neither, raise InputError.
    """
    p = Path(path)
    if p.is_dir():
        return _read_folder(p, names)
    if p.is_file() and p.suffix.lower() in XLSX_SUFFIXES:
        return _read_workbook(p, names)
    if p.is_file() and p.suffix.lower() == ".csv":
        name = p.stem
        if name not in names:
            raise InputError(f"{p}: a single CSV must be named one of {_expected(names, '.csv')}")
        return SheetSet(origin=p, frames={name: read_csv(p)}, labels={name: str(p)})
    raise InputError(f"{p}: not a folder of CSV sheets or an .xlsx workbook")


# --------------------------------------------------------------------------------------
# workbooks: streamed, formulas resolved to their cached values
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _PartScan:
    """What a byte scan of one worksheet's XML found (before any XML parser runs)."""

    rows: int  # <row> elements, counted up to MAX_ROWS + 2
    formulas: bool  # any <f> element


def _scan_stream(stream: IO[bytes]) -> _PartScan:
    rows, formulas, keep = 0, False, b""
    while True:
        chunk = stream.read(1 << 20)
        buf = keep + chunk
        # a tag starting in the last bytes is counted with the next chunk
        limit = len(buf) - _TAG_MAX if chunk else len(buf)
        rows += sum(1 for m in _ROW_TAG.finditer(buf) if m.start() < limit)
        formulas = formulas or any(m.start() < limit for m in _FORMULA_TAG.finditer(buf))
        if not chunk or rows > MAX_ROWS + 1:
            return _PartScan(rows, formulas)
        keep = buf[limit:]


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part, from xl/workbook.xml and its relationships."""
    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): str(r.get("Target")) for r in rels}
    out = {}
    for sheet in book.iter(f"{ns_main}sheet"):
        t = target.get(sheet.get(f"{ns_rel}id"), "")
        out[str(sheet.get("name"))] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    return out


def _scan_workbook(p: Path) -> dict[str, _PartScan]:
    """Per sheet: rows and formulas, found by streaming its bytes (a bomb never expands).

    Refuses a part whose declared size is past ``MAX_XML_BYTES`` and a sheet past
    ``MAX_ROWS`` rows before openpyxl parses anything (openpyxl walks a whole sheet to
    find its size when the file does not declare it).
    """
    try:
        with zipfile.ZipFile(p) as z:
            big = [i for i in z.infolist() if i.file_size > MAX_XML_BYTES]
            if big:
                raise InputError(
                    f"{p}: part {big[0].filename} expands to {big[0].file_size:,} bytes "
                    f"(limit {MAX_XML_BYTES:,}); not an extraction workbook"
                )
            out = {}
            for name, part in _sheet_parts(z).items():
                with z.open(part) as fh:
                    out[name] = _scan_stream(fh)
                if out[name].rows > MAX_ROWS + 1:
                    raise InputError(_too_many_rows(f"{p}[{name}]"))
            return out
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as exc:
        raise InputError(f"{p}: cannot read workbook: {exc}") from exc


def _cell_text(value: Any) -> str | None:
    """A cell value as the text a curator typed (numbers in their shortest form)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _formula_error(p: Path, name: str, row: int, col: int, formula: Any) -> InputError:
    return InputError(
        f"{p}[{name}] cell {get_column_letter(col + 1)}{row + 1}: formula {formula} has no "
        "stored value (the workbook was written by a program that does not compute "
        "formulas); type the value, or open and save the workbook in a spreadsheet program"
    )


def _rows(p: Path, name: str, ws_values: Any, ws_formulas: Any | None) -> Iterator[list[Any]]:
    """The sheet's rows as text, cached values in place of formulas, at most MAX_ROWS + 1.

    ``ws_formulas`` (the same sheet read with its formulas) is given only when the sheet
    has formulas; rows of both views are read in step.
    """
    rows_v = ws_values.iter_rows(values_only=True)
    rows_f = ws_formulas.iter_rows() if ws_formulas is not None else None
    for i, values in enumerate(rows_v):
        if i > MAX_ROWS:  # header + MAX_ROWS data rows
            raise InputError(_too_many_rows(f"{p}[{name}]"))
        if rows_f is not None:
            for j, cell in enumerate(next(rows_f, ())):
                cached = values[j] if j < len(values) else None
                if getattr(cell, "data_type", None) == "f" and cached is None:
                    raise _formula_error(p, name, i, j, cell.value)
        yield [_cell_text(v) for v in values]


def _frame(p: Path, name: str, rows: Iterator[list[Any]]) -> pd.DataFrame:
    header = next(rows, None)
    if not header:
        return pd.DataFrame()
    width = max((j + 1 for j, h in enumerate(header) if h is not None), default=0)
    cols = [h if h is not None else f"Unnamed: {j}" for j, h in enumerate(header[:width])]
    data = [(r + [None] * width)[:width] for r in rows]
    dup = [c for c, n in Counter(cols).items() if n > 1]
    if dup:
        raise InputError(f"{p}[{name}]: duplicate column names: {', '.join(dup)}")
    return pd.DataFrame(data, columns=cols, dtype=object)


def _read_workbook(p: Path, names: tuple[str, ...]) -> SheetSet:
    scans = _scan_workbook(p)
    try:
        values = load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise InputError(f"{p}: cannot read workbook: {exc}") from exc
    formulas = None
    try:
        unknown = [n for n in values.sheetnames
                   if n not in names and n not in (*HELPER_SHEETS, PUBLISHED)]  # fmt: skip
        if unknown:
            raise InputError(
                f"{p}: unknown sheet(s) {', '.join(unknown)}; the sheets must be named "
                f"{_expected(names)} (nothing was stored)"
            )
        out = SheetSet(origin=p)
        if PUBLISHED in values.sheetnames and PUBLISHED not in names:
            out.warnings.append(_not_read(p, f"sheet {PUBLISHED}"))
        for name in (n for n in names if n in values.sheetnames):
            ws = values[name]
            _check_size(p, name, ws)
            if ws.sheet_state != "visible":
                out.warnings.append(f"{p}: sheet {name} is {ws.sheet_state} in the workbook; "
                                    "it was read like the others")  # fmt: skip
            ws_f = None
            if name not in scans or scans[name].formulas:
                # a second streaming view of the file tells formulas from typed values
                formulas = formulas or load_workbook(p, read_only=True, data_only=False)
                ws_f = formulas[name]
            out.frames[name] = _clean(_frame(p, name, _rows(p, name, ws, ws_f)))
            out.labels[name] = f"{p}[{name}]"
        if not out.frames:
            raise InputError(f"{p}: workbook has none of the sheets {_expected(names)}")
        return out
    finally:
        values.close()
        if formulas is not None:
            formulas.close()


def _check_size(p: Path, name: str, ws: Any) -> None:
    """Refuse a sheet whose declared size is past the bounds before reading a row."""
    if (ws.max_row or 0) > MAX_ROWS + 1:
        raise InputError(_too_many_rows(f"{p}[{name}]"))
    if (ws.max_column or 0) > MAX_COLUMNS:
        raise InputError(f"{p}[{name}]: {ws.max_column:,} columns (at most {MAX_COLUMNS:,}); "
                         "not an extraction sheet")  # fmt: skip
