"""Protocol loader: values land in frozen dataclasses; every mistake names file and key path."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from registry.errors import InputError
from schemas.protocol import list_reviews, load_protocol

from .conftest import PROTOCOL


def test_loads_the_mini_protocol(mini: Path) -> None:
    p = load_protocol("mini")
    assert p.review == "mini" and p.example is True
    assert p.path == mini / "protocol.yaml"
    assert [o.id for o in p.outcomes] == ["score", "albumin", "death"]
    alb = p.outcome("albumin")
    # protocol: units {g/L: 1, g/dL: 10} -> 3.4 g/dL is 34 g/L
    assert alb.factor("g/dL") == 10 and alb.to_canonical(3.4, "g/dL") == pytest.approx(34)
    assert alb.knows_unit("g/L") and alb.knows_unit(None) and not alb.knows_unit("mg/dL")
    assert p.outcome("death").measure == "RR" and p.outcome("score").primary
    assert p.time_point("3m").contains(16) and not p.time_point("3m").contains(17)
    assert p.time_point_for(5).id == "1m" and p.time_point_for(8) is None
    dose = next(s for s in p.subgroups if s.id == "dose")
    assert dose.band_of(0.5) == "low" and dose.band_of(1.0) == "high" and dose.band_of(None) is None
    assert p.characteristic("route").levels == ("oral", "iv")
    assert p.grade["score"]["indirectness"] == "not_serious"
    assert p.previous_review is not None and p.previous_review.prisma["included"] == 2
    assert p.previous_review.prisma["excluded_full_text"] == {"not_rct": 3}
    assert p.searches[0].source == "pubmed" and p.searches[0].live
    assert p.question.rct_only and p.preset == "revman5"
    assert p.eligibility.reason("not_rct").label.startswith("Not a randomised")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.review = "x"  # type: ignore[misc]


def test_list_reviews(reviews: Path) -> None:
    (reviews / "not-a-review").mkdir()
    assert list_reviews() == ["mini"]


def _bad(reviews: Path, old: str, new: str) -> str:
    f = reviews / "mini" / "protocol.yaml"
    text = PROTOCOL
    assert old in text, old
    f.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as err:
        load_protocol("mini")
    msg = str(err.value)
    assert msg.startswith(str(f)), msg
    return msg


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("example: true", "exampel: true", "exampel: unknown key"),
        ("    plausible_range: [0, 40]", "    plausible_rnage: [0, 40]",
         "outcomes[0].plausible_rnage: unknown key"),
        ("    kind: continuous\n    unit: points", "    kind: ordinal\n    unit: points",
         "outcomes[0].kind: 'ordinal' is not one of continuous, dichotomous"),
        ("units: {g/L: 1, g/dL: 10}", "units: {g/L: 1, g/dL: ten}",
         "outcomes[1].units.g/dL: expected a number"),
        ("units: {g/L: 1, g/dL: 10}", "units: {g/L: 1, g/dL: 0}",
         "outcomes[1].units.g/dL: conversion factor must be > 0"),
        ("plausible_range: [10, 60]", "plausible_range: [60, 10]",
         "outcomes[1].plausible_range: low 60.0 must be below high 10.0"),
        ("    measure: RR", "    measure: MD", "outcomes[2].measure: MD is not a measure"),
        ("window: [10, 16]", "window: [5, 16]", "time_points: windows of '1m' and '3m' overlap"),
        ("window: [10, 16]", "window: [13, 16]", "time_points[1].window: window [13.0, 16.0]"),
        ("by: route}", "by: colour}", "subgroups[0].by: 'colour' is neither a characteristic"),
        ("review: mini", "review: other", "review: 'other' must equal the folder name 'mini'"),
        ("preset: revman5", "preset: revman4", "analysis.preset: 'revman4' is not one of"),
        ("{indirectness: not_serious}", "{indirectness: bad}", "grade.score.indirectness"),
        ("score: {indirectness", "meld: {indirectness", "grade.meld: unknown key"),
        (
            'eligibility:\n  inclusion: ["randomised"]\n  exclusion_reasons:\n'
            '    - {id: not_rct, label: "Not a randomised controlled trial"}\n',
            "eligibility: [randomised]\n",
            "eligibility: expected a mapping",
        ),
        ("  - {id: route, type: category, levels: [oral, iv]}",
         "  - {id: route, type: category}", "characteristics[0].levels: a category"),
        ("  - {id: 1m,", "  - {id: 3m,", "time_points[1].id: duplicate id '3m'"),
        ("  - {id: etiology, type: text}",
         "  - {id: etiology, type: text, plausible_range: [1, 2]}",
         "characteristics[2].plausible_range: a range only applies to type number"),
        ("  prisma: {identified: 10,", "  prisma: {identified: -1,",
         "previous_review.prisma.identified: expected a whole number >= 0"),
    ],
)  # fmt: skip
def test_protocol_errors_name_file_and_key(
    reviews: Path, old: str, new: str, expected: str
) -> None:
    msg = _bad(reviews, old, new)
    assert expected in msg, msg


def test_missing_required_and_bad_yaml(reviews: Path) -> None:
    f = reviews / "mini" / "protocol.yaml"
    f.write_text(PROTOCOL.replace('title: "Mini review for the curation tests"\n', ""))
    with pytest.raises(InputError, match="title: required key is missing"):
        load_protocol("mini")
    f.write_text("review: mini\n  title: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_protocol("mini")
    with pytest.raises(InputError, match="no protocol file"):
        load_protocol("nope")


def test_load_by_folder_and_file(mini: Path) -> None:
    assert load_protocol(mini).review == "mini"
    assert load_protocol(mini / "protocol.yaml").review == "mini"


@pytest.mark.parametrize(
    ("designs", "rct_only"),
    [("RCT", True), ("Only RCTs", True), ("randomised controlled trials", True),
     ("RCTs and non-randomised studies", False), ("nRCT", False),
     ("Prospective trials with random, alternate or systematic allocation", False),
     ("RCTs and quasi-randomised trials", False)],
)  # fmt: skip
def test_rct_only(designs: str, rct_only: bool) -> None:
    from schemas.protocol import Question

    assert Question(study_designs=designs).rct_only is rct_only
