"""How good a screening order is, and how much two screeners agree.

Order metrics follow the definitions in ``../shared/screening/README.md`` (as used by the
ASReview simulation studies, Ferdinands 2020): the prior records are left out, N is the
number of remaining records and R the inclusions among them.

- WSS@95 = 100·((N − k95)/N − 0.05), k95 = records screened until ≥ 0.95·R are found
  (Cohen et al. 2006, JAMIA 13:206, "work saved over sampling").
- RRF@10 = share (%) of the R inclusions found in the first ceil(N/10) records.
- records to find all = records screened until the last inclusion is found.

Agreement: Cohen's kappa (Cohen 1960, Educ Psychol Meas 20:37) via scikit-learn's
``cohen_kappa_score`` and the plain percent agreement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import cohen_kappa_score


@dataclass(frozen=True)
class OrderMetrics:
    """Scores of one screening order (priors left out)."""

    n: int  # records after the priors
    r: int  # inclusions after the priors
    wss95: float
    rrf10: float
    to_find_all: int  # records screened (after priors) until the last inclusion

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready mapping."""
        return {
            "records": self.n,
            "includes": self.r,
            "wss95": round(self.wss95, 2),
            "rrf10": round(self.rrf10, 2),
            "records_to_find_all": self.to_find_all,
        }


def order_metrics(labels_in_order: Sequence[int], n_priors: int) -> OrderMetrics:
    """WSS@95, RRF@10 and records-to-find-all of labels listed in presentation order."""
    y = np.asarray(labels_in_order, dtype=int)[n_priors:]
    n, r = len(y), int(y.sum())
    if r == 0:
        return OrderMetrics(n, 0, float("nan"), float("nan"), 0)
    found = np.cumsum(y)
    # 0.95·R inclusions: the first position where found >= 0.95·R (README: with R = 19 all 19)
    k95 = int(np.argmax(found >= 0.95 * r)) + 1
    wss = 100.0 * ((n - k95) / n - 0.05)
    tenth = math.ceil(n / 10)
    rrf = 100.0 * float(found[tenth - 1]) / r
    last = int(np.argmax(found >= r)) + 1
    return OrderMetrics(n, r, wss, rrf, last)


@dataclass(frozen=True)
class Agreement:
    """Agreement of two screeners on the records both decided at one stage."""

    stage: str
    pairs: int
    percent: float | None
    kappa: float | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "stage": self.stage,
            "pairs": self.pairs,
            "percent_agreement": None if self.percent is None else round(self.percent, 1),
            "kappa": None if self.kappa is None else round(self.kappa, 3),
        }


def agreement(stage: str, first: Sequence[str], second: Sequence[str]) -> Agreement:
    """Percent agreement and Cohen's kappa of two parallel lists of decisions."""
    if len(first) != len(second):
        raise ValueError("agreement needs two lists of the same length")
    if not first:
        return Agreement(stage, 0, None, None)
    same = sum(a == b for a, b in zip(first, second, strict=True))
    percent = 100.0 * same / len(first)
    if len(set(first) | set(second)) < 2:
        # One category only: chance agreement is 1 and kappa is undefined (0/0).
        return Agreement(stage, len(first), percent, None)
    kappa = float(cohen_kappa_score(list(first), list(second)))
    return Agreement(stage, len(first), percent, kappa)
