"""More metafor cases: Q-profile CI for tau2, meta-regression, trim-and-fill on random-effects
models, MH/Peto with double-zero studies, SMD with large samples.

Expected values: ``data/metafor_extra.json``, produced by ``data/make_metafor_extra.R`` with
R's metafor 3.8-1 (Debian r-cran-metafor) on metadat's dat.bcg, dat.normand1999 and
dat.yusuf1985 table 6 (regenerate with ``Rscript make_metafor_extra.R``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from registry.pooling import escalc, metareg, rma, rma_mh, rma_peto, trimfill
from registry.pooling.models import tau2_qprofile_ci

CASES = json.loads((Path(__file__).parent / "data" / "metafor_extra.json").read_text())["cases"]


def _arr(x: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in x], float)


def _check(got: dict, case: dict, keys: list[str]) -> None:
    for key in keys:
        ref = case[key]
        if ref is None:
            continue
        assert got[key] == pytest.approx(ref, rel=1e-6, abs=1e-9), key


def _ids(kind: str) -> list[dict]:
    return [c for c in CASES if c["kind"] == kind]


@pytest.mark.parametrize("case", _ids("tau2_ci"), ids=lambda c: f"{c['case']}-{c['method']}")
def test_tau2_qprofile_ci(case: dict) -> None:
    y, v = _arr(case["yi"]), _arr(case["vi"])
    ok = ~np.isnan(y)
    res = rma(y[ok], v[ok], method=case["method"])
    lb, ub = res.tau2_ci
    assert res.tau2 == pytest.approx(case["tau2"], rel=1e-6, abs=1e-9)
    assert (lb, ub) == pytest.approx((case["ci_lb"], case["ci_ub"]), rel=1e-6, abs=1e-9)
    assert tau2_qprofile_ci(y[ok], v[ok]) == (lb, ub)


@pytest.mark.parametrize("case", _ids("metareg"),
                         ids=lambda c: f"{c['method']}-{'hksj' if c['hksj'] else 'z'}")
def test_metareg(case: dict) -> None:
    r = metareg(_arr(case["yi"]), _arr(case["vi"]), _arr(case["moderator"]),
                method=case["method"], hksj=case["hksj"])
    got = r.to_json_dict()
    _check(got, case, ["intercept", "slope", "se_intercept", "se_slope", "stat_slope",
                       "pval_slope", "ci_lb_slope", "ci_ub_slope", "tau2", "QE", "QE_pval",
                       "QM", "QM_pval"])
    if case["method"] != "FE":
        _check(got, case, ["I2", "R2"])


@pytest.mark.parametrize("case", _ids("trimfill"), ids=lambda c: f"{c['case']}-{c['method']}")
def test_trimfill_models(case: dict) -> None:
    tf = trimfill(_arr(case["yi"]), _arr(case["vi"]), method=case["method"])
    assert tf.k0 == case["k0"]
    assert tf.side == case["side"]
    got = {"estimate": tf.estimate, "ci_lb": tf.ci_lb, "ci_ub": tf.ci_ub,
           "tau2": tf.result.tau2}
    _check(got, case, ["estimate", "ci_lb", "ci_ub", "tau2"])


@pytest.mark.parametrize("case", _ids("mh"), ids=lambda c: c["measure"])
def test_mh_peto_with_double_zero_studies(case: dict) -> None:
    args = [_arr(case[c]) for c in ("events1", "n1", "events2", "n2")]
    ok = ~np.isnan(args[0])
    args = [a[ok] for a in args]
    if case["measure"] == "PETO":
        r = rma_peto(*args)
    else:
        r = rma_mh(*args, case["measure"])
    got = {"estimate": r.estimate, "se": r.se, "Q": r.q, "Q_pval": r.q_pval, "I2": r.i2}
    _check(got, case, ["estimate", "se", "Q", "Q_pval", "I2"])


def test_smd_large_samples() -> None:
    (case,) = _ids("smd_large")
    es = escalc("SMD", **{k: case[k] for k in ("n1", "mean1", "sd1", "n2", "mean2", "sd2")})
    assert es.yi == pytest.approx(case["yi"], rel=1e-9)
    assert es.vi == pytest.approx(case["vi"], rel=1e-9)
