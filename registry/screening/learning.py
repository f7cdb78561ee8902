"""The review's decisions as training data, and the queue order the model gives them.

Training labels come from every settled decision of the review, whatever update round it
was made in: a full-text decision overrides the title/abstract one (a record excluded at
full text teaches the model what *not* to include), a title/abstract include is 1, an
exclude 0, and a 'maybe' (or not-retrieved) without a later verdict teaches nothing.
Until there is at least one include and one exclude the transparent score of
:mod:`registry.screening.ranking` stays the order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # scikit-learn loads only when a queue is ranked (start-up time)
    from registry.screening.model import Features

_LABEL = {"include": 1, "exclude": 0}


def batch_size(n_labelled: int) -> int:
    """Records presented between two retrainings: one at a time early, then 2 % of what
    is labelled (the model changes little once it has seen hundreds of decisions)."""
    return max(1, n_labelled // 50)


def training_labels(final_ta: Mapping[int, str], final_ft: Mapping[int, str]) -> dict[int, int]:
    """cluster -> 1/0 from the settled decisions at both stages (see module docstring)."""
    labels = {c: _LABEL[d] for c, d in final_ta.items() if d in _LABEL}
    labels.update({c: _LABEL[d] for c, d in final_ft.items() if d in _LABEL})
    return labels


@dataclass(frozen=True)
class Ranking:
    """The model's order of the candidates and, per cluster, the terms that raised it."""

    order: tuple[int, ...]
    why: Mapping[int, tuple[str, ...]]
    trained_on: int


@dataclass
class ReviewRanker:
    """Features of a review's records, fitted once; re-ranks after every batch of labels.

    ``records`` maps cluster id to the primary record (text fields). The features use no
    label, so fitting them on every record leaks nothing.
    """

    records: Mapping[int, Mapping[str, object]]
    seed: int = 0
    clusters: list[int] = field(init=False)
    features: Features = field(init=False)

    def __post_init__(self) -> None:
        # Imported here: scikit-learn takes seconds to load, and `registry status` or a
        # report reach this package without ranking anything.
        from registry.screening.model import Features, record_text

        self.clusters = sorted(self.records)
        self.features = Features.fit([record_text(dict(self.records[c])) for c in self.clusters])
        self._row = {c: i for i, c in enumerate(self.clusters)}

    def rank(self, labels: Mapping[int, int], candidates: Iterable[int]) -> Ranking | None:
        """Candidates best first, or None while the labels lack an include or an exclude."""
        from registry.screening.model import Ranker, order_unlabelled  # see __post_init__

        known = {c: v for c, v in labels.items() if c in self._row}
        if set(known.values()) != {0, 1}:
            return None
        ranker = Ranker(self.features, seed=self.seed).fit(
            [self._row[c] for c in known], list(known.values())
        )
        scores = ranker.scores()
        rows = order_unlabelled(scores, [self._row[c] for c in candidates if c in self._row])
        order = tuple(self.clusters[r] for r in rows)
        why = {self.clusters[r]: tuple(ranker.top_terms(r)) for r in rows[:_EXPLAINED]}
        return Ranking(order, why, len(known))


# Explaining costs a little per record: explain the head of the queue, where screeners look.
_EXPLAINED = 200


def reorder(items: Sequence, ranking: Ranking | None) -> list:
    """``items`` (each with a ``cluster_id``) in the ranking's order; unchanged if None."""
    if ranking is None:
        return list(items)
    pos = {c: i for i, c in enumerate(ranking.order)}
    return sorted(items, key=lambda it: pos.get(it.cluster_id, len(pos)))
