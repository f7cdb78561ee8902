"""The shared values module: constants checked against scipy, the missing-value test."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from schemas.values import Z975, float_or_none, is_missing, is_ratio


def test_z975_is_the_normal_quantile() -> None:
    assert Z975 == pytest.approx(float(stats.norm.ppf(0.975)), rel=1e-15)


@pytest.mark.parametrize("v", [None, math.nan, float("nan"), pd.NA, pd.NaT])
def test_missing(v: object) -> None:
    assert is_missing(v) and float_or_none(v) is None


@pytest.mark.parametrize("v,f", [(0, 0.0), ("2.5", 2.5), (-1, -1.0), ("x", None)])
def test_float_or_none(v: object, f: float | None) -> None:
    assert not is_missing(v) and float_or_none(v) == f


def test_ratio() -> None:
    assert is_ratio("or") and is_ratio("RR") and not is_ratio("MD") and not is_ratio("RD")
