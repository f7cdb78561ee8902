"""Putting curated sheets into the registry: ``add_trial`` and ``load_review``.

Both validate everything first (all sheets, all rules, every problem listed) and write
nothing unless all is well; then they derive missing means/SDs, compare with what the
registry holds, and write only what changed, with one audit row per changed value (who,
when, table, key, column, old and new value) in the same transaction. Loading the same
folder twice writes nothing the second time.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from registry.config import curator
from registry.errors import InputError
from registry.store import Store
from registry.store.curation import SheetWrite
from schemas.protocol import Protocol, load_protocol, reviews_dir
from schemas.sheet_format import EXTRACTION_SHEETS, KEYS
from schemas.values import is_missing

from .derive import derive_outcomes
from .published import check_published, outside_protocol, read_published
from .sheets import SheetSet, read_sheets
from .validate import CheckResult, ReviewSchemas, check_sheets


@dataclass
class LoadSummary:
    """What a load changed."""

    review: str
    origin: str
    studies: list[str] = field(default_factory=list)
    inserted: int = 0  # rows
    updated: int = 0
    deleted: int = 0
    changes: int = 0  # audited values
    warnings: list[str] = field(default_factory=list)
    published: int = 0
    protocol_updated: bool = False  # a new protocol.yaml snapshot was stored

    @property
    def changed(self) -> bool:
        """True when any curated value changed."""
        return self.changes > 0

    def __str__(self) -> str:
        head = (
            f"{self.review}: {len(self.studies)} study(ies) from {self.origin}; rows inserted "
            f"{self.inserted}, updated {self.updated}, deleted {self.deleted}; "
            f"{self.changes} value change(s) audited"
        )
        if self.published:
            head += f"; {self.published} published result(s)"
        if self.protocol_updated:
            head += "; protocol snapshot updated"
        if not self.changed:
            head += " (nothing changed)"
        return "\n".join([head, *(f"warning: {w}" for w in self.warnings)])


def canon(v: Any) -> str | None:
    """A value as audit text: empty -> None, whole floats without '.0', bools lower-case."""
    if is_missing(v):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float) and not isinstance(v, bool):
        f = float(v)
        if math.isnan(f):
            return None
        return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
    if hasattr(v, "item"):
        return canon(v.item())
    text = str(v)
    return text if text != "" else None


def row_key(sheet: str, rec: dict[str, Any]) -> tuple[str, ...]:
    """The key of a row; an empty value_type means 'final', an empty arm_id the whole study."""
    out = []
    for k in KEYS[sheet]:
        v = canon(rec.get(k))
        if v is None:
            v = "final" if k == "value_type" else ""
        out.append(v)
    return tuple(out)


def _diff(
    sheet: str,
    old: pd.DataFrame,
    new: pd.DataFrame,
    batch: str,
    review: str,
    who: str,
    origin: str,
) -> tuple[list[dict[str, Any]], tuple[int, int, int]]:
    """Audit rows turning ``old`` into ``new`` and (inserted, updated, deleted) row counts."""
    old_by = {row_key(sheet, r): r for r in old.to_dict("records")} if len(old) else {}
    new_by = {row_key(sheet, r): r for r in new.to_dict("records")} if len(new) else {}
    audit: list[dict[str, Any]] = []
    ins = upd = dele = 0

    def entry(key: tuple, rec: dict, col: str, action: str, o: Any, n: Any) -> dict[str, Any]:
        return {
            "batch_id": batch,
            "review": review,
            "study_id": canon(rec.get("study_id")),
            "table_name": sheet,
            "row_key": " | ".join(key),
            "column_name": col,
            "action": action,
            "old_value": o,
            "new_value": n,
            "curator": who,
            "origin": origin,
        }

    for key, rec in new_by.items():
        before = old_by.get(key)
        cols = list(dict.fromkeys([*rec, *(before or {})]))
        if before is None:
            ins += 1
            for c in cols:
                v = canon(rec.get(c))
                if v is not None:
                    audit.append(entry(key, rec, c, "insert", None, v))
            continue
        changed = False
        for c in cols:
            o, n = canon(before.get(c)), canon(rec.get(c))
            if o != n:
                changed = True
                audit.append(entry(key, rec, c, "update", o, n))
        upd += changed
    for key, rec in old_by.items():
        if key not in new_by:
            dele += 1
            for c, v in rec.items():
                t = canon(v)
                if t is not None:
                    audit.append(entry(key, rec, c, "delete", t, None))
    return audit, (ins, upd, dele)


def _arm_sizes(arms: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(study, arm) -> n analysed, else n randomised (the n a derivation uses)."""
    out: dict[tuple[str, str], float] = {}
    for r in arms.to_dict("records") if len(arms) else []:
        for c in ("n_analysed", "n_randomised"):
            v = r.get(c)
            if not is_missing(v):
                out[(r["study_id"], r["arm_id"])] = float(v)
                break
    return out


def _protocol_snapshot(protocol: Protocol) -> tuple[str, str]:
    text = protocol.path.read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _study_set(sheets: SheetSet) -> list[str]:
    ids: list[str] = []
    for df in sheets.frames.values():
        if "study_id" in df.columns:
            ids.extend(str(v) for v in df["study_id"].dropna())
    return list(dict.fromkeys(ids))


def _stored_context(
    store: Store, review: str, sheets: SheetSet, replace_all: bool
) -> tuple[set[str], dict[tuple[str, str], float | None]]:
    """Stored studies/arms that remain after this load (what sheets may refer to)."""
    if replace_all:
        return set(), {}
    touched = set(_study_set(sheets))
    studies = store.curation_rows(review, "studies")
    keep_studies = {
        s
        for s in (studies["study_id"] if len(studies) else [])
        if "studies" not in sheets.frames or s not in touched
    }
    arms = store.curation_rows(review, "arms")
    keep_arms: dict[tuple[str, str], float | None] = {}
    for r in arms.to_dict("records") if len(arms) else []:
        if "arms" in sheets.frames and r["study_id"] in touched:
            continue
        n = r.get("n_randomised")
        keep_arms[(r["study_id"], r["arm_id"])] = None if n is None or pd.isna(n) else float(n)
    keep_studies |= {s for s, _ in keep_arms}
    return keep_studies, keep_arms


def _store_sheets(
    store: Store,
    protocol: Protocol,
    sheets: SheetSet,
    checked: CheckResult,
    *,
    replace_all: bool,
    origin: str,
    extra_sheets: dict[str, pd.DataFrame] | None = None,
    scope_ids: list[str] | None = None,
) -> LoadSummary:
    review = protocol.review
    who = curator()
    batch = uuid.uuid4().hex[:12]
    summary = LoadSummary(review=review, origin=origin, warnings=list(checked.warnings))
    study_ids = _study_set(sheets)
    summary.studies = study_ids
    typed = dict(checked.typed)
    if replace_all or scope_ids is not None:
        for s in EXTRACTION_SHEETS:
            typed.setdefault(s, pd.DataFrame())
    # derivations need arm sizes: the new arms, else the stored ones
    arms_now = typed.get("arms")
    if arms_now is None or arms_now.empty:
        arms_now = store.curation_rows(review, "arms")
    sizes = {**_arm_sizes(store.curation_rows(review, "arms")), **_arm_sizes(arms_now)}
    continuous = {o.id for o in protocol.outcomes if o.kind == "continuous"}
    if "outcomes" in typed and not typed["outcomes"].empty:
        typed["outcomes"] = derive_outcomes(typed["outcomes"], sizes, continuous)
    if extra_sheets:
        typed.update(extra_sheets)
    writes: list[SheetWrite] = []
    audit: list[dict[str, Any]] = []
    for sheet, new in typed.items():
        review_level = sheet == "published_results"
        scope = None if (replace_all or review_level) else tuple(scope_ids or study_ids)
        old = store.curation_rows(review, sheet, scope)
        a, (i, u, d) = _diff(sheet, old, new, batch, review, who, origin)
        if a:
            audit.extend(a)
            writes.append(SheetWrite(sheet, new, scope))
            summary.inserted += i
            summary.updated += u
            summary.deleted += d
    snap = _protocol_snapshot(protocol)
    stored = store.stored_protocol(review)
    proto = snap if stored is None or stored[1] != snap[1] else None
    if proto is not None:
        # the protocol text itself lives in git; the audit says when the registry took it up
        audit.append({
            "batch_id": batch, "review": review, "study_id": None, "table_name": "protocol",
            "row_key": review, "column_name": "protocol_sha256",
            "action": "insert" if stored is None else "update",
            "old_value": None if stored is None else stored[1], "new_value": snap[1],
            "curator": who, "origin": str(protocol.path),
        })  # fmt: skip
    if writes or audit or proto:
        store.save_curation(review, writes, audit, protocol=proto, who=who)
    summary.changes = sum(1 for a in audit if a["table_name"] != "protocol")
    summary.protocol_updated = proto is not None
    if extra_sheets and "published_results" in extra_sheets:
        summary.published = len(extra_sheets["published_results"])
    return summary


def _review_from_path(path: Path) -> str | None:
    """``<reviews>/<name>/extraction[...]`` -> name."""
    try:
        rel = path.resolve().relative_to(reviews_dir().resolve())
    except ValueError:
        return None
    return rel.parts[0] if rel.parts else None


def add_trial(store: Store, path: str | Path, review: str | None = None) -> LoadSummary:
    """Validate the sheets at ``path`` and store their studies all or nothing.

    The studies named in the sheets replace their stored rows, sheet by sheet (sheets not
    given are left as stored); other studies are untouched. Raises ValidationFailed listing
    every problem, InputError for unreadable input or an unknown review.
    """
    p = Path(path)
    name = review or _review_from_path(p)
    if not name:
        raise InputError(f"{p}: give --review NAME (the path is not inside a review folder)")
    protocol = load_protocol(name)
    sheets = read_sheets(p)
    studies, arms = _stored_context(store, protocol.review, sheets, replace_all=False)
    checked = check_sheets(sheets, protocol, stored_studies=studies, stored_arms=arms)
    checked.raise_if_failed(f"{p}")
    origins = store.study_origins(protocol.review)
    for sid in _study_set(sheets):
        if sid in origins and _is_folder_origin(origins[sid], protocol.folder):
            checked.warnings.append(
                f"study {sid} comes from the review folder {protocol.folder}: the next "
                "load-review or update restores the folder's values; edit the folder's "
                "sheets to make this change last"
            )
    return _store_sheets(store, protocol, sheets, checked, replace_all=False, origin=str(p))


def _is_folder_origin(origin: str | None, folder: Path) -> bool:
    """True when a study's latest change came from the review folder (any checkout of it)."""
    if origin is None:
        return True
    return origin == str(folder) or Path(origin).name == folder.name


def load_review(store: Store, review: str) -> LoadSummary:
    """Load (or update) a bundled review folder ``data/reviews/<review>/`` idempotently.

    The folder is the source of truth for the studies that came from it: their rows are
    replaced by the folder's, and a study removed from the folder is deleted. Studies added
    with ``registry add-trial`` from elsewhere are left as they are (a living review's new
    trials must survive the monthly update). Published results are replaced. All changes
    are audit-logged; re-loading an unchanged folder writes nothing.
    """
    protocol = load_protocol(review)
    folder = protocol.folder
    xdir = folder / "extraction"
    workbook = next((folder / n for n in ("extraction.xlsx",) if (folder / n).is_file()), None)
    if xdir.is_dir():
        sheets = read_sheets(xdir)
    elif workbook is not None:
        sheets = read_sheets(workbook)
    else:
        raise InputError(f"{folder}: no extraction/ folder or extraction.xlsx")
    schemas = ReviewSchemas(protocol)  # once for the extraction and the published results
    checked = check_sheets(sheets, protocol, names=EXTRACTION_SHEETS, schemas=schemas)
    pub_typed, pub_problems = read_published(folder, protocol, schemas)
    checked.problems.extend(pub_problems)
    checked.raise_if_failed(str(folder))
    # stored as printed; what does not add up is flagged for the curator
    checked.warnings.extend(str(f) for f in check_published(pub_typed))
    checked.warnings.extend(outside_protocol(pub_typed, protocol))
    # studies whose latest change came from this folder, or from no known file
    in_folder = _study_set(sheets)
    origins = store.study_origins(protocol.review)
    stored = store.curation_rows(protocol.review, "studies")
    from_folder = [
        s for s in (stored["study_id"] if len(stored) else [])
        if s not in in_folder and _is_folder_origin(origins.get(str(s)), folder)
    ]
    return _store_sheets(
        store,
        protocol,
        sheets,
        checked,
        replace_all=False,
        origin=str(folder),
        extra_sheets={"published_results": pub_typed},
        scope_ids=list(dict.fromkeys([*in_folder, *map(str, from_folder)])),
    )
