"""Small helpers to plant one problem in a copy of the mini review's sheets."""

from __future__ import annotations

import csv
from pathlib import Path


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV."""
    with path.open(newline="", encoding="utf-8") as fh:
        r = csv.DictReader(fh)
        return list(r.fieldnames or []), list(r)


def write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    """Write rows under header."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        for row in rows:
            w.writerow({h: row.get(h, "") for h in header})


def set_cell(folder: Path, sheet: str, row: int, column: str, value: str) -> None:
    """Set a cell; ``row`` is the spreadsheet row (header = 1, first data row = 2)."""
    path = folder / f"{sheet}.csv"
    header, rows = read(path)
    if column not in header:
        header.append(column)
    rows[row - 2][column] = value
    write(path, header, rows)


def rename_column(folder: Path, sheet: str, old: str, new: str) -> None:
    """Rename a header cell."""
    path = folder / f"{sheet}.csv"
    header, rows = read(path)
    header = [new if h == old else h for h in header]
    rows = [{(new if k == old else k): v for k, v in r.items()} for r in rows]
    write(path, header, rows)


def drop_column(folder: Path, sheet: str, column: str) -> None:
    """Remove a column."""
    path = folder / f"{sheet}.csv"
    header, rows = read(path)
    write(path, [h for h in header if h != column], rows)


def append_row(folder: Path, sheet: str, values: dict[str, str]) -> None:
    """Append a row (missing columns empty)."""
    path = folder / f"{sheet}.csv"
    header, rows = read(path)
    rows.append(values)
    write(path, header, rows)


def copy_row(folder: Path, sheet: str, row: int, **changes: str) -> None:
    """Append a copy of spreadsheet row ``row`` with some cells changed."""
    path = folder / f"{sheet}.csv"
    header, rows = read(path)
    new = dict(rows[row - 2])
    new.update(changes)
    rows.append(new)
    write(path, header, rows)
