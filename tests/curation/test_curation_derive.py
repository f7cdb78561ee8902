"""Derivations of mean/SD, multi-arm combination and the overall risk-of-bias rule."""

from __future__ import annotations

import numpy as np
import pytest

from registry.curation import combine_groups, rob_overall
from registry.curation.derive import (
    derive_row,
    mean_sd_from_five,
    mean_sd_from_iqr,
    mean_sd_from_range,
    sd_from_ci,
    sd_from_se,
)


def test_sd_from_se() -> None:
    # Cochrane Handbook 6.5.2.2: SD = SE * sqrt(N); SE 0.5 with N 36 -> 0.5 * 6 = 3
    d = sd_from_se(0.5, 36)
    assert d.value == pytest.approx(3.0) and "6.5.2.2" in d.how


def test_sd_from_ci_large_sample_uses_normal_quantile() -> None:
    # N = 100 >= 60: SD = sqrt(100) * (2.0 - 1.0) / (2 * 1.959964) = 10 / 3.919928 = 2.551067
    assert sd_from_ci(1.0, 2.0, 100).value == pytest.approx(2.551067, abs=1e-6)


def test_sd_from_ci_small_sample_uses_t_quantile() -> None:
    # N = 25 < 60: t(0.975, 24 df) = 2.0639 (t table); SD = 5 * 2 / (2 * 2.0639) = 2.42260
    d = sd_from_ci(4.5, 6.5, 25)
    assert d.value == pytest.approx(5 * 2 / (2 * 2.0639), abs=1e-4)
    assert "t(24 df)" in d.how


def test_mean_sd_from_iqr() -> None:
    # Luo 2018 S2 weight w = 0.7 + 0.39/n; n = 100 -> w = 0.7039;
    # q1 1, median 2, q3 5: mean = 0.7039 * 3 + 0.2961 * 2 = 2.7039
    mean, sd = mean_sd_from_iqr(1, 2, 5, 100)
    assert mean.value == pytest.approx(2.7039, abs=1e-9)
    # Wan 2014 eq. 16: SD = IQR / (2 * Phi^-1((0.75 n - 0.125)/(n + 0.25))); for large n the
    # denominator tends to 2 * 0.67449 = 1.34898 (normal IQR = 1.349 SD)
    _, sd_big = mean_sd_from_iqr(10, 12, 11.34898 + 2.6, 10**7)
    assert sd_big.value == pytest.approx((11.34898 + 2.6 - 10) / 1.34898, rel=1e-4)
    assert sd.value > 0 and "Wan" in sd.how and "Luo" in mean.how


def test_mean_sd_from_range() -> None:
    # Luo 2018 S1: w = 4 / (4 + 50^0.75) = 4 / 22.8035 = 0.175412 for n = 50;
    # min 0, median 10, max 40: mean = 0.175412 * 20 + 0.824588 * 10 = 11.75412
    mean, sd = mean_sd_from_range(0, 10, 40, 50)
    assert mean.value == pytest.approx(11.7541, abs=1e-4)
    # Wan 2014 eq. 9: xi(50) = 2 * Phi^-1(49.625 / 50.25) = 2 * Phi^-1(0.987562); normal
    # table: Phi(2.24) = 0.98745, Phi(2.25) = 0.98778 -> Phi^-1 = 2.2434 (linear
    # interpolation); SD = 40 / 4.4868 = 8.915
    assert sd.value == pytest.approx(8.915, abs=2e-3)


def test_mean_sd_from_five_symmetric() -> None:
    # any weights give the centre for a symmetric five-number summary
    mean, sd = mean_sd_from_five(0, 5, 10, 15, 20, 40)
    assert mean.value == pytest.approx(10.0) and sd.value > 0


def test_derive_row_prefers_given_values() -> None:
    assert derive_row({"mean": 1.0, "sd": 2.0, "se": 9.0}, 10) == {}
    assert derive_row({"mean": 1.0, "se": 0.5}, None) == {}  # no n, no derivation
    out = derive_row({"mean": 1.0, "ci_lower": 0.0, "ci_upper": 2.0, "ci_level": 0.9}, 100)
    # 90% CI, N 100: SD = 10 * 2 / (2 * 1.644854) = 6.079568
    assert out["sd"] == pytest.approx(6.079568, abs=1e-6)
    assert out["derivation"].startswith("registry derived sd: SD = sqrt(n)")


def test_combine_groups_matches_the_pooled_raw_data() -> None:
    # The Handbook 6.5.2.10 formula is exact: combining two groups' (n, mean, SD) equals
    # the mean and SD (ddof 1) of the concatenated raw observations.
    rng = np.random.default_rng(4)
    a, b, c = rng.normal(10, 2, 13), rng.normal(12, 3, 21), rng.normal(9, 1, 8)
    groups = [(len(x), float(x.mean()), float(x.std(ddof=1))) for x in (a, b, c)]
    n, m, s = combine_groups(groups)
    allx = np.concatenate([a, b, c])
    assert n == 42
    assert m == pytest.approx(allx.mean(), abs=1e-12)
    assert s == pytest.approx(allx.std(ddof=1), abs=1e-12)


@pytest.mark.parametrize(
    ("judgements", "expected"),
    [
        ({}, None),
        ({d: "low" for d in ("random_sequence", "allocation_concealment", "blinding_participants",
                             "blinding_outcome", "incomplete_outcome")}, "low"),
        ({"random_sequence": "low", "allocation_concealment": "low"}, "unclear"),
        ({"random_sequence": "high", "allocation_concealment": "low"}, "high"),
        ({"random_sequence": "low", "selective_reporting": "high"}, "unclear"),  # not a key domain
    ],
)  # fmt: skip
def test_rob1_overall(judgements: dict[str, str], expected: str | None) -> None:
    assert rob_overall(judgements) == expected


def test_rob2_overall() -> None:
    assert rob_overall({"overall": "some_concerns", "randomisation": "low"}, "RoB2") == (
        "some_concerns"
    )
    assert rob_overall({"randomisation": "high"}, "RoB2") == "high"
