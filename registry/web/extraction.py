"""Extraction forms generated from the protocol and the sheet schemas.

A form is one row of a sheet (outcomes, arms, adverse events). It is checked exactly as a
sheet is: the row, with the study's stored rows of that sheet, is written as a CSV sheet
and goes through :func:`registry.curation.read_sheets` and
:func:`registry.curation.check_sheets` (the loader's own pandera passes); every problem of
the new row is shown at its field and nothing is stored until the whole form is valid. A
valid entry is stored with :func:`registry.curation.add_trial` (audited, all or nothing),
and the submitted sheet is kept under ``web-entries/`` beside the database as the origin the
audit trail names. Provenance: ``source`` (DOI/URL) and ``location`` (table/page) are
required on every row that carries a number.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from registry.csvout import safe_frame
from registry.curation import LoadSummary, add_trial, check_sheets, read_sheets
from registry.curation.load import canon, row_key
from registry.store import Store
from schemas.protocol import Protocol, load_protocol
from schemas.sheet_format import REQUIRED, ROLES, VALUE_TYPES, columns_for

FORM_SHEETS = ("outcomes", "arms", "adverse_events")
# Filled by the loader (derived means/SDs), never typed in.
COMPUTED = ("derivation",)
NUMBER_KINDS = ("num", "int")
LOCATION_RULE = "give the table/page (location) the numbers come from"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class FormField:
    """One input of an extraction form."""

    name: str
    kind: str  # str | num | int | bool
    required: bool
    choices: tuple[str, ...] = ()


@dataclass
class FormCheck:
    """The outcome of checking a submitted form."""

    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)  # field -> problems
    general: list[str] = field(default_factory=list)  # problems not tied to one field

    @property
    def ok(self) -> bool:
        return not self.errors and not self.general


def form_fields(store: Store, protocol: Protocol, sheet: str) -> list[FormField]:
    """The inputs of ``sheet``'s form: its schema columns, choices from protocol and store."""
    if sheet not in FORM_SHEETS:
        raise KeyError(sheet)
    studies = store.curation_rows(protocol.review, "studies")
    choices: dict[str, tuple[str, ...]] = {
        "study_id": tuple(sorted(map(str, studies["study_id"]))) if len(studies) else (),
        "outcome": tuple(o.id for o in protocol.outcomes),
        "value_type": VALUE_TYPES,
        "role": ROLES,
    }
    required = set(REQUIRED[sheet]) | {"location"}
    return [
        FormField(name, kind, name in required, choices.get(name, ()))
        for name, kind in columns_for(sheet, protocol).items()
        if name not in COMPUTED
    ]


def _stored_text_rows(store: Store, review: str, sheet: str, study: str) -> list[dict[str, Any]]:
    rows = store.curation_rows(review, sheet, [study]) if study else pd.DataFrame()
    return [{k: canon(v) for k, v in r.items()} for r in rows.to_dict("records")]


def _write_sheet(folder: Path, sheet: str, rows: list[dict[str, Any]]) -> None:
    cols = list(dict.fromkeys(c for r in rows for c in r))
    # The kept entry may be opened in a spreadsheet: formula-like cells are quoted (the sheet
    # reader takes the quote off again).
    safe_frame(pd.DataFrame(rows, columns=cols)).to_csv(folder / f"{sheet}.csv", index=False)


def _context(store: Store, review: str, sheet: str, study: str) -> tuple[set[str], dict]:
    """What the form's row may refer to: stored studies and arms (minus the arms it replaces)."""
    studies = store.curation_rows(review, "studies")
    arms = store.curation_rows(review, "arms")
    stored_arms: dict[tuple[str, str], float | None] = {}
    for r in arms.to_dict("records") if len(arms) else []:
        if sheet == "arms" and r["study_id"] == study:
            continue
        n = r.get("n_randomised")
        stored_arms[(r["study_id"], r["arm_id"])] = None if pd.isna(n) else float(n)
    return set(map(str, studies["study_id"])) if len(studies) else set(), stored_arms


def _rows_with_entry(
    store: Store, review: str, sheet: str, values: Mapping[str, str]
) -> tuple[list[dict[str, Any]], int]:
    """The study's stored rows with the entry (replacing a row with the same key) and the
    entry's spreadsheet row number (header = row 1)."""
    new = {k: (v.strip() or None) for k, v in values.items()}
    study = new.get("study_id") or ""
    key = row_key(sheet, new)
    rows = [r for r in _stored_text_rows(store, review, sheet, study) if row_key(sheet, r) != key]
    rows.append(new)
    return rows, len(rows) + 1


def check_entry(
    store: Store, review: str, sheet: str, values: Mapping[str, str]
) -> tuple[FormCheck, list[dict[str, Any]]]:
    """Check a submitted form with the sheet loader's validation; store nothing."""
    protocol = load_protocol(review)
    kinds = {f.name: f.kind for f in form_fields(store, protocol, sheet)}
    clean = {k: str(values.get(k, "")) for k in kinds}
    result = FormCheck(values=clean)
    rows, row_no = _rows_with_entry(store, review, sheet, clean)
    studies, arms = _context(store, review, sheet, clean.get("study_id", "").strip())
    with tempfile.TemporaryDirectory(prefix="registry-form-") as tmp:
        _write_sheet(Path(tmp), sheet, rows)
        checked = check_sheets(
            read_sheets(Path(tmp), (sheet,)), protocol, stored_studies=studies, stored_arms=arms
        )
    for p in checked.problems:
        if p.row == row_no and p.column in kinds:
            result.errors.setdefault(p.column, []).append(p.rule)
        elif p.row is None and p.column in kinds:  # e.g. a required column left empty
            result.errors.setdefault(p.column, []).append(p.rule)
        else:
            result.general.append(str(p))
    has_number = any(clean[k].strip() for k, kind in kinds.items() if kind in NUMBER_KINDS)
    if has_number and not clean.get("location", "").strip():
        result.errors.setdefault("location", []).append(LOCATION_RULE)
    return result, rows


@contextmanager
def _as_curator(user: str) -> Iterator[None]:
    # The curation audit names its curator from REGISTRY_CURATOR; the caller holds the
    # workspace lock, so no other store write can see this user's name meanwhile.
    before = os.environ.get("REGISTRY_CURATOR")
    os.environ["REGISTRY_CURATOR"] = user
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("REGISTRY_CURATOR", None)
        else:
            os.environ["REGISTRY_CURATOR"] = before


def save_entry(
    store: Store, review: str, sheet: str, values: Mapping[str, str], user: str
) -> tuple[FormCheck, LoadSummary | None]:
    """Check the form; when it is valid, store it (audited, as ``user``) and keep the sheet."""
    result, rows = check_entry(store, review, sheet, values)
    if not result.ok:
        return result, None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    name = f"{stamp}-{_SAFE.sub('_', user)}"
    folder = store.path.parent / "web-entries" / _SAFE.sub("_", review) / name
    folder.mkdir(parents=True, exist_ok=True)
    _write_sheet(folder, sheet, rows)
    with _as_curator(user):
        summary = add_trial(store, folder, review)
    return result, summary

