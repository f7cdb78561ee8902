"""What screening needs from a review protocol: stages, decision values, exclusion reasons,
ranking hints and the dual-review switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry.errors import InputError

STAGES = ("title_abstract", "full_text")
_STAGE_ALIASES = {
    "ta": "title_abstract",
    "title-abstract": "title_abstract",
    "title_abstract": "title_abstract",
    "ft": "full_text",
    "full-text": "full_text",
    "full_text": "full_text",
}
DECISIONS = ("include", "exclude", "maybe")
# Full text only: the report could not be obtained (PRISMA "reports not retrieved").
NOT_RETRIEVED = "not_retrieved"


def stage_name(stage: str) -> str:
    """Canonical stage name (``ta``/``ft`` and hyphenated spellings accepted)."""
    key = (stage or "").strip().lower()
    if key not in _STAGE_ALIASES:
        raise InputError(f"unknown screening stage {stage!r} (use {' or '.join(STAGES)})")
    return _STAGE_ALIASES[key]


def decisions_for(stage: str) -> tuple[str, ...]:
    """Decision values allowed at ``stage``."""
    return DECISIONS + ((NOT_RETRIEVED,) if stage == "full_text" else ())


@dataclass(frozen=True)
class ScreeningConfig:
    """The protocol settings screening uses."""

    review: str
    reasons: tuple[tuple[str, str], ...] = ()  # (id, label) in protocol order
    keywords: tuple[str, ...] = ()
    mesh: tuple[str, ...] = ()
    dual_review: bool = False
    exclude_keywords: tuple[str, ...] = ()

    @property
    def reason_ids(self) -> tuple[str, ...]:
        """Exclusion reason ids in protocol order."""
        return tuple(i for i, _ in self.reasons)

    def reason_label(self, reason_id: str | None) -> str | None:
        """Label of a reason id (None for None or an id the protocol lacks)."""
        return next((lab for i, lab in self.reasons if i == reason_id), None)

    def match_reason(self, text: str | None) -> str | None:
        """The reason id ``text`` names: its id, or its label (case-insensitive)."""
        if text is None or not text.strip():
            return None
        t = text.strip()
        for i, lab in self.reasons:
            if t == i or t.casefold() == i.casefold() or t.casefold() == lab.casefold():
                return i
        return None


def screening_config(review: str | Any) -> ScreeningConfig:
    """Screening settings of ``review`` (a review name, protocol path or Protocol object)."""
    protocol = review
    if isinstance(review, str):
        from schemas.protocol import load_protocol

        protocol = load_protocol(review)
    return ScreeningConfig(
        review=protocol.review,
        reasons=tuple((r.id, r.label) for r in protocol.eligibility.exclusion_reasons),
        keywords=tuple(protocol.screening.keywords),
        mesh=tuple(protocol.screening.mesh),
        dual_review=bool(protocol.screening.dual_review),
        exclude_keywords=tuple(protocol.screening.exclude_keywords),
    )


def config_or_default(review: str) -> ScreeningConfig:
    """The review's config, or an empty one when the review has no protocol file.

    Only a *missing* protocol falls back (counts can still be given from stored labels);
    a protocol that exists but is broken raises its InputError.
    """
    from schemas.protocol import protocol_path

    if not protocol_path(review).is_file():
        return ScreeningConfig(review=review)
    return screening_config(review)
