"""Validation of extraction sheets against the protocol: every problem of every sheet at once.

:func:`check_sheets` hands a sheet set to the review's schema set
(:class:`schemas.sheet_check.ReviewSchemas`, one call, every problem at once) and adds the
curator's warnings: what reading the sheets noticed, and studies whose design does not meet
an RCT-only protocol (such a study is kept, flagged, and left out of RCT-only analyses).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from schemas.protocol import Protocol
from schemas.sheet_check import CheckResult, Problem, ReviewSchemas

from .sheets import SheetSet

__all__ = ["CheckResult", "Problem", "ReviewSchemas", "check_sheets", "design_warnings",
           "is_rct"]  # fmt: skip


def check_sheets(
    sheets: SheetSet,
    protocol: Protocol,
    *,
    stored_studies: set[str] | None = None,
    stored_arms: dict[tuple[str, str], float | None] | None = None,
    names: tuple[str, ...] | None = None,
    schemas: ReviewSchemas | None = None,
) -> CheckResult:
    """Validate every sheet lazily; return problems (errors), warnings and typed frames.

    One call of the review's schema set (``schemas``, built from ``protocol`` when not
    given: build it once when checking several sheet sets of one review). Warnings: what
    reading the sheets noticed, and studies whose design does not meet an RCT-only protocol.
    """
    schemas = schemas or ReviewSchemas(protocol)
    names = names or tuple(sheets.frames)
    result = schemas.check(sheets.frames, sheets.labels, names, stored_studies=stored_studies,
                           stored_arms=stored_arms)  # fmt: skip
    result.warnings.extend(sheets.warnings)
    result.warnings.extend(design_warnings(result.typed.get("studies"), protocol))
    return result


def is_rct(design_assessed: Any, design_reported: Any) -> bool:
    """The team's assessment decides; without one, what the paper reports."""
    if isinstance(design_assessed, str) and design_assessed:
        return design_assessed == "RCT"
    return isinstance(design_reported, str) and design_reported.strip().upper() == "RCT"


def design_warnings(studies: pd.DataFrame | None, protocol: Protocol) -> list[str]:
    """A warning per study whose design does not meet an RCT-only protocol (kept, flagged)."""
    if studies is None or studies.empty or not protocol.question.rct_only:
        return []
    out = []
    for rec in studies.to_dict("records"):
        da, dr = rec.get("design_assessed"), rec.get("design_reported")
        if not is_rct(da, dr):
            shown = da or dr or "not stated"
            out.append(
                f"study {rec.get('study_id')}: design {shown!r} (reported {dr or '-'}) does not "
                f"meet the protocol's '{protocol.question.study_designs}'; kept, flagged as "
                f"non-randomised and left out of RCT-only analyses"
            )
    return out
