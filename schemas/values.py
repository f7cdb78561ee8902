"""Values shared by every layer above ingest: constants, missing-value test, value parsers.

One place for what used to be written many times (the 97.5 % normal quantile, the set of
ratio measures, the NaN check, the printed p-value parser). It lives in the validation layer,
imports nothing heavy (no pandas, no scipy), so ``schemas/`` never has to import from
``registry/`` and the upper layers import it cheaply.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

# Phi^-1(0.975), the standard normal 97.5 % quantile (scipy.stats.norm.ppf(0.975) to 16
# digits): Wald 95 % CIs, funnel regions, SE from a printed CI.
Z975 = 1.959963984540054

# Measures analysed and drawn on the log scale (null 1): odds, risk, hazard, incidence-rate
# and mean ratios, Peto's OR.
RATIO_MEASURES = frozenset({"OR", "RR", "HR", "IRR", "ROM", "PETO", "PETO_OR"})


def is_ratio(measure: str) -> bool:
    """True for a measure analysed on the log scale (OR, RR, HR ...)."""
    return measure.upper() in RATIO_MEASURES


def is_missing(value: Any) -> bool:
    """True for None, a float NaN, pandas' NA/NaT (checked without importing pandas)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def float_or_none(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing (None, NaN, NA) or not a number."""
    if is_missing(value):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def printed_decimals(x: float) -> int:
    """Decimals a printed number most likely had (from the shortest repr of the float).

    Trailing zeros are lost on the way through a float ("2.50" -> 2.5 -> 1), which makes
    rounding tolerances built on this a little wider, never narrower.
    """
    text = repr(float(x))
    if "e" in text:
        return 6
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def parse_p(text: Any) -> tuple[float, float]:
    """Printed p-value -> the interval of true values it stands for.

    ``"0.002"`` -> [0.0015, 0.0025] (half a unit of the last printed digit);
    ``"<0.00001"`` -> [0, 0.00001]; ``">0.05"`` -> [0.05, 1]. Raises ValueError otherwise.
    """
    s = str(text).strip().replace(" ", "").lower().removeprefix("p")
    s = s.lstrip("=")
    op = ""
    if s[:1] in ("<", ">"):
        op, s = s[0], s[1:].lstrip("=")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(text) from None
    v = float(d)
    if not 0 <= v <= 1:
        raise ValueError(text)
    if op == "<":
        return 0.0, v
    if op == ">":
        return v, 1.0
    exp = d.as_tuple().exponent
    half = 0.5 * 10.0 ** (exp if isinstance(exp, int) else 0)
    return max(0.0, v - half), min(1.0, v + half)
