"""``registry validate``: re-check everything the registry holds against the protocols."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from registry.errors import InputError, ValidationFailed
from registry.store import Store
from schemas.protocol import review_slug
from schemas.sheet_format import EXTRACTION_SHEETS

from .inputs import review_protocol
from .load import canon
from .published import check_published, outside_protocol
from .sheets import SheetSet
from .validate import check_sheets


@dataclass
class RegistryCheck:
    """Outcome of re-checking the registry: problems are errors, warnings are for curators."""

    reviews: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0

    def __str__(self) -> str:
        head = (
            f"checked {self.rows} row(s) in {len(self.reviews)} review(s) "
            f"({', '.join(self.reviews) or 'none'}): {len(self.problems)} problem(s), "
            f"{len(self.warnings)} warning(s)"
        )
        return "\n".join([head, *(f"warning: {w}" for w in self.warnings)])


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Stored rows as the text cells a curator would see in the exported CSV."""
    if df.empty:
        return df
    return df.map(canon).astype(object)


def validate_registry(store: Store, review: str | None = None) -> RegistryCheck:
    """Re-validate every stored review (or one) with the same rules as add-trial.

    Published-result inconsistencies and design flags are warnings. Raises ValidationFailed
    listing every problem (warnings appended) if any stored row breaks a rule.
    """
    known = store.curated_reviews()
    if review is not None and review_slug(review) not in known:
        raise InputError(f"review {review!r} has no curated data (known: {', '.join(known)})")
    result = RegistryCheck(reviews=[review] if review else known)
    for name in result.reviews:
        protocol = review_protocol(store, name)
        sheets = SheetSet(origin=protocol.folder)
        for sheet in (*EXTRACTION_SHEETS, "published_results"):
            df = store.curation_rows(name, sheet)
            if df.empty:
                continue
            df = df.loc[:, [c for c in df.columns if df[c].notna().any() or c == "source"]]
            sheets.frames[sheet] = _as_text(df)
            sheets.labels[sheet] = f"registry {name}/{sheet} (row as exported)"
            result.rows += len(df)
        checked = check_sheets(sheets, protocol)
        result.problems.extend(str(p) for p in checked.problems)
        result.warnings.extend(f"{name}: {w}" for w in checked.warnings)
        pub = store.curation_rows(name, "published_results")
        result.warnings.extend(f"{name}: {f}" for f in check_published(pub))
        result.warnings.extend(f"{name}: {w}" for w in outside_protocol(pub, protocol))
    if result.problems:
        raise ValidationFailed(
            f"registry check: {len(result.problems)} problem(s)",
            result.problems + [f"(warning) {w}" for w in result.warnings],
        )
    return result
