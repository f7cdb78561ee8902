"""Conversions curators need, each checked against a worked value with its source."""

from __future__ import annotations

import math

import pytest

from registry.errors import StatsError
from registry.pooling.conversions import (
    change_sd,
    combine_arms,
    combine_arms_events,
    correlation_from_sds,
    mean_sd_from_median,
    sd_from_ci,
    sd_from_se,
    se_from_ci,
    split_shared_control,
)


def test_sd_from_se() -> None:
    # by hand: SD = SE * sqrt(n) = 0.5 * sqrt(25) = 2.5 (Handbook 6.5.2.2)
    d = sd_from_se(0.5, 25)
    assert d["sd"] == pytest.approx(2.5)
    assert "sqrt(25)" in d.derivation and "6.5.2.2" in d.source


def test_sd_from_ci_small_sample_uses_t() -> None:
    # n = 25, 95% CI 3.4 to 7.6; t(24 df, 0.975) = 2.0638985616 (R: qt(0.975, 24));
    # SD = 5 * 4.2 / (2 * 2.0638985616) = 5.087459... by hand; mean = midpoint 5.5
    d = sd_from_ci(3.4, 7.6, 25)
    assert d["sd"] == pytest.approx(21 / (2 * 2.0638985616), rel=1e-9)
    assert d["mean"] == pytest.approx(5.5)
    assert "t(24 df)" in d.derivation


def test_sd_from_ci_large_sample_uses_z() -> None:
    # n = 100, CI 10 to 12: SD = 10 * 2 / 3.919928 = 5.102134 (Handbook: divide by 3.92)
    d = sd_from_ci(10, 12, 100)
    assert d["sd"] == pytest.approx(20 / 3.919927969, rel=1e-8)
    assert d["sd"] == pytest.approx(20 / 3.92, rel=1e-4)


def test_se_from_ratio_ci() -> None:
    # OR 95% CI 0.5 to 2.0: log CI is symmetric about 0, SE = 2 ln 2 / 3.919928 = 0.353653
    d = se_from_ci(0.5, 2.0, log=True)
    assert d["yi"] == pytest.approx(0, abs=1e-15)
    assert d["sei"] == pytest.approx(2 * math.log(2) / 3.919927969, rel=1e-8)
    assert d["vi"] == pytest.approx(d["sei"] ** 2)


def test_wan_2014_range_sd_worked_example() -> None:
    # metaBLUE's documented example of Wan.std (Wan et al. 2014, scenario S1):
    # X = (1, 4, 10), n = 30 -> sigmahat 2.205578
    d = mean_sd_from_median(30, 4, minimum=1, maximum=10)
    assert d["sd"] == pytest.approx(2.205578, abs=5e-7)


def test_luo_2018_mean_from_range() -> None:
    # by hand: w = 4 / (4 + 30^0.75) = 4 / (4 + 12.818551) = 0.237832;
    # mean = 0.237832 * (1 + 10)/2 + 0.762168 * 4 = 4.356748
    d = mean_sd_from_median(30, 4, minimum=1, maximum=10)
    assert d["mean"] == pytest.approx(4.356748, abs=5e-7)
    assert "Luo 2018" in d.derivation and "w = 4/(4+n^0.75) = 0.237832" in d.derivation
    wan = mean_sd_from_median(30, 4, minimum=1, maximum=10, mean_method="wan")
    assert wan["mean"] == pytest.approx((1 + 2 * 4 + 10) / 4)  # Wan/Hozo (a + 2m + b)/4


def test_iqr_only_large_sample_limit() -> None:
    # the IQR of a normal distribution is 2 * 0.6744898 sigma = 1.3489795 sigma (normal
    # quartiles); Wan's eta(n) tends to it, so for n = 10^6 SD = IQR / 1.34898 to ~1e-6
    d = mean_sd_from_median(1_000_000, 5, q1=4, q3=8)
    assert d["sd"] == pytest.approx(4 / 1.3489795, rel=1e-5)
    # Luo 2018 mean for the IQR: w = 0.7 + 0.39/n; by hand at n = 50, (q1, median, q3) =
    # (4, 5, 7): w = 0.7078, mean = 0.7078 * 5.5 + 0.2922 * 5 = 5.3539
    d50 = mean_sd_from_median(50, 5, q1=4, q3=7)
    assert d50["mean"] == pytest.approx(5.3539, abs=1e-12)
    # Wan 2014 SD for the IQR at n = 50, computed in R:
    # (7 - 4) / (2 * qnorm((0.75 * 50 - 0.125) / (50 + 0.25))) = 2.2899137425
    assert d50["sd"] == pytest.approx(2.2899137425, rel=1e-9)


def test_five_number_summary_shi_2020_and_wan_2014() -> None:
    # n = 50, (min, q1, median, q3, max) = (2, 4, 5, 7, 10). Expected values computed in R with
    # the algebraically different form of Shi et al. 2020 eq. (11) used by the `meta` package:
    # (b-a)/((2+0.14 n^0.6) qnorm((n-0.375)/(n+0.25))) + (q3-q1)/((2+2/(0.07 n^0.6))
    # qnorm((0.75n-0.125)/(n+0.25))) = 1.9972668037; Wan 2014 eqs. (12)-(13): 2.0364891482;
    # Luo 2018 eq. (15) mean: 5.4128801380.
    d = mean_sd_from_median(50, 5, q1=4, q3=7, minimum=2, maximum=10)
    assert d["sd"] == pytest.approx(1.9972668037, rel=1e-9)
    assert d["mean"] == pytest.approx(5.4128801380, rel=1e-9)
    assert "Shi 2020" in d.derivation and "S2" in d.derivation
    w = mean_sd_from_median(50, 5, q1=4, q3=7, minimum=2, maximum=10, sd_method="wan",
                            mean_method="wan")
    assert w["sd"] == pytest.approx(2.0364891482, rel=1e-9)
    assert w["mean"] == pytest.approx((2 + 8 + 10 + 14 + 10) / 8)  # Wan eq. (10) by hand


def test_median_input_errors() -> None:
    with pytest.raises(StatsError, match="IQR"):
        mean_sd_from_median(20, 5)
    with pytest.raises(StatsError, match="q1 <= median"):
        mean_sd_from_median(20, 5, q1=6, q3=8)


def test_change_score_sd_with_correlation() -> None:
    # Handbook 6.5.2.8 formula; by hand with SDs 3 and 4: r = 0 -> 5 (3-4-5 triangle),
    # r = 0.5 -> sqrt(9 + 16 - 12) = sqrt(13), r = 1 -> |4 - 3| = 1
    assert change_sd(3, 4, 0)["sd"] == pytest.approx(5)
    assert change_sd(3, 4, 0.5)["sd"] == pytest.approx(math.sqrt(13))
    assert change_sd(3, 4, 1)["sd"] == pytest.approx(1)
    assert "assumed correlation 0.5" in change_sd(3, 4, 0.5).derivation
    # and back: the correlation implied by SD_change = sqrt(13) is 0.5
    assert correlation_from_sds(3, 4, math.sqrt(13))["corr"] == pytest.approx(0.5)
    with pytest.raises(StatsError, match=r"\[-1, 1\]"):
        change_sd(3, 4, 1.5)


def test_combine_two_arms_handbook_table_6_5_a() -> None:
    # by hand: N = 30, mean = (10*5 + 20*7)/30 = 6.33333;
    # SD = sqrt((9*4 + 19*9 + 10*20/30 * (25 + 49 - 70)) / 29) = sqrt(233.6667/29) = 2.838569
    d = combine_arms(10, 5, 2, 20, 7, 3)
    assert d["n"] == 30
    assert d["mean"] == pytest.approx(190 / 30)
    assert d["sd"] == pytest.approx(math.sqrt((36 + 171 + 200 / 30 * 4) / 29))
    assert d["sd"] == pytest.approx(2.838569, abs=5e-7)
    assert "6.5.2.10" in d.source
    # identical arms: same mean; SD = sqrt((49 + 49) / 99) by hand (n - 1 weights)
    same = combine_arms(50, 3, 1, 50, 3, 1)
    assert same["mean"] == 3 and same["sd"] == pytest.approx(math.sqrt(98 / 99))
    e = combine_arms_events(3, 20, 5, 25)
    assert (e["events"], e["n"]) == (8, 45)


def test_split_shared_control() -> None:
    # Handbook 23.3.4: divide the shared group between the comparisons
    d = split_shared_control(50, 2, events=11)
    assert (d["n"], d["events"]) == (25, 5.5)
    assert "mean and SD unchanged" in d.derivation
    with pytest.raises(StatsError):
        split_shared_control(50, 1)
