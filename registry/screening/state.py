"""What the stored decisions mean: final decision per cluster and stage, conflicts, queues,
recording new decisions, and the PRISMA screening counts.

Rules (why they are what they are):
- Decisions belong to a dedup *cluster* (``v_record_cluster``): a duplicate found later in
  another source inherits the cluster's decision, and only the cluster's primary record is
  ever queued. Decisions are found again through the record's stable identity (source,
  source_id), so a re-import under new record ids loses nothing.
- Every decision is kept (append-only); a reviewer's current decision is their latest.
- Single review: the latest decision of anyone settles the cluster. Dual review
  (protocol ``screening.dual_review: true``): the cluster is settled when two reviewers
  agree (same decision and, for a full-text exclusion, the same reason); when they
  disagree it is a conflict until someone records a resolution.
- ``maybe`` at title/abstract passes the record on to full text (when in doubt, retrieve
  the report); ``maybe`` at full text is "awaiting classification". ``not_retrieved``
  (full text only) is PRISMA's "reports not retrieved".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from registry.config import curator
from registry.errors import InputError
from registry.screening.config import (
    NOT_RETRIEVED,
    ScreeningConfig,
    config_or_default,
    decisions_for,
    screening_config,
    stage_name,
)
from registry.screening.learning import (
    Ranking,
    ReviewRanker,
    reorder,
    training_labels,
)
from registry.screening.ranking import Score, score_record
from schemas.protocol import default_review

if TYPE_CHECKING:
    from registry.store import Store

PASSES_TITLE_ABSTRACT = ("include", "maybe")


@dataclass(frozen=True)
class Decision:
    """One stored screening decision (record_id is the record's current id)."""

    decision_id: int
    stage: str
    record_id: int | None
    cluster_id: int | None
    reviewer: str
    role: str  # screen | resolution
    decision: str
    reason: str | None
    reason_label: str | None
    note: str | None
    study_id: str | None
    decided_at: dt.datetime
    via: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Decision:
        """Build from a ``Store.screening_decisions`` row."""
        return cls(
            decision_id=int(row["decision_id"]),
            stage=row["stage"],
            record_id=row["record_id"],
            cluster_id=row["cluster_id"],
            reviewer=row["reviewer"],
            role=row["role"],
            decision=row["decision"],
            reason=row["reason"],
            reason_label=row["reason_label"],
            note=row["note"],
            study_id=row["study_id"],
            decided_at=row["decided_at"],
            via=row.get("via"),
        )

    def same_verdict(self, other: Decision) -> bool:
        """Agreement for dual review: same decision, and same reason for a full-text exclude."""
        if self.decision != other.decision:
            return False
        if self.stage == "full_text" and self.decision == "exclude":
            return self.reason == other.reason
        return True


@dataclass(frozen=True)
class ClusterState:
    """Decisions on one cluster at one stage."""

    cluster_id: int
    final: Decision | None
    by_reviewer: Mapping[str, Decision]  # latest 'screen' decision of each reviewer
    conflict: bool


@dataclass
class ReviewView:
    """A review's clusters, their primary records and the decision state at both stages."""

    review: str
    config: ScreeningConfig
    members: dict[int, list[dict[str, Any]]]
    primary: dict[int, dict[str, Any] | None]
    states: dict[str, dict[int, ClusterState]] = field(default_factory=dict)
    record_cluster: dict[int, int] = field(default_factory=dict)

    def state(self, stage: str, cluster_id: int) -> ClusterState | None:
        """The cluster's state at ``stage`` (None: nobody decided yet)."""
        return self.states[stage].get(cluster_id)

    def final(self, stage: str, cluster_id: int) -> Decision | None:
        """The settled decision of the cluster at ``stage``, if any."""
        st = self.state(stage, cluster_id)
        return st.final if st else None

    def eligible(self, stage: str) -> list[int]:
        """Clusters to be screened at ``stage`` (decided or not), in cluster order."""
        if stage == "title_abstract":
            return [c for c, p in self.primary.items() if p is not None]
        return [
            c
            for c in self.primary
            if (f := self.final("title_abstract", c)) is not None
            and f.decision in PASSES_TITLE_ABSTRACT
        ]

    def pending_for(self, stage: str, cluster_id: int, reviewer: str | None) -> bool:
        """True when the cluster still needs ``reviewer``'s decision at ``stage``."""
        st = self.state(stage, cluster_id)
        if st is None:
            return True
        if st.final is not None or st.conflict:
            return False
        if not self.config.dual_review:
            return False  # unreachable: single review settles on any decision
        # Dual review: needs two independent reviewers; a reviewer is not asked twice.
        return len(st.by_reviewer) < 2 and (reviewer is None or reviewer not in st.by_reviewer)

    def cluster_of(self, record_id: int) -> int | None:
        """The cluster (within this review) holding ``record_id``."""
        if not self.record_cluster:
            self.record_cluster = {m["record_id"]: c for c, ms in self.members.items() for m in ms}
        return self.record_cluster.get(record_id)


def stage_states(
    decisions: Sequence[Decision], stage: str, dual_review: bool
) -> dict[int, ClusterState]:
    """cluster -> state at ``stage`` worked out from ``decisions`` (the rules above); the
    workspace also applies it to one cluster's decisions after each new decision."""
    grouped: dict[int, list[Decision]] = defaultdict(list)
    for d in decisions:
        if d.stage == stage and d.cluster_id is not None:
            grouped[d.cluster_id].append(d)
    out: dict[int, ClusterState] = {}
    for cid, ds in grouped.items():
        ds.sort(key=lambda d: (d.decided_at, d.decision_id))
        by_reviewer: dict[str, Decision] = {}
        for d in ds:
            if d.role == "screen":
                by_reviewer[d.reviewer] = d
        resolutions = [d for d in ds if d.role == "resolution"]
        final: Decision | None = None
        conflict = False
        if not dual_review:
            final = ds[-1]
        elif resolutions:
            final = resolutions[-1]
        elif len(by_reviewer) >= 2:
            latest = sorted(by_reviewer.values(), key=lambda d: (d.decided_at, d.decision_id))
            if all(d.same_verdict(latest[0]) for d in latest[1:]):
                final = latest[-1]
            else:
                conflict = True
        out[cid] = ClusterState(cid, final, by_reviewer, conflict)
    return out


def resolve_review(store: Store, review: str | None) -> str:
    """``review`` if given, else the registry-wide default among the reviews this registry
    holds searches or decisions for (``schemas.protocol.default_review``)."""
    return default_review(review, store.screening_reviews())


def load_view(store: Store, review: str, config: ScreeningConfig | None = None) -> ReviewView:
    """Read the review's clusters and decisions and work out the state at both stages."""
    config = config or config_or_default(review)
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in store.screening_records(review):
        members[row["cluster_id"]].append(row)
    primary: dict[int, dict[str, Any] | None] = {}
    for cid, ms in members.items():
        # A cluster whose members are all withdrawn (deleted) has no primary: never queued.
        primary[cid] = next((m for m in ms if m["is_primary"] and not m["deleted"]), None)
    decisions = [Decision.from_row(r) for r in store.screening_decisions(review)]
    view = ReviewView(review, config, dict(members), primary)
    for stage in ("title_abstract", "full_text"):
        view.states[stage] = stage_states(decisions, stage, config.dual_review)
    return view


# -- queue -----------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueItem:
    """A cluster to screen: its primary record, score and (for ``--all``) current decision.

    ``why``: the terms that raised it in the model's order (empty while the transparent
    score orders the queue).
    """

    cluster_id: int
    record: Mapping[str, Any]
    score: Score
    decision: Decision | None = None
    why: tuple[str, ...] = ()


def _shown_decision(view: ReviewView, stage: str, cid: int, reviewer: str | None):
    st = view.state(stage, cid)
    if st is None:
        return None
    if st.final is not None:
        return st.final
    # Dual review before agreement: show only the reviewer's own decision (independence).
    return st.by_reviewer.get(reviewer) if reviewer else None


def build_queue(
    view: ReviewView,
    stage: str,
    *,
    reviewer: str | None = None,
    include_all: bool = False,
    ranker: ReviewRanker | None = None,
) -> list[QueueItem]:
    """Clusters at ``stage`` still needing ``reviewer`` (or all with ``include_all``), ranked.

    Title/abstract: the model's order once the review has an include and an exclude
    (:mod:`registry.screening.learning`), else the transparent score. ``ranker`` reuses
    features already built (the interactive loop re-ranks after every batch).
    """
    items = []
    for cid in view.eligible(stage):
        if not include_all and not view.pending_for(stage, cid, reviewer):
            continue
        rec = view.primary[cid]
        if rec is None:
            continue
        items.append(
            QueueItem(
                cid,
                rec,
                score_record(rec, view.config),
                _shown_decision(view, stage, cid, reviewer),
            )
        )
    items.sort(key=lambda it: (-it.score.total, int(it.record["record_id"])))
    if stage == "title_abstract" and items:
        ranking = model_ranking(view, [it.cluster_id for it in items], ranker)
        items = with_reasons(reorder(items, ranking), ranking)
    return items


def final_decisions(view: ReviewView, stage: str) -> dict[int, str]:
    """cluster -> settled decision value at ``stage``."""
    return {c: s.final.decision for c, s in view.states[stage].items() if s.final is not None}


def review_ranker(view: ReviewView, seed: int = 0) -> ReviewRanker:
    """The model's features over every title/abstract-eligible record of the review."""
    records = {c: view.primary[c] for c in view.eligible("title_abstract")}
    return ReviewRanker({c: r for c, r in records.items() if r is not None}, seed)


def model_ranking(
    view: ReviewView, candidates: Sequence[int], ranker: ReviewRanker | None = None
) -> Ranking | None:
    """The model's order of ``candidates``, trained on every settled decision of the review
    (all rounds, full-text verdicts included); None until an include and an exclude exist."""
    labels = training_labels(
        final_decisions(view, "title_abstract"), final_decisions(view, "full_text")
    )
    if set(labels.values()) != {0, 1}:
        return None
    return (ranker or review_ranker(view)).rank(labels, candidates)


def with_reasons(items: list[QueueItem], ranking: Ranking | None) -> list[QueueItem]:
    """Attach the model's top terms to each item it explained."""
    if ranking is None:
        return items
    return [replace(it, why=ranking.why.get(it.cluster_id, ())) for it in items]


def screening_queue(
    store: Store,
    review: str,
    stage: str = "title_abstract",
    *,
    reviewer: str | None = None,
    include_all: bool = False,
    config: ScreeningConfig | None = None,
) -> list[QueueItem]:
    """Records waiting for screening at ``stage``, best-scored first.

    Title/abstract: every cluster of the review without a settled decision. Full text:
    clusters included (or 'maybe') at title/abstract without a settled full-text decision.
    With dual review a reviewer sees clusters they have not decided and that do not yet
    have two reviewers' decisions.
    """
    stage = stage_name(stage)
    view = load_view(store, review, config or screening_config(review))
    return build_queue(view, stage, reviewer=reviewer, include_all=include_all)


# -- recording decisions ---------------------------------------------------------------
def check_decision(
    config: ScreeningConfig,
    stage: str,
    decision: str | None,
    reason: str | None,
    study_id: str | None,
) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """Validate one decision; returns (decision, reason id, [(column, problem), ...])."""
    problems: list[tuple[str, str]] = []
    value = (decision or "").strip().lower()
    allowed = decisions_for(stage)
    if value not in allowed:
        problems.append(("decision", f"{decision!r} is not one of {', '.join(allowed)}"))
        value_out = None
    else:
        value_out = value
    reason_id: str | None = None
    if reason is not None and reason.strip():
        reason_id = config.match_reason(reason)
        if reason_id is None:
            known = ", ".join(config.reason_ids) or "none defined"
            problems.append(
                (
                    "reason",
                    f"{reason.strip()!r} is not an exclusion reason of review {config.review!r} "
                    f"(protocol ids: {known})",
                )
            )
        elif value_out is not None and value_out != "exclude":
            problems.append(("reason", f"a reason is given but the decision is {value_out!r}"))
    elif value_out == "exclude" and stage == "full_text":
        known = ", ".join(config.reason_ids) or "none defined"
        problems.append(("reason", f"a full-text exclusion needs a reason (one of: {known})"))
    if study_id is not None and study_id.strip():
        if not (stage == "full_text" and value_out == "include"):
            problems.append(("study_id", "a study_id can only name a full-text inclusion"))
    return value_out, reason_id, problems


def check_prerequisite(view: ReviewView, stage: str, cid: int) -> str | None:
    """Why ``cid`` cannot take a decision at ``stage`` (None when it can)."""
    if stage == "full_text":
        ta = view.final("title_abstract", cid)
        if ta is None or ta.decision not in PASSES_TITLE_ABSTRACT:
            state = "not yet screened" if ta is None else f"'{ta.decision}'"
            return f"it is {state} at title/abstract (full text needs include or maybe)"
    return None


def record_decision(
    store: Store,
    review: str,
    stage: str,
    record_id: int,
    decision: str,
    *,
    reviewer: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    study_id: str | None = None,
    resolution: bool = False,
    via: str = "api",
    config: ScreeningConfig | None = None,
    view: ReviewView | None = None,
) -> Decision:
    """Record one screening decision on ``record_id`` (or its cluster) and return it.

    ``resolution=True`` records the decision that settles a dual-review conflict.
    Raises InputError naming what is wrong (unknown record, record outside the review,
    decision or reason not allowed, full text before title/abstract). ``view`` lets a
    caller that already loaded the review (the interactive loop) skip reloading it.
    """
    stage = stage_name(stage)
    if view is None:
        view = load_view(store, review, config or screening_config(review))
    config = view.config
    cid = view.cluster_of(int(record_id))
    if cid is None:
        raise InputError(f"record {record_id} is not among the search results of review {review!r}")
    value, reason_id, problems = check_decision(config, stage, decision, reason, study_id)
    if problems:
        raise InputError(
            f"record {record_id}: " + "; ".join(f"{col}: {msg}" for col, msg in problems)
        )
    why = check_prerequisite(view, stage, cid)
    if why:
        raise InputError(f"record {record_id} cannot be screened at {stage}: {why}")
    row: dict[str, Any] = {
        "review": review,
        "stage": stage,
        "record_id": int(record_id),
        "reviewer": reviewer or curator(),
        "role": "resolution" if resolution else "screen",
        "decision": value,
        "reason": reason_id,
        "reason_label": config.reason_label(reason_id),
        "note": note.strip() if note and note.strip() else None,
        "study_id": study_id.strip() if study_id and study_id.strip() else None,
        "via": via,
        "decided_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }
    [decision_id] = store.add_screening_decisions([row])
    return Decision.from_row({**row, "decision_id": decision_id, "cluster_id": cid})


# -- conflicts -------------------------------------------------------------------------
@dataclass(frozen=True)
class Conflict:
    """Two (or more) reviewers disagree on a cluster and nobody has resolved it."""

    stage: str
    cluster_id: int
    record: Mapping[str, Any]
    decisions: tuple[Decision, ...]

    def describe(self) -> str:
        """``A: include; B: exclude (not_rct)``."""
        return "; ".join(
            f"{d.reviewer}: {d.decision}" + (f" ({d.reason})" if d.reason else "")
            for d in self.decisions
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (``screen conflicts --json``)."""
        return {
            "stage": self.stage,
            "record_id": self.record["record_id"],
            "title": self.record.get("title"),
            "decisions": [
                {"reviewer": d.reviewer, "decision": d.decision, "reason": d.reason,
                 "note": d.note}
                for d in self.decisions
            ],
        }  # fmt: skip


def screening_conflicts(
    store: Store,
    review: str | None,
    stage: str | None = None,
    *,
    config: ScreeningConfig | None = None,
) -> list[Conflict]:
    """Unresolved dual-review disagreements (both stages unless ``stage`` is given)."""
    review = resolve_review(store, review)
    stages = [stage_name(stage)] if stage else ["title_abstract", "full_text"]
    view = load_view(store, review, config or screening_config(review))
    out = []
    for st_name in stages:
        for cid, st in sorted(view.states[st_name].items()):
            if not st.conflict:
                continue
            rec = view.primary.get(cid) or view.members[cid][0]
            ds = tuple(sorted(st.by_reviewer.values(), key=lambda d: d.reviewer))
            out.append(Conflict(st_name, cid, rec, ds))
    return out


def resolve_conflict(
    store: Store,
    review: str | None,
    stage: str,
    record_id: int,
    decision: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    study_id: str | None = None,
    reviewer: str | None = None,
) -> Decision:
    """Record the decision that settles a conflict (or changes an earlier resolution).

    A record without a conflict is refused: a resolution would silently override
    agreeing reviewers (or the single reviewer) instead of recording a decision.
    """
    review = resolve_review(store, review)
    stage = stage_name(stage)
    view = load_view(store, review)
    cid = view.cluster_of(int(record_id))
    st = view.state(stage, cid) if cid is not None else None
    resolvable = st is not None and (
        st.conflict or (st.final is not None and st.final.role == "resolution")
    )
    if cid is not None and not resolvable:
        if st is None or st.final is None:
            state = "no two reviewers disagree on it"
        else:
            state = f"it is settled as '{st.final.decision}'"
        raise InputError(
            f"record {record_id} has no conflict to resolve at {stage} ({state}); "
            "decide it with `registry screen next` or `screen import`"
        )
    return record_decision(
        store, review, stage, record_id, decision, reviewer=reviewer, reason=reason, note=note,
        study_id=study_id, resolution=True, via="resolve", view=view,
    )  # fmt: skip


# -- PRISMA counts ---------------------------------------------------------------------
def summarise(view: ReviewView) -> dict[str, Any]:
    """PRISMA 2020 screening counts of a loaded review (see :func:`screening_summary`)."""
    ta = view.states["title_abstract"]
    ft = view.states["full_text"]
    with_primary = [c for c, p in view.primary.items() if p is not None]
    live = set(with_primary)
    ta_final = {c: s.final for c, s in ta.items() if s.final is not None}
    sought = [c for c, f in ta_final.items() if f.decision in PASSES_TITLE_ABSTRACT]
    ft_final = {c: ft[c].final for c in sought if c in ft and ft[c].final is not None}
    by_reason: dict[str, int] = {rid: 0 for rid in view.config.reason_ids}
    stored_labels: dict[str, str] = {}
    included: list[dict[str, Any]] = []
    for c, f in sorted(ft_final.items()):
        assert f is not None
        if f.decision == "exclude":
            rid = f.reason or "unspecified"
            by_reason[rid] = by_reason.get(rid, 0) + 1
            if f.reason_label:
                stored_labels.setdefault(rid, f.reason_label)
        elif f.decision == "include":
            rec = view.primary.get(c) or view.members[c][0]
            study = f.study_id or _study_from_reviewers(ft[c])
            included.append(
                {
                    "record_id": rec["record_id"],
                    "cluster_id": c,
                    "pmid": rec.get("pmid"),
                    "doi": rec.get("doi"),
                    "title": rec.get("title"),
                    "retracted": bool(rec.get("retracted")),
                    "study_id": study,
                }
            )

    def label(rid: str) -> str:
        return view.config.reason_label(rid) or stored_labels.get(rid) or rid

    counts = [f.decision for f in ft_final.values() if f is not None]
    # A report with no study_id is its own study until a curator links it.
    studies = {i["study_id"] or f"record:{i['record_id']}" for i in included}
    return {
        "review": view.review,
        "dual_review": view.config.dual_review,
        # a record withdrawn by NLM after it was screened still counts as screened
        "records_to_screen": len(set(with_primary) | set(ta_final)),
        "records_screened": len(ta_final),
        "excluded_title_abstract": sum(f.decision == "exclude" for f in ta_final.values()),
        "awaiting_screening": sum(1 for c in with_primary if c not in ta_final),
        "reports_sought": len(sought),
        "reports_not_retrieved": counts.count(NOT_RETRIEVED),
        "reports_assessed": sum(d in ("include", "exclude", "maybe") for d in counts),
        "awaiting_full_text": sum(1 for c in sought if c not in ft_final and c in live),
        "withdrawn_before_full_text": sum(1 for c in sought if c not in ft_final
                                          and c not in live),
        "awaiting_classification": counts.count("maybe"),
        "excluded_full_text": {label(rid): n for rid, n in by_reason.items()},
        "excluded_full_text_by_id": dict(by_reason),
        "excluded_full_text_total": counts.count("exclude"),
        "reports_included": len(included),
        "studies_included": len(studies),
        "included": included,
        "conflicts": {
            "title_abstract": sum(s.conflict for s in ta.values()),
            "full_text": sum(s.conflict for s in ft.values()),
        },
    }


def _study_from_reviewers(state: ClusterState) -> str | None:
    # Dual review: the agreeing reviewers may each have named the study; take the latest.
    named = [d for d in state.by_reviewer.values() if d.study_id]
    named.sort(key=lambda d: (d.decided_at, d.decision_id))
    return named[-1].study_id if named else None


def screening_summary(store: Store, review: str) -> dict[str, Any]:
    """PRISMA 2020 screening counts for ``review``.

    Keys: records_to_screen (clusters after dedup), records_screened,
    excluded_title_abstract, awaiting_screening, reports_sought (include or maybe at
    title/abstract), reports_not_retrieved, reports_assessed (assessed for eligibility),
    awaiting_full_text, awaiting_classification (full-text 'maybe'), excluded_full_text
    ({reason label: count}, protocol order, zeros kept), excluded_full_text_by_id,
    excluded_full_text_total, reports_included, studies_included (distinct study_id;
    an unlinked report counts as its own study), included (list of the included reports
    with their study_id), conflicts ({stage: unresolved count}), dual_review.
    """
    return summarise(load_view(store, review, config_or_default(review)))
