"""A blank extraction workbook for a review: five sheets, instructions, drop-down lists."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from schemas.protocol import DESIGNS, Protocol, default_review, load_protocol
from schemas.sheet_format import (
    EXTRACTION_SHEETS,
    INCLUDED_IN,
    REQUIRED,
    ROB_DOMAINS,
    ROB_JUDGEMENTS,
    ROLES,
    VALUE_TYPES,
    columns_for,
)

MAX_ROWS = 2000  # data-validation range per column

GENERAL = [
    "How to fill this workbook",
    "",
    "One header row per sheet; do not rename or reorder headers. Row 2 is the first data row.",
    "Empty cell = not reported (never type 0 for a missing value).",
    "source: DOI (10.xxxx/...) or URL (https://...) where the values were read; several "
    "separated by ';'. location: table / figure / page / section.",
    "A value read elsewhere: add a column X_source (and X_location) next to column X.",
    "Numbers: use a decimal point, no thousands separators; 1e7 is allowed.",
    "derivation: leave empty; the registry fills it when it derives a mean or SD.",
    "Column headers in bold are required. Check a sheet with: registry add-trial FILE --review R",
    "",
    "Sheets",
    "studies: one row per study (study_id unique, e.g. Suk2016).",
    "arms: one row per arm; role experimental or control; n_analysed <= n_randomised.",
    "outcomes: one row per study x arm x outcome x time point. Give mean with SD, SE or CI; "
    "or median with q1/q3 or min/max; or events with total.",
    "risk_of_bias: one row per study x domain.",
    "adverse_events: one row per study x arm x event (arm empty = whole study).",
]


def _instructions(protocol: Protocol) -> list[str]:
    lines = [f"Extraction workbook for review '{protocol.review}': {protocol.title}", ""]
    lines += GENERAL + ["", "Protocol outcomes (id: name, kind, canonical unit, accepted units, "
                        "plausible range)"]  # fmt: skip
    for o in protocol.outcomes:
        units = ", ".join(f"{u} (x{f:g})" for u, f in o.units.items()) or "-"
        rng = f"{o.plausible_range[0]:g}-{o.plausible_range[1]:g}" if o.plausible_range else "-"
        lines.append(f"  {o.id}: {o.name}; {o.kind}; unit {o.unit or '-'}; units {units}; "
                     f"range {rng}")  # fmt: skip
    lines += ["", "Time points (time_weeks falling in the window count for the time point)"]
    for t in protocol.time_points:
        lines.append(f"  {t.id}: {t.label}, {t.weeks:g} weeks, window {t.window[0]:g}-"
                     f"{t.window[1]:g} weeks")  # fmt: skip
    lines += ["", "Study characteristics (studies sheet columns)"]
    for c in protocol.characteristics:
        extra = f" levels: {', '.join(c.levels)}" if c.levels else ""
        unit = f" unit: {c.unit}" if c.unit else ""
        lines.append(f"  {c.id}: {c.type}{unit}{extra}")
    lines += ["", "Risk-of-bias domains"]
    for tool, doms in ROB_DOMAINS.items():
        lines.append(f"  {tool}: {', '.join(doms)}; judgements {', '.join(ROB_JUDGEMENTS[tool])}")
    return lines


def write_template(out: str | Path, review: str | None = None) -> Path:
    """Write a blank workbook for ``review`` (default: the registry's default review) to
    ``out`` (.xlsx) and return its path."""
    protocol = load_protocol(default_review(review))
    path = Path(out)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    wb = Workbook()
    ins = wb.active
    ins.title = "instructions"
    for i, line in enumerate(_instructions(protocol), start=1):
        ins.cell(row=i, column=1, value=line)
    ins["A1"].font = Font(bold=True, size=13)
    ins.column_dimensions["A"].width = 120
    lists = _lists(protocol)
    refs = _write_lists(wb, lists)
    for sheet in EXTRACTION_SHEETS:
        _write_sheet(wb, sheet, columns_for(sheet, protocol), lists, refs)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _lists(protocol: Protocol) -> dict[str, list[str]]:
    """Column name -> the values its drop-down offers."""
    all_units = list(dict.fromkeys(u for o in protocol.outcomes for u in o.units))
    lists: dict[str, list[str]] = {
        "outcome": [o.id for o in protocol.outcomes],
        "role": list(ROLES),
        "value_type": list(VALUE_TYPES),
        "unit": all_units,
        "tool": list(ROB_DOMAINS),
        "domain": [d for doms in ROB_DOMAINS.values() for d in doms],
        "judgement": list(dict.fromkeys(j for js in ROB_JUDGEMENTS.values() for j in js)),
        "design_assessed": list(DESIGNS),
        "included_in": list(INCLUDED_IN),
        "serious": ["true", "false"],
    }
    for c in protocol.characteristics:
        if c.type == "category":
            lists[c.id] = list(c.levels)
    return lists


def _write_lists(wb: Workbook, lists: dict[str, list[str]]) -> dict[str, str]:
    """The hidden lists sheet, one column per drop-down; column name -> its cell range."""
    lists_ws = wb.create_sheet("lists")
    refs: dict[str, str] = {}
    for j, (name, values) in enumerate(lists.items(), start=1):
        col = get_column_letter(j)
        lists_ws.cell(row=1, column=j, value=name)
        for i, v in enumerate(values, start=2):
            lists_ws.cell(row=i, column=j, value=v)
        refs[name] = f"lists!${col}$2:${col}${max(len(values), 1) + 1}"
    lists_ws.sheet_state = "hidden"
    return refs


def _write_sheet(
    wb: Workbook,
    sheet: str,
    cols_kind: dict[str, str],
    lists: dict[str, list[str]],
    refs: dict[str, str],
) -> None:
    """One data sheet: bold required headers, drop-downs, number-only columns."""
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    ws = wb.create_sheet(sheet)
    cols = list(cols_kind)
    for j, c in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=j, value=c)
        cell.font = Font(bold=c in REQUIRED.get(sheet, ()))
        cell.fill = head_fill
        ws.column_dimensions[get_column_letter(j)].width = max(12, len(c) + 2)
        if c in lists and lists[c]:
            dv = DataValidation(type="list", formula1=f"={refs[c]}", allow_blank=True)
            dv.error = f"{c}: choose a value from the list"
            dv.errorTitle = "Not in the protocol"
            dv.prompt = f"{c}: one of {', '.join(lists[c])[:200]}"
            ws.add_data_validation(dv)
            letter = get_column_letter(j)
            dv.add(f"{letter}2:{letter}{MAX_ROWS}")
        kind = cols_kind.get(c)
        if kind in ("int", "num") and c not in lists:
            # Excel refuses text in number columns (typos such as "l2" or "1,5")
            dv = DataValidation(
                type="whole" if kind == "int" else "decimal",
                operator="greaterThanOrEqual" if kind == "int" else "between",
                formula1="0" if kind == "int" else "-1E+300",
                formula2=None if kind == "int" else "1E+300",
                allow_blank=True,
            )
            dv.error = f"{c}: a {'whole number >= 0' if kind == 'int' else 'number'}"
            ws.add_data_validation(dv)
            letter = get_column_letter(j)
            dv.add(f"{letter}2:{letter}{MAX_ROWS}")
    ws.freeze_panes = "A2"
