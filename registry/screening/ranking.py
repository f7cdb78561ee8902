"""A transparent relevance score for unscreened records: likely trials come first.

The score is a sum of named parts so a curator can see why a record ranks where it does.
Points are deliberately coarse (a ranking aid, never a decision):

- publication type "Randomized Controlled Trial": +3
- each protocol ``screening.mesh`` descriptor among the record's MeSH terms: +2
- each protocol ``screening.keywords`` entry found in title or abstract: +1
  (case-insensitive substring, so ``randomi`` catches randomised and randomized)
- a trial registry id (NCT..., ISRCTN..., ChiCTR...) on the record: +1
- retracted: -5 (and flagged)

Ties break on record_id, so the order is stable between runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from registry.screening.config import ScreeningConfig

RCT_TYPE = "Randomized Controlled Trial"
RCT_POINTS = 3
MESH_POINTS = 2
KEYWORD_POINTS = 1
REGISTRY_POINTS = 1
RETRACTED_POINTS = -5


@dataclass(frozen=True)
class ScorePart:
    """One named contribution to a score."""

    label: str
    points: int
    detail: str = ""

    def __str__(self) -> str:
        sign = "+" if self.points >= 0 else "-"
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.label}{detail} {sign}{abs(self.points)}"


@dataclass(frozen=True)
class Score:
    """A record's ranking score and the parts it is the sum of."""

    total: int
    parts: tuple[ScorePart, ...]
    retracted: bool = False

    def explain(self) -> str:
        """One line: ``RCT +3; MeSH (Liver Cirrhosis) +2`` (or ``no signal``)."""
        return "; ".join(str(p) for p in self.parts) or "no signal"


def _mesh_key(term: str) -> str:
    # MeSH terms are stored as descriptor names, "*" marking a major topic and possibly a
    # "/qualifier"; the protocol names bare descriptors.
    return term.replace("*", "").split("/")[0].strip().casefold()


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value if v is not None]


def score_record(record: Mapping[str, Any], config: ScreeningConfig) -> Score:
    """Score one record (a mapping with the records-table fields) against the protocol."""
    parts: list[ScorePart] = []
    if RCT_TYPE.casefold() in {t.casefold() for t in _strings(record.get("publication_types"))}:
        parts.append(ScorePart("RCT", RCT_POINTS, "publication type"))
    mesh = {_mesh_key(t) for t in _strings(record.get("mesh_terms"))}
    hits = [m for m in config.mesh if _mesh_key(m) in mesh]
    if hits:
        parts.append(ScorePart("MeSH", MESH_POINTS * len(hits), ", ".join(hits)))
    text = f"{record.get('title') or ''} {record.get('abstract') or ''}".casefold()
    words = [k for k in config.keywords if k.strip() and k.strip().casefold() in text]
    if words:
        parts.append(ScorePart("keywords", KEYWORD_POINTS * len(words), ", ".join(words)))
    reg = _strings(record.get("registry_ids"))
    if reg:
        parts.append(ScorePart("registry id", REGISTRY_POINTS, ", ".join(reg[:3])))
    retracted = bool(record.get("retracted"))
    if retracted:
        parts.append(ScorePart("RETRACTED", RETRACTED_POINTS))
    return Score(sum(p.points for p in parts), tuple(parts), retracted)


def rank(
    records: Iterable[Mapping[str, Any]], config: ScreeningConfig
) -> list[tuple[Mapping[str, Any], Score]]:
    """Records with their scores, best first; ties in record_id order."""
    scored = [(r, score_record(r, config)) for r in records]
    scored.sort(key=lambda rs: (-rs[1].total, int(rs[0]["record_id"])))
    return scored
