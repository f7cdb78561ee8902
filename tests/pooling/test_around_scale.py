"""Leave-one-out and cumulative analyses in O(k) memory (issue 11 item 5).

The expected values are plain refits with ``rma`` (metafor's ``leave1out`` is defined as
exactly that); the closed-form / series path must agree with them.
"""

from __future__ import annotations

import numpy as np
import pytest

from registry.pooling import cumulative, leave_one_out, rma


@pytest.mark.parametrize("method", ["FE", "DL", "REML", "PM"])
def test_leave_one_out_of_5000_studies_equals_refits(method: str) -> None:
    # the old all-at-once path built 5000 x 4999 matrices (~4 GB in rma_batch's temporaries)
    rng = np.random.default_rng(7)
    k = 5000
    v = rng.uniform(0.01, 0.5, k)
    y = rng.normal(0.3, np.sqrt(v + 0.05))
    loo = leave_one_out(y, v, method=method)
    assert len(loo.results) == k
    for i in (0, 1234, k - 1):
        one = rma(np.delete(y, i), np.delete(v, i), method=method, tau2_ci=False)
        got = loo.results[i]
        for f in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "i2", "q", "pi_lb", "pval"):
            assert getattr(got, f) == pytest.approx(getattr(one, f), rel=1e-9, abs=1e-12), f
        assert got.weights_percent == pytest.approx(one.weights_percent)
    assert loo.column("estimate")[1234] == loo.results[1234].estimate


@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
def test_leave_one_out_with_an_outlier_and_homogeneous_refits(method: str) -> None:
    # 300 nearly homogeneous studies and one far outlier: leaving the outlier out drops tau2
    # far from the other refits' (summed directly, not by the series) and several refits
    # sit at tau2 = 0 or near it; every refit must still equal a plain rma refit.
    rng = np.random.default_rng(3)
    k = 300
    v = rng.uniform(0.02, 0.3, k)
    y = rng.normal(0.1, np.sqrt(v))
    y[17] = 6.0
    loo = leave_one_out(y, v, method=method)
    for i in (0, 17, 150, k - 1):
        one = rma(np.delete(y, i), np.delete(v, i), method=method, tau2_ci=False)
        got = loo.results[i]
        for f in ("estimate", "se", "tau2", "i2", "q", "pval"):
            assert getattr(got, f) == pytest.approx(getattr(one, f), rel=1e-9, abs=1e-12), f
    assert loo.results[17].tau2 < 0.5 * loo.results[0].tau2


def test_cumulative_of_1500_studies_runs_in_blocks() -> None:
    rng = np.random.default_rng(8)
    k = 1500
    v = rng.uniform(0.01, 0.5, k)
    y = rng.normal(0.3, np.sqrt(v + 0.05))
    cum = cumulative(y, v, method="DL")
    one = rma(y[:1000], v[:1000], method="DL", tau2_ci=False)
    assert cum.results[999].estimate == pytest.approx(one.estimate, rel=1e-9)
    assert cum.results[k - 1].k == k
