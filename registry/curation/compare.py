"""Two curators' sheets for the same studies: every disagreement, cell by cell."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.sheet_format import EXTRACTION_SHEETS
from schemas.values import is_missing

from .load import row_key
from .sheets import read_sheets


@dataclass(frozen=True)
class Disagreement:
    """One cell (or row) on which sheets A and B differ."""

    sheet: str
    key: str
    column: str | None  # None: the whole row is only in one of them
    a: Any
    b: Any

    def __str__(self) -> str:
        if self.column is None:
            side = "A" if self.a is not None else "B"
            return f"{self.sheet} [{self.key}]: row only in {side}"
        return f"{self.sheet} [{self.key}] {self.column}: A={self.a!r} B={self.b!r}"


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        fa, fb = float(a), float(b)
    except (TypeError, ValueError):
        return str(a).strip() == str(b).strip()
    if is_missing(fa) and is_missing(fb):
        return True
    return math.isclose(fa, fb, rel_tol=1e-12, abs_tol=1e-12)


def compare_sheets(a: str | Path, b: str | Path) -> list[Disagreement]:
    """Every disagreement between extraction A and B (folders of CSVs or workbooks).

    Rows are matched on their keys (study, arm, outcome, time point, value type, ...);
    numbers compare by value ('1.50' equals '1.5'); an empty cell differs from any value.
    """
    sa, sb = read_sheets(a), read_sheets(b)
    out: list[Disagreement] = []
    for sheet in EXTRACTION_SHEETS:
        if sheet not in sa.frames and sheet not in sb.frames:
            continue
        fa, fb = sa.frame(sheet), sb.frame(sheet)
        ra = {row_key(sheet, r): r for r in fa.to_dict("records")} if len(fa) else {}
        rb = {row_key(sheet, r): r for r in fb.to_dict("records")} if len(fb) else {}
        for key in list(dict.fromkeys([*ra, *rb])):
            k = " | ".join(key)
            if key not in rb:
                out.append(Disagreement(sheet, k, None, "present", None))
                continue
            if key not in ra:
                out.append(Disagreement(sheet, k, None, None, "present"))
                continue
            x, y = ra[key], rb[key]
            for col in dict.fromkeys([*x, *y]):
                if not _same(x.get(col), y.get(col)):
                    out.append(Disagreement(sheet, k, col, x.get(col), y.get(col)))
    return out


def format_disagreements(items: list[Disagreement]) -> str:
    """One line per disagreement (or a line saying they agree)."""
    if not items:
        return "the two extractions agree on every cell"
    return "\n".join([f"{len(items)} disagreement(s):", *(f"  {d}" for d in items)])
