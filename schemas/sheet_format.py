"""The extraction sheet format: columns, keys, vocabularies and cell parsers.

Plain Python (no pandas, no pandera): what the validation schemas in
:mod:`schemas.extraction`, the template, the export and the documentation
(docs/review-format.md) share. The store keeps the same columns in its own tables
(migration 0020); a test checks that the two agree.
"""

from __future__ import annotations

import re
from typing import Any

from schemas.protocol import Protocol
from schemas.values import is_missing

ALL_SHEETS = ("studies", "arms", "outcomes", "risk_of_bias", "adverse_events",
              "published_results")  # fmt: skip
# column types: str | num (float) | int (whole number stored as float) | bool
STUDIES = {
    "study_id": "str",
    "citation": "str",
    "first_author": "str",
    "year": "int",
    "pmid": "str",
    "doi": "str",
    "registration": "str",
    "country": "str",
    "design_reported": "str",
    "design_assessed": "str",
    "design_assessed_source": "str",
    "population": "str",
    "intervention": "str",
    "comparator": "str",
    "follow_up": "str",
    "included_in": "str",
    "notes": "str",
    "source": "str",
    "location": "str",
}
ARMS = {
    "study_id": "str",
    "arm_id": "str",
    "role": "str",
    "label": "str",
    "description": "str",
    "n_randomised": "int",
    "n_analysed": "int",
    "notes": "str",
    "source": "str",
    "location": "str",
}
OUTCOMES = {
    "study_id": "str",
    "arm_id": "str",
    "outcome": "str",
    "time_point": "str",
    "time_weeks": "num",
    "value_type": "str",
    "unit": "str",
    "n": "int",
    "mean": "num",
    "sd": "num",
    "se": "num",
    "ci_lower": "num",
    "ci_upper": "num",
    "ci_level": "num",
    "median": "num",
    "q1": "num",
    "q3": "num",
    "min": "num",
    "max": "num",
    "events": "int",
    "total": "int",
    "derivation": "str",
    "source": "str",
    "location": "str",
    "notes": "str",
}
RISK_OF_BIAS = {
    "study_id": "str",
    "tool": "str",
    "domain": "str",
    "judgement": "str",
    "support": "str",
    "source": "str",
    "location": "str",
    "notes": "str",
}
ADVERSE_EVENTS = {
    "study_id": "str",
    "arm_id": "str",
    "event": "str",
    "count": "int",
    "serious": "bool",
    "reported_text": "str",
    "source": "str",
    "location": "str",
    "notes": "str",
}
PUBLISHED = {
    "result_id": "str",
    "outcome": "str",
    "time_point": "str",
    "subgroup": "str",
    "k": "int",
    "n_participants": "int",
    "n_experimental": "int",
    "n_control": "int",
    "measure": "str",
    "model": "str",
    "estimate": "num",
    "ci_lower": "num",
    "ci_upper": "num",
    "p_value": "str",
    "i2": "num",
    "tau2": "num",
    "source": "str",
    "location": "str",
    "notes": "str",
}

SHEETS: dict[str, dict[str, str]] = {
    "studies": STUDIES,
    "arms": ARMS,
    "outcomes": OUTCOMES,
    "risk_of_bias": RISK_OF_BIAS,
    "adverse_events": ADVERSE_EVENTS,
}
EXTRACTION_SHEETS = tuple(SHEETS)
# key columns identifying a row (what audit, compare and updates match on)
KEYS: dict[str, tuple[str, ...]] = {
    "studies": ("study_id",),
    "arms": ("study_id", "arm_id"),
    "outcomes": ("study_id", "arm_id", "outcome", "time_point", "value_type"),
    "risk_of_bias": ("study_id", "tool", "domain"),
    "adverse_events": ("study_id", "arm_id", "event"),
    "published_results": ("result_id",),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "studies": ("study_id", "source"),
    "arms": ("study_id", "arm_id", "role", "source"),
    "outcomes": ("study_id", "arm_id", "outcome", "time_point", "time_weeks", "source"),
    "risk_of_bias": ("study_id", "tool", "domain", "judgement", "source"),
    "adverse_events": ("study_id", "event", "source"),
    "published_results": ("result_id", "outcome", "measure", "estimate", "source"),
}
# Key columns whose value must be filled on every row (value_type defaults to 'final').
NOT_EMPTY: dict[str, tuple[str, ...]] = {
    "studies": ("study_id",),
    "arms": ("study_id", "arm_id", "role"),
    "outcomes": ("study_id", "arm_id", "outcome", "time_point", "time_weeks"),
    "risk_of_bias": ("study_id", "tool", "domain", "judgement"),
    "adverse_events": ("study_id", "event"),
    "published_results": ("result_id", "outcome", "measure", "estimate"),
}

ROLES = ("experimental", "control")
VALUE_TYPES = ("final", "change")
INCLUDED_IN = ("main", "excluded")
ROB_DOMAINS = {
    "RoB1": (
        "random_sequence",
        "allocation_concealment",
        "blinding_participants",
        "blinding_outcome",
        "incomplete_outcome",
        "selective_reporting",
        "other_bias",
    ),
    "RoB2": ("randomisation", "deviations", "missing_data", "measurement", "selection", "overall"),
}
ROB_JUDGEMENTS = {"RoB1": ("low", "unclear", "high"), "RoB2": ("low", "some_concerns", "high")}
# RoB1 domains that decide the overall judgement (Cochrane Handbook 5.1, 8.7: key domains
# for a summary across outcomes are sequence generation, allocation concealment, blinding
# and incomplete outcome data).
ROB1_KEY_DOMAINS = (
    "random_sequence",
    "allocation_concealment",
    "blinding_participants",
    "blinding_outcome",
    "incomplete_outcome",
)
MEASURES = ("MD", "SMD", "RR", "OR", "RD", "HR")
MODELS = ("fixed", "random")
BOOL_TEXT = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}

ID_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
NCT_RE = re.compile(r"^NCT\d{8}$")
SOURCE_RE = re.compile(r"^(10\.\d{4,9}/\S+|https?://\S+)$")
SOURCE_SUFFIXES = ("_source", "_location")
# how a derivation the registry wrote itself begins (registry.curation.derive): such values
# were computed from others in the row, never typed by a curator
DERIVED_MARK = "registry derived"


def columns_for(sheet: str, protocol: Protocol | None) -> dict[str, str]:
    """Ordered column -> type of a sheet, including the protocol's characteristic columns."""
    if sheet == "published_results":
        return dict(PUBLISHED)
    cols = dict(SHEETS[sheet])
    if sheet == "studies" and protocol is not None:
        for c in protocol.characteristics:
            if c.id not in cols:
                cols[c.id] = "num" if c.type == "number" else "str"
    return cols


def source_parts(text: str) -> list[str]:
    """A source cell may list several addresses separated by ';'."""
    return [p.strip() for p in str(text).split(";") if p.strip()]


def valid_source(text: Any) -> bool:
    """True when every part of a source cell is a DOI or an http(s) URL."""
    if is_missing(text):
        return True
    parts = source_parts(text)
    return bool(parts) and all(SOURCE_RE.match(p) for p in parts)


def parse_bool(value: Any) -> bool | None:
    """true/false/yes/no/1/0 (any case) -> bool; empty -> None; other -> raises ValueError."""
    if is_missing(value):
        return None
    key = str(value).strip().lower()
    if key in BOOL_TEXT:
        return BOOL_TEXT[key]
    raise ValueError(value)


def companion_base(col: str) -> str | None:
    """``dose_source`` -> ``dose``: the column a provenance companion column belongs to."""
    for suf in SOURCE_SUFFIXES:
        if col.endswith(suf) and len(col) > len(suf):
            return col[: -len(suf)]
    return None
