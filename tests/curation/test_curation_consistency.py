"""An SD that contradicts the SE or CI of the same arm, and a missing header (issue 10, item 5).

Expected values: SD = SE x sqrt(n) and SD = sqrt(n) x (upper - lower) / (2 x t_{0.975, n-1})
for n < 60 (Cochrane Handbook v6.5, 6.5.2.2). Mini review, Beta2012 trt score: SE 0.5, n 30,
so SD ~ 0.5 x sqrt(30) = 2.74; Alpha2010 trt score: SD 3.1, n 18, t_{0.975,17} = 2.1098, so
its 95 % CI is 12.5 +/- 2.1098 x 3.1 / sqrt(18) = [10.96, 14.04].
"""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.curation import add_trial
from registry.errors import ValidationFailed
from registry.store import Store

from .helpers import drop_column, set_cell

RULE = "SD contradicts the SE or the CI given for the same arm"


def _problems(db: Store, folder: Path) -> list[str]:
    before = db.dump()
    with pytest.raises(ValidationFailed) as err:
        add_trial(db, folder, "mini")
    assert db.dump() == before
    return err.value.problems


def test_sd_typed_where_the_se_belongs_is_refused(sheet_copy: Path, db: Store) -> None:
    set_cell(sheet_copy, "outcomes", 4, "sd", "0.5")  # Beta2012 trt: the SE again
    problems = _problems(db, sheet_copy)
    assert len(problems) == 1 and "row 4, column sd" in problems[0] and RULE in problems[0]


def test_sd_agreeing_with_se_and_ci_is_accepted(sheet_copy: Path, db: Store) -> None:
    set_cell(sheet_copy, "outcomes", 4, "sd", "2.7")  # 0.5 x sqrt(30) = 2.74, printed 2.7
    set_cell(sheet_copy, "outcomes", 2, "ci_lower", "10.96")
    set_cell(sheet_copy, "outcomes", 2, "ci_upper", "14.04")
    add_trial(db, sheet_copy, "mini")


def test_sd_contradicting_the_ci_is_refused(sheet_copy: Path, db: Store) -> None:
    # CI [12.0, 13.0] implies SD = sqrt(18) x 1.0 / (2 x 2.1098) = 1.01, not 3.1
    set_cell(sheet_copy, "outcomes", 2, "ci_lower", "12.0")
    set_cell(sheet_copy, "outcomes", 2, "ci_upper", "13.0")
    problems = _problems(db, sheet_copy)
    assert len(problems) == 1 and "row 2, column sd" in problems[0] and RULE in problems[0]


@pytest.mark.parametrize(("sheet", "column"), [("arms", "arm_id"), ("outcomes", "study_id"),
                                               ("studies", "source")])  # fmt: skip
def test_one_missing_header_is_one_problem(
    sheet_copy: Path, db: Store, sheet: str, column: str
) -> None:
    drop_column(sheet_copy, sheet, column)
    problems = _problems(db, sheet_copy)
    assert len(problems) == 1, problems
    assert f"{sheet}.csv: header, column {column}: required column is missing" in problems[0]
