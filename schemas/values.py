"""Parsers of printed values (p-values ...) shared by the schemas and the curation layer.

They live here, in the validation layer, so that ``schemas/`` never has to import from
``registry/``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


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
