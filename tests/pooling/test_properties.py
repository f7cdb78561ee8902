"""Property tests (hypothesis): what must hold for any data, whatever the numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from registry.pooling import cumulative, leave_one_out, rma, rma_batch

# effect sizes on a 1e-4 grid: realistic, and free of 1e-300-sized values whose squares underflow
finite = st.integers(-50_000, 50_000).map(lambda i: i / 10_000)
variance = st.floats(min_value=1e-3, max_value=4, allow_nan=False, allow_infinity=False)


@st.composite
def studies(draw, min_k: int = 2, max_k: int = 15):
    k = draw(st.integers(min_k, max_k))
    y = np.array(draw(st.lists(finite, min_size=k, max_size=k)))
    v = np.array(draw(st.lists(variance, min_size=k, max_size=k)))
    return y, v


METHODS = ["FE", "DL", "REML", "PM"]
FIELDS = ["estimate", "se", "ci_lb", "ci_ub", "tau2", "i2", "h2", "q", "pi_lb", "pi_ub", "pval"]


@settings(max_examples=60, deadline=None)
@given(data=studies(), seed=st.integers(0, 2**32 - 1), method=st.sampled_from(METHODS),
       hksj=st.booleans())
def test_result_does_not_depend_on_study_order(data, seed, method, hksj) -> None:
    y, v = data
    perm = np.random.default_rng(seed).permutation(y.size)
    assume(not (hksj and np.ptp(y) == 0))  # HKSJ is undefined then (test_edge_cases)
    a = rma(y, v, method=method, hksj=hksj)
    b = rma(y[perm], v[perm], method=method, hksj=hksj)
    for f in FIELDS:
        assert getattr(b, f) == pytest.approx(getattr(a, f), rel=1e-9, abs=1e-12), f
    assert np.array(b.weights_percent) == pytest.approx(np.array(a.weights_percent)[perm])


@settings(max_examples=80, deadline=None)
@given(data=studies(min_k=1))
def test_fixed_effect_estimate_lies_within_the_studies(data) -> None:
    y, v = data
    est = rma(y, v, method="FE").estimate
    assert y.min() - 1e-12 <= est <= y.max() + 1e-12


@settings(max_examples=80, deadline=None)
@given(data=studies(), method=st.sampled_from(["DL", "REML", "PM"]))
def test_tau2_and_its_ci_are_non_negative(data, method) -> None:
    y, v = data
    r = rma(y, v, method=method)
    assert r.tau2 >= 0
    assert 0 <= r.tau2_ci[0] <= r.tau2_ci[1]
    assert 0 <= r.i2 < 100
    assert sum(r.weights_percent) == pytest.approx(100)


@settings(max_examples=60, deadline=None)
@given(value=finite, vs=st.lists(variance, min_size=2, max_size=12),
       method=st.sampled_from(["DL", "REML", "PM"]))
def test_identical_studies_have_no_heterogeneity(value, vs, method) -> None:
    v = np.array(vs)
    r = rma(np.full(v.size, value), v, method=method)
    assert r.tau2 == 0
    assert r.i2 == 0
    assert r.q == pytest.approx(0, abs=1e-20)
    assert r.estimate == pytest.approx(value)


@settings(max_examples=30, deadline=None)
@given(batch=st.lists(studies(min_k=2, max_k=8), min_size=1, max_size=6),
       method=st.sampled_from(METHODS), hksj=st.booleans())
def test_batch_equals_one_fit_at_a_time(batch, method, hksj) -> None:
    if hksj:
        assume(all(np.ptp(b[0]) > 0 for b in batch))
    res = rma_batch([b[0] for b in batch], [b[1] for b in batch], method=method, hksj=hksj)
    for i, (y, v) in enumerate(batch):
        one = rma(y, v, method=method, hksj=hksj)
        for f in ["estimate", "se", "ci_lb", "ci_ub", "tau2", "i2", "h2", "q", "pi_lb", "pi_ub",
                  "pval", "q_pval"]:
            assert getattr(res, f)[i] == pytest.approx(getattr(one, f), rel=1e-7, abs=1e-10), f


@settings(max_examples=25, deadline=None)
@given(data=studies(min_k=3, max_k=10), method=st.sampled_from(METHODS), hksj=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_vectorised_leave_one_out_and_cumulative_equal_refitting(data, method, hksj, seed):
    """leave_one_out/cumulative fit all subsets at once; the same as one rma() per subset."""
    y, v = data
    if hksj:
        assume(all(np.ptp(np.delete(y, i)) > 0 for i in range(y.size)))

    def refit(hk: bool):
        def one(ix: np.ndarray):
            single = ix.size == 1
            return rma(y[ix], v[ix], method="FE" if single else method, hksj=hk and not single,
                       allow_single=True)

        return one

    fast = leave_one_out(y, v, method=method, hksj=hksj)
    slow = leave_one_out(y, v, fit=refit(hksj))
    order = np.random.default_rng(seed).permutation(y.size).astype(float)
    fast_c = cumulative(y, v, order=order, method=method)
    slow_c = cumulative(y, v, order=order, fit=refit(False))
    for a, b in ((fast, slow), (fast_c, slow_c)):
        assert a.order == b.order
        for ra, rb in zip(a.results, b.results, strict=True):
            for f in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "i2", "q", "pi_lb", "pval"):
                assert getattr(ra, f) == pytest.approx(getattr(rb, f), rel=1e-7, abs=1e-10), f
            assert ra.weights_percent == pytest.approx(rb.weights_percent)
