"""How far screening has come: status with the stopping rule per update round, undo,
agreement between reviewers, and the one line the report's methods section prints.

A *round* is the records first found on one day by the review's searches or imports (a
monthly update adds one round). The stopping rule of :mod:`registry.screening.stopping`
applies to a round's own records in the order they were decided: title/abstract include
or maybe counts as relevant (it passes on to full text), exclude as not.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from registry.config import curator
from registry.errors import InputError
from registry.screening.config import stage_name
from registry.screening.learning import training_labels
from registry.screening.metrics import Agreement, agreement
from registry.screening.model import CLASSIFIER_LABELS, DEFAULT_CLASSIFIER
from registry.screening.state import (
    PASSES_TITLE_ABSTRACT,
    Decision,
    ReviewView,
    final_decisions,
    load_view,
    resolve_review,
    screening_summary,
)
from registry.screening.stopping import StopVerdict, verdict
from registry.store import Store

TA = "title_abstract"


@dataclass(frozen=True)
class RoundStatus:
    """Screening of one update round at title/abstract."""

    round: str  # day the round's records were first found (ISO date), or "all"
    verdict: StopVerdict

    def as_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {"round": self.round, **self.verdict.as_dict()}


@dataclass(frozen=True)
class ScreeningStatus:
    """Where title/abstract screening of a review stands, per round and overall."""

    review: str
    ordered_by: str
    rounds: tuple[RoundStatus, ...]
    overall: RoundStatus

    def as_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "review": self.review,
            "ordered_by": self.ordered_by,
            "overall": self.overall.as_dict(),
            "rounds": [r.as_dict() for r in self.rounds],
        }


def _round_of(view: ReviewView) -> dict[int, str]:
    """cluster -> ISO date its first member was found by one of the review's runs."""
    out: dict[int, str] = {}
    for cid, members in view.members.items():
        days = [m["first_found_at"] for m in members if m.get("first_found_at") is not None]
        out[cid] = min(days).date().isoformat() if days else "unknown"
    return out


def _decided_at(view: ReviewView, cid: int) -> dt.datetime:
    st = view.state(TA, cid)
    assert st is not None and st.final is not None
    times = [d.decided_at for d in st.by_reviewer.values()] + [st.final.decided_at]
    return min(times)


def _labels_in_order(view: ReviewView, clusters: list[int]) -> list[int]:
    decided = [c for c in clusters if view.final(TA, c) is not None]
    decided.sort(key=lambda c: (_decided_at(view, c), c))
    return [int(view.final(TA, c).decision in PASSES_TITLE_ABSTRACT) for c in decided]


def _ordered_by(view: ReviewView) -> str:
    labels = training_labels(final_decisions(view, TA), final_decisions(view, "full_text"))
    if set(labels.values()) == {0, 1}:
        return (
            f"active learning (TF-IDF + {CLASSIFIER_LABELS[DEFAULT_CLASSIFIER]} retrained on "
            f"{len(labels)} decisions of every round)"
        )
    return "transparent relevance score (no include and exclude yet to learn from)"


def status_of(view: ReviewView) -> ScreeningStatus:
    """Screened/total, includes, estimated recall and the stopping verdict per round."""
    eligible = view.eligible(TA)
    by_round: dict[str, list[int]] = defaultdict(list)
    rounds_of = _round_of(view)
    for cid in eligible:
        by_round[rounds_of.get(cid, "unknown")].append(cid)
    rounds = tuple(
        RoundStatus(day, verdict(_labels_in_order(view, cs), len(cs)))
        for day, cs in sorted(by_round.items())
    )
    overall = RoundStatus("all", verdict(_labels_in_order(view, eligible), len(eligible)))
    return ScreeningStatus(view.review, _ordered_by(view), rounds, overall)


def screening_status(store: Store, review: str | None) -> ScreeningStatus:
    """``registry screen status``: see :func:`status_of`."""
    review = resolve_review(store, review)
    return status_of(load_view(store, review))


def undo_last(
    store: Store, review: str | None, *, stage: str | None = None, reviewer: str | None = None
) -> Decision:
    """Take back ``reviewer``'s latest decision in the review (at ``stage`` if given).

    The decision stays in the history marked undone; the record returns to the queue.
    """
    review = resolve_review(store, review)
    who = reviewer or curator()
    stage = stage_name(stage) if stage else None
    rows = [r for r in store.screening_decisions(review, stage) if r["reviewer"] == who]
    if not rows:
        where = f" at {stage}" if stage else ""
        raise InputError(f"nothing to undo: {who} has no decision{where} in review {review!r}")
    last = Decision.from_row(rows[-1])
    store.undo_screening_decision(last.decision_id, who)
    return last


def agreement_by_stage(view: ReviewView) -> list[Agreement]:
    """Cohen's kappa and percent agreement of the first two reviewers of each record."""
    out = []
    for stage in ("title_abstract", "full_text"):
        first: list[str] = []
        second: list[str] = []
        for st in view.states[stage].values():
            ds = sorted(st.by_reviewer.values(), key=lambda d: (d.decided_at, d.decision_id))
            if len(ds) >= 2:
                first.append(ds[0].decision)
                second.append(ds[1].decision)
        out.append(agreement(stage, first, second))
    return out


def screening_overview(store: Store, review: str | None) -> dict[str, Any]:
    """``registry screen summary``: PRISMA counts plus reviewer agreement per stage."""
    review = resolve_review(store, review)
    view = load_view(store, review)
    summary = screening_summary(store, review)
    summary["agreement"] = [a.as_dict() for a in agreement_by_stage(view)]
    return summary


@dataclass(frozen=True)
class ScreeningMethods:
    """What the report's methods/PRISMA part says about screening."""

    ordered_by: str
    screened_by_hand: int
    total: int
    recall_estimate: float | None
    recall_lower: float | None
    stopping_criterion: str
    verdict: str

    def line(self) -> str:
        """One sentence for the report."""
        if self.recall_estimate is None:
            recall = "recall not yet estimable (no include screened)"
        else:
            low = f"{self.recall_lower:.1%}" if self.recall_lower is not None else "n/a"
            recall = (
                f"estimated recall {self.recall_estimate:.1%} "
                f"(one-sided 95 % lower bound {low})"
            )
        return (
            f"Title/abstract screening was ordered by {self.ordered_by}; "
            f"{self.screened_by_hand} of {self.total} records were screened by hand; "
            f"{recall}; stopping criterion: {self.stopping_criterion} — {self.verdict}."
        )


STOPPING_CRITERION = (
    "Callaghan & Müller-Hansen 2020 hypergeometric test of recall < 95 % at α = 0.05"
)


def screening_methods(store: Store, review: str) -> ScreeningMethods:
    """The facts for the report's screening methods line (see :class:`ScreeningMethods`)."""
    status = status_of(load_view(store, review))
    v = status.overall.verdict
    return ScreeningMethods(
        ordered_by=status.ordered_by,
        screened_by_hand=v.screened,
        total=v.total,
        recall_estimate=v.recall.estimate,
        recall_lower=v.recall.lower,
        stopping_criterion=STOPPING_CRITERION,
        verdict=v.line(),
    )
