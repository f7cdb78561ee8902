"""The stopping rule of Callaghan & Müller-Hansen 2020 (Systematic Reviews 9:273), checked
against a direct count of the hypergeometric probabilities written from the paper's
definitions (not scipy), and the recall estimate it gives."""

from __future__ import annotations

import math

import pytest

from registry.screening.stopping import (
    consecutive_excludes,
    first_heuristic_stop,
    first_stop,
    h0_pvalue,
    recall_estimate,
    verdict,
)


def _cdf(k: int, population: int, successes: int, draws: int) -> float:
    """P(X <= k) for X ~ Hypergeometric(population, successes, draws), by counting."""
    total = math.comb(population, draws)
    return sum(
        math.comb(successes, i) * math.comb(population - successes, draws - i)
        for i in range(0, min(k, successes, draws) + 1)
    ) / total


def _paper_p(labels: list[int], n_total: int, target: float) -> float:
    # Paper, "Ranked stopping criterion": for each sample of the last n screened records,
    # K_tar = floor(r_seen / target - r_before + 1) relevant in (sample + unseen) under H0;
    # p = P(X <= k) in that urn; the smallest p over the samples is reported (buscar).
    r_seen = sum(labels)
    best = 1.0
    for n in range(1, len(labels) + 1):
        sample = labels[len(labels) - n:]
        k = sum(sample)
        population = n_total - (len(labels) - n)
        k_tar = min(math.floor(r_seen / target - (r_seen - k) + 1), population)
        best = min(best, _cdf(k, population, k_tar, n))
    return best


@pytest.mark.parametrize(
    ("labels", "n_total"),
    [
        ([1] * 8 + [0] * 40, 100),
        ([1, 0, 1, 1, 0, 0, 1] + [0] * 30, 60),
        ([0, 1] + [0] * 12 + [1] + [0] * 25, 80),
    ],
)
def test_p_value_equals_the_papers_definition(labels: list[int], n_total: int) -> None:
    got = h0_pvalue(labels, n_total, 0.95)
    assert got is not None
    assert math.isclose(got, _paper_p(labels, n_total, 0.95), rel_tol=1e-9)


def test_no_include_gives_no_p_and_full_screening_gives_zero() -> None:
    assert h0_pvalue([0, 0, 0], 10) is None
    assert h0_pvalue([1, 0, 0], 3) == 0.0


def test_long_run_of_excludes_makes_it_safe_and_an_early_stop_does_not() -> None:
    early = verdict([1] * 10 + [0] * 5, 1000)
    assert not early.safe and "not yet safe" in early.line()
    # 40 includes: H0 (recall < 95 %) means >= 3 more among the 490 records of the last
    # 400 screened + 90 unseen, and seeing none of them in 400 draws is unlikely (p < 0.05).
    late = verdict([1] * 40 + [0] * 400, 500)
    assert late.safe and late.line().startswith("safe to stop at 95 % recall (p = ")
    assert late.excludes_in_a_row == 400 and late.heuristic_met


def test_recall_estimate_brackets_and_orders() -> None:
    est = recall_estimate([1] * 10 + [0] * 400, 500)
    assert est.lower is not None and est.estimate is not None
    assert 0.5 <= est.lower <= est.estimate <= est.upper == 1.0
    # The lower bound is where the test stops rejecting: p below alpha there, not above.
    assert h0_pvalue([1] * 10 + [0] * 400, 500, est.lower) < 0.05
    assert h0_pvalue([1] * 10 + [0] * 400, 500, min(est.lower + 0.01, 0.999)) >= 0.05


def test_first_stop_points() -> None:
    y = [1] * 40 + [0] * 460
    k = first_stop(y, 500)
    assert k is not None and k % 10 == 0 and h0_pvalue(y[:k], 500) < 0.05
    assert h0_pvalue(y[: k - 10], 500) >= 0.05
    assert first_heuristic_stop([0] * 60 + [1] + [0] * 50, 50) == 111
    assert consecutive_excludes([1, 0, 0]) == 2
