"""The ranking model's features, weights and explanations (registry/screening/model.py)."""

from __future__ import annotations

import numpy as np
import pytest

from registry.screening.model import (
    BALANCE,
    Features,
    Ranker,
    include_weights,
    record_text,
)

VIRUS_TEXTS = [
    "De novo assembly of a novel astrovirus genome from pig faeces",
    "Full genome sequencing of porcine circovirus found in farmed pigs",
    "Milk yield of dairy cows fed a grass diet",
    "Grass silage and the milk yield of cows",
    "Viral metagenomics of pig faeces",
    "Diet of dairy cows",
]


def test_words_that_carry_meaning_in_science_are_features() -> None:
    # "de", "full" and "found" are on scikit-learn's English stop-word list, and
    # "de novo" occurs in one record only: both must still reach the model.
    terms = set(Features.fit(VIRUS_TEXTS).terms.tolist())
    assert {"de novo", "full genome", "found", "de"} <= terms


def test_a_title_word_weighs_more_than_the_same_word_in_the_abstract() -> None:
    texts = [
        record_text({"title": "astrovirus in pigs", "abstract": "faeces were sequenced"}),
        record_text({"title": "faeces were sequenced", "abstract": "astrovirus in pigs"}),
        record_text({"title": "dairy cows", "abstract": "milk yield"}),
    ]
    f = Features.fit(texts)
    col = f.terms.tolist().index("astrovirus")
    assert f.matrix[0, col] > f.matrix[1, col] > 0


def test_includes_together_weigh_balance_times_the_excludes() -> None:
    # ASReview 3 "balanced" balancer (asreview/models/balancers.py): include weight 1,
    # exclude weight n1 / (ratio * n0), scaled to mean 1; elas_u4 uses ratio 9.8.
    y = np.array([1, 0, 0, 0, 1, 0, 0])
    w = include_weights(y, BALANCE)
    assert w[y == 1].sum() / w[y == 0].sum() == pytest.approx(BALANCE)
    assert w.mean() == pytest.approx(1.0)


def test_explanations_name_content_words_not_function_words() -> None:
    f = Features.fit(VIRUS_TEXTS)
    ranker = Ranker(f, seed=1).fit([0, 2], [1, 0])
    why = ranker.top_terms(4, k=10)  # "Viral metagenomics of pig faeces"
    assert why and {"pig", "faeces"} & set(why)
    assert not {"of", "of the", "the", "a"} & set(why)
