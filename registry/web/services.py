"""The workspace's one adapter onto the library: screening, dedup, curation and reports.

Pages call only this module, so when a library's public functions change the lead re-points
one file. The server is the one process that owns the store; every store call goes
through :attr:`Workspace.lock` (a DuckDB connection is not shared between threads
unguarded). A review's screening view (clusters, decisions, the library's queue order) is
loaded once and updated in place after each decision, so a page never reloads 20,000
records. That state has its own lock (:attr:`Workspace.state_lock`, always taken after
:attr:`Workspace.lock` when both are needed): a screening page needs no store call, so it is
not kept waiting while another screener's decision is committed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.curation import LoadSummary
from registry.errors import InputError
from registry.screening import (
    Conflict,
    Decision,
    QueueItem,
    Score,
    load_view,
    record_decision,
    score_record,
    screening_config,
    stage_name,
)
from registry.screening.progress import screening_methods
from registry.screening.state import (
    PASSES_TITLE_ABSTRACT,
    ReviewView,
    build_queue,
    stage_states,
    summarise,
)
from registry.status import build_status
from registry.store import Store
from registry.web.accounts import add_user
from registry.web.extraction import FormCheck, FormField, form_fields, save_entry
from reports.render import version_dir
from schemas.protocol import load_protocol

LEASE_SECONDS = 600.0  # a record shown to a screener is held for them this long
STAGES = ("title_abstract", "full_text")


class Refused(InputError):
    """A request the rules forbid (already decided, not a third reviewer, ...): HTTP 409."""


@dataclass
class _ReviewCache:
    view: ReviewView
    by_cluster: dict[tuple[str, int], list[Decision]]
    order: dict[str, list[int]] = field(default_factory=dict)
    leases: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    start: dict[str, int] = field(default_factory=dict)  # queue head: closed before it
    closed: dict[str, int] = field(default_factory=dict)  # clusters needing nobody
    # (stage, user) -> queue position before which nothing needs that user any more
    cursor: dict[tuple[str, str], int] = field(default_factory=dict)
    # (stage, cluster) -> screeners whose decision on it is being written to the store
    writing: dict[tuple[str, int], set[str]] = field(default_factory=dict)


def _passes(final: Decision | None) -> bool:
    """A title/abstract settlement that sends its cluster on to full text."""
    return final is not None and final.decision in PASSES_TITLE_ABSTRACT


class Workspace:
    """The served store and what the pages ask of it."""

    def __init__(self, store: Store, reviews: list[str], out_dir: Path | None = None) -> None:
        self.store = store
        self.reviews = reviews
        self.out_dir = out_dir  # where `registry update/report --out` keeps report versions
        self.lock = threading.RLock()  # the store: one call at a time on its connection
        self.state_lock = threading.RLock()  # the cached screening state and roles
        self._cache: dict[str, _ReviewCache] = {}
        # username -> review -> role, read once per person: every request asks it, and roles
        # change only through add_user below (the CLI's `user add` goes through the server)
        self._roles: dict[str, dict[str, str]] = {}

    # -- screening state ---------------------------------------------------------------
    def _state(self, review: str) -> _ReviewCache:
        """The review's cached state (loaded on first use); never called holding state_lock."""
        with self.state_lock:
            cache = self._cache.get(review)
        if cache is not None:
            return cache
        with self.lock, self.state_lock:
            cache = self._cache.get(review)
            if cache is not None:
                return cache
            view = load_view(self.store, review, screening_config(review))
            by_cluster: dict[tuple[str, int], list[Decision]] = {}
            for stage in STAGES:
                for cid, st in view.states[stage].items():
                    by_cluster[(stage, cid)] = list(st.by_reviewer.values()) + (
                        [st.final] if st.final is not None and st.final.role == "resolution" else []
                    )
            cache = _ReviewCache(view, by_cluster)
            self._cache[review] = cache
            return cache

    def forget(self, review: str | None = None) -> None:
        """Drop cached screening state (after dedup or curation changed the records)."""
        with self.state_lock:
            if review is None:
                self._cache.clear()
            else:
                self._cache.pop(review, None)

    def _order(self, cache: _ReviewCache, stage: str) -> list[int]:
        if stage not in cache.order:
            # the screening library's order (today its transparent score; the model's later)
            items = build_queue(cache.view, stage, include_all=True)
            cache.order[stage] = [it.cluster_id for it in items]
            cache.closed[stage] = sum(
                self._closed(cache.view, stage, it.cluster_id) for it in items
            )
            cache.start[stage] = 0
        return cache.order[stage]

    def _closed(self, view: ReviewView, stage: str, cid: int) -> bool:
        """No screener is needed any more: settled, in conflict, or has its two decisions."""
        st = view.state(stage, cid)
        if st is None:
            return False
        need = 2 if view.config.dual_review else 1
        return st.final is not None or st.conflict or len(st.by_reviewer) >= need

    def next_item(self, review: str, stage: str, user: str) -> tuple[QueueItem | None, int]:
        """The next cluster for ``user`` at ``stage`` (held for them) and how many are open.

        Blind dual review: the item carries no decision of anyone else. A cluster already
        held by enough other screeners (one, or two with dual review) is skipped, so ten
        people screening at once do not all get the same record. The scan starts after the
        clusters at the head of the queue that need nobody, or no longer this user (neither
        changes back while the order stands), so a page costs the same late in a review.
        """
        stage = stage_name(stage)
        cache = self._state(review)
        with self.state_lock:
            view = cache.view
            order = self._order(cache, stage)
            start = cache.start.get(stage, 0)
            while start < len(order) and self._closed(view, stage, order[start]):
                start += 1
            cache.start[stage] = start
            start = max(start, cache.cursor.get((stage, user), 0))
            while start < len(order) and not view.pending_for(stage, order[start], user):
                start += 1
            cache.cursor[(stage, user)] = start
            need = 2 if view.config.dual_review else 1
            now = time.monotonic()
            for cid in order[start:]:
                if not view.pending_for(stage, cid, user) or user in cache.writing.get(
                    (stage, cid), ()
                ):
                    continue
                leases = cache.leases.get((stage, cid), {})
                mine = user in leases and now - leases[user] < LEASE_SECONDS
                st = view.state(stage, cid)
                others = sum(1 for u, t in leases.items() if u != user and now - t < LEASE_SECONDS)
                if mine or (len(st.by_reviewer) if st else 0) + others < need:
                    cache.leases.setdefault((stage, cid), {})[user] = now
                    rec = view.primary[cid]
                    assert rec is not None
                    item = QueueItem(cid, rec, build_queue_score(view, rec))
                    return item, self._open(cache, stage)
            return None, self._open(cache, stage)

    def _open(self, cache: _ReviewCache, stage: str) -> int:
        return len(cache.order[stage]) - cache.closed.get(stage, 0)

    def decide(
        self,
        review: str,
        stage: str,
        user: str,
        record_id: int,
        decision: str,
        *,
        reason: str | None = None,
        note: str | None = None,
        study_id: str | None = None,
        resolution: bool = False,
    ) -> Decision:
        """Record ``user``'s decision (a screening decision, or a conflict's resolution).

        A screening decision is checked and its place taken under the state lock, written
        under the store lock only, then applied: pages go on being served meanwhile, and a
        decision being written counts as made, so a cluster never gets more than it needs.
        """
        stage = stage_name(stage)
        cache = self._state(review)
        if resolution:
            with self.lock, self.state_lock:
                cid = self._check(cache, review, stage, user, record_id, resolution=True)
                d = self._write(cache, review, stage, user, record_id, decision, reason=reason,
                                note=note, study_id=study_id, resolution=True)  # fmt: skip
                self._apply(cache, stage, cid, d)
                self.store.add_web_audit(
                    user, review, "resolve", f"{stage} record {record_id}: {d.decision}"
                    + (f" ({d.reason})" if d.reason else "")
                )
                return d
        with self.state_lock:
            cid = self._check(cache, review, stage, user, record_id, resolution=False)
            cache.writing.setdefault((stage, cid), set()).add(user)
        try:
            with self.lock:
                d = self._write(cache, review, stage, user, record_id, decision, reason=reason,
                                note=note, study_id=study_id, resolution=False)  # fmt: skip
            with self.state_lock:
                self._apply(cache, stage, cid, d)
        finally:
            with self.state_lock:
                writing = cache.writing[(stage, cid)]
                writing.discard(user)
                if not writing:
                    del cache.writing[(stage, cid)]
        return d

    def _check(self, cache: _ReviewCache, review: str, stage: str, user: str, record_id: int,
               *, resolution: bool) -> int:  # fmt: skip
        """The record's cluster, when ``user`` may decide it now (else Refused/InputError)."""
        view = cache.view
        cid = view.cluster_of(int(record_id))
        if cid is None:
            raise InputError(f"record {record_id} is not in review {review!r}")
        st = view.state(stage, cid)
        if resolution:
            if st is None or not st.conflict:
                raise Refused(f"record {record_id} has no open conflict at {stage}")
            if user in st.by_reviewer:
                raise Refused("a third reviewer resolves a conflict, not one of its two")
            return cid
        writing = cache.writing.get((stage, cid), set())
        need = 2 if view.config.dual_review else 1
        if (
            not view.pending_for(stage, cid, user)
            or user in writing
            or (len(st.by_reviewer) if st else 0) + len(writing) >= need
        ):
            raise Refused(f"record {record_id} needs no decision from {user} at {stage}")
        return cid

    def _write(self, cache: _ReviewCache, review: str, stage: str, user: str, record_id: int,
               decision: str, **kw: Any) -> Decision:  # fmt: skip
        """Store one decision (the library validates it against the cached view)."""
        return record_decision(self.store, review, stage, int(record_id), decision,
                               reviewer=user, via="web", view=cache.view, **kw)  # fmt: skip

    def _apply(self, cache: _ReviewCache, stage: str, cid: int, d: Decision) -> None:
        """Update the cached view with one new decision (the library's own state rules)."""
        view = cache.view
        ds = cache.by_cluster.setdefault((stage, cid), [])
        ds.append(d)
        before = view.final(stage, cid)
        was_closed = self._closed(view, stage, cid)
        view.states[stage].update(stage_states(ds, stage, view.config.dual_review))
        cache.closed[stage] = cache.closed.get(stage, 0) + (
            self._closed(view, stage, cid) - was_closed
        )
        cache.leases.get((stage, cid), {}).pop(d.reviewer, None)  # others keep their hold
        after = view.final(stage, cid)
        if stage == "title_abstract" and _passes(before) != _passes(after):
            # the full-text queue's members changed (an exclude, most settlements, does not
            # change them: the queue is not rebuilt for it)
            for part in (cache.order, cache.start, cache.closed):
                part.pop("full_text", None)
            for key in [k for k in cache.cursor if k[0] == "full_text"]:
                del cache.cursor[key]

    def conflicts(self, review: str) -> list[Conflict]:
        """Open conflicts at both stages (the conflict stage: both decisions may be seen)."""
        view = self._state(review).view
        with self.state_lock:
            out = []
            for stage in STAGES:
                for cid, st in sorted(view.states[stage].items()):
                    if st.conflict:
                        rec = view.primary.get(cid) or view.members[cid][0]
                        ds = tuple(sorted(st.by_reviewer.values(), key=lambda d: d.reviewer))
                        out.append(Conflict(stage, cid, rec, ds))
            return out

    def trail(self, review: str, record_id: int) -> list[Decision]:
        """Every decision on the record's cluster, both stages, oldest first (audit trail)."""
        cache = self._state(review)
        with self.state_lock:
            cid = cache.view.cluster_of(int(record_id))
            ds = [d for s in STAGES for d in cache.by_cluster.get((s, cid), [])] if cid else []
            return sorted(ds, key=lambda d: (d.decided_at, d.decision_id))

    def progress(self, review: str) -> dict[str, Any]:
        """PRISMA screening counts and decisions per stage and reviewer."""
        cache = self._state(review)
        with self.state_lock:
            per: dict[str, Counter[str]] = {s: Counter() for s in STAGES}
            for (stage, _), ds in cache.by_cluster.items():
                for d in ds:
                    per[stage][d.reviewer] += 1
            return {
                "summary": summarise(cache.view),
                "per_reviewer": {s: dict(sorted(c.items())) for s, c in per.items()},
                "dual_review": cache.view.config.dual_review,
                "reasons": cache.view.config.reasons,
                "keywords": cache.view.config.keywords,
            }

    def config(self, review: str) -> Any:
        """The review's screening settings (reasons, keywords, dual review)."""
        return self._state(review).view.config

    def recall_estimate(self, review: str) -> str:
        """How screening is ordered, the estimated recall and the stopping rule's verdict
        (``registry.screening.progress.screening_methods``), as one sentence."""
        with self.lock:
            return screening_methods(self.store, review).line()

    # -- people, status, extraction ----------------------------------------------------
    def secret(self) -> str:
        """The key that signs session cookies (kept in the store)."""
        with self.lock:
            return self.store.web_secret()

    def user_roles(self, username: str) -> dict[str, str]:
        """review -> role of ``username``."""
        with self.state_lock:
            known = self._roles.get(username)
        if known is None:
            with self.lock, self.state_lock:
                known = self._roles[username] = self.store.user_roles(username)
        return dict(known)

    def add_user(self, username: str, password: str, review: str, role: str) -> str:
        """Create or update an account (``registry user add`` through the server)."""
        with self.lock, self.state_lock:
            self._roles.pop(username, None)
            return add_user(self.store, username, password, review, role)

    def password_hash(self, username: str) -> str | None:
        """The stored password hash (None: no such user)."""
        with self.lock:
            return self.store.password_hash(username)

    def status(self, review: str | None) -> dict[str, Any]:
        """What ``registry status --json`` prints, computed by the owner of the store."""
        with self.lock:
            return build_status(self.store, review).to_dict()

    def form_fields(self, review: str, sheet: str) -> list[FormField]:
        """The inputs of an extraction form."""
        with self.lock:
            return form_fields(self.store, load_protocol(review), sheet)

    def save_entry(
        self, review: str, sheet: str, values: Mapping[str, str], user: str
    ) -> tuple[FormCheck, LoadSummary | None]:
        """Check an extraction form and store it when valid (see :mod:`.extraction`)."""
        with self.lock:
            return save_entry(self.store, review, sheet, values, user)

    # -- identification, dedup ---------------------------------------------------------
    def identification(self, review: str) -> dict[str, Any]:
        """PRISMA identification counts (dedup area)."""
        with self.lock:
            return self.store.prisma_identification(review)

    def dedup_pair(self) -> tuple[dict[str, Any] | None, int]:
        """The highest-scored uncertain pair and how many are pending."""
        with self.lock:
            pairs = self.store.dedup_pending(limit=1)
            return (pairs[0] if pairs else None), self.store.dedup_pending_count()

    def dedup_decide(self, user: str, record_a: int, record_b: int, verdict: str) -> None:
        """Merge or keep apart one pair (registry.dedup.decide), then refresh screening."""
        from registry.dedup import decide  # dedup (pandas, rapidfuzz) loads on first use

        if verdict not in ("duplicate", "not_duplicate"):
            raise InputError(f"verdict {verdict!r} is not duplicate or not_duplicate")
        with self.lock, self.state_lock:
            decide(self.store, record_a, record_b, verdict, decided_by=user)
            self.store.add_web_audit(user, None, "dedup", f"{record_a}/{record_b}: {verdict}")
            self._cache.clear()  # clusters changed: decisions now belong to merged clusters

    # -- reports -----------------------------------------------------------------------
    def report_html(self, review: str) -> str:
        """The review's evidence summary rendered now from the registry (self-contained)."""
        from reports.assemble import build_report  # heavy (pooling): loaded on first use
        from reports.render import render_html

        with self.lock:
            built = build_report(self.store, review)
        return render_html(built.report)

    def version_html(self, review: str, label: str) -> str | None:
        """The kept HTML of report version ``label`` (``<out>/<review>/versions/<label>/``),
        or None when it is not kept there (made before versions were kept, or no --out)."""
        if self.out_dir is None:
            return None
        path = version_dir(self.out_dir / review, label) / "report.html"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def report_versions(self, review: str) -> list[dict[str, Any]]:
        """Archived report versions, newest first."""
        with self.lock:
            return self.store.report_versions(review)

    def audit(self, review: str) -> list[dict[str, Any]]:
        """The workspace audit trail of ``review``, newest first."""
        with self.lock:
            return self.store.web_audit(review)


def build_queue_score(view: ReviewView, rec: Mapping[str, Any]) -> Score:
    """Why the record ranks where it does (the screening library's explanation)."""
    return score_record(rec, view.config)
