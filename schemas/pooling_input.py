"""pandera schema guarding the boundary between curation and pooling.

``registry.curation.pooling_inputs`` validates every PoolingInput's frame with
:func:`validate_pooling_data` before handing it over, so pooling only ever sees one row per
study with positive sizes, positive SDs and events within their totals.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ingest.errors import ValidationFailed

ROB_LEVELS = ("low", "unclear", "some_concerns", "high")

_COMMON = {
    "study_id": pa.Column(str, unique=True, nullable=False),
    "label": pa.Column(str, nullable=False),
    "year": pa.Column(float, nullable=True, coerce=True),
    "time_weeks": pa.Column(float, pa.Check.ge(0), nullable=False, coerce=True),
    "design_assessed": pa.Column(nullable=True),
    "is_rct": pa.Column(bool, nullable=False),
    "rob_overall": pa.Column(checks=pa.Check.isin(ROB_LEVELS), nullable=True),
}
_POSITIVE_N = [pa.Check.gt(0), pa.Check(lambda s: s == s.round(), error="whole number")]
CONTINUOUS = pa.DataFrameSchema(
    {
        **_COMMON,
        "n1": pa.Column(float, _POSITIVE_N, nullable=False, coerce=True),
        "mean1": pa.Column(float, nullable=False, coerce=True),
        "sd1": pa.Column(float, pa.Check.gt(0), nullable=False, coerce=True),
        "n2": pa.Column(float, _POSITIVE_N, nullable=False, coerce=True),
        "mean2": pa.Column(float, nullable=False, coerce=True),
        "sd2": pa.Column(float, pa.Check.gt(0), nullable=False, coerce=True),
        "value_type": pa.Column(str, pa.Check.isin(["final", "change"]), nullable=False),
    },
    strict=False,
    name="pooling input (continuous)",
)
DICHOTOMOUS = pa.DataFrameSchema(
    {
        **_COMMON,
        "events1": pa.Column(float, pa.Check.ge(0), nullable=False, coerce=True),
        "n1": pa.Column(float, _POSITIVE_N, nullable=False, coerce=True),
        "events2": pa.Column(float, pa.Check.ge(0), nullable=False, coerce=True),
        "n2": pa.Column(float, _POSITIVE_N, nullable=False, coerce=True),
    },
    checks=[
        pa.Check(lambda df: df["events1"] <= df["n1"], error="events1 <= n1"),
        pa.Check(lambda df: df["events2"] <= df["n2"], error="events2 <= n2"),
    ],
    strict=False,
    name="pooling input (dichotomous)",
)


def validate_pooling_data(df: pd.DataFrame, kind: str, what: str) -> pd.DataFrame:
    """Validate (lazily) one PoolingInput frame; ValidationFailed lists every problem."""
    schema = CONTINUOUS if kind == "continuous" else DICHOTOMOUS
    try:
        return schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        problems = [
            f"{what}: row {r['index']}, column {r['column']}: {r['check']} "
            f"(value {r['failure_case']!r})"
            for r in exc.failure_cases.to_dict("records")
        ]
        raise ValidationFailed(f"{what}: pooling input is not valid", problems) from None
