"""Screening at title/abstract and full-text stages.

Store-level API (each takes an open :class:`registry.store.Store`):
``screening_queue``, ``record_decision``, ``screening_conflicts``, ``resolve_conflict``,
``screening_summary``, ``export_decisions_csv``, ``import_decisions_csv``,
``screen_interactively``; in :mod:`registry.screening.progress` (it loads scikit-learn, so
it is not imported here): ``screening_status``, ``screening_overview``, ``undo_last`` and
``screening_methods`` (the report's methods line). Ranking: ``score_record`` (transparent
score) and :mod:`registry.screening.model` (the learned order);
:mod:`registry.screening.simulate` replays a labelled set;
:mod:`registry.screening.stopping` holds the stopping rules.
"""

from __future__ import annotations

from registry.screening.config import (
    DECISIONS,
    STAGES,
    ScreeningConfig,
    screening_config,
    stage_name,
)
from registry.screening.csvio import (
    EXPORT_COLUMNS,
    ImportResult,
    export_decisions_csv,
    import_decisions_csv,
)
from registry.screening.interactive import SessionResult, screen_interactively
from registry.screening.ranking import Score, ScorePart, rank, score_record
from registry.screening.state import (
    Conflict,
    Decision,
    QueueItem,
    load_view,
    record_decision,
    resolve_conflict,
    screening_conflicts,
    screening_queue,
    screening_summary,
)

__all__ = [
    "DECISIONS",
    "EXPORT_COLUMNS",
    "STAGES",
    "Conflict",
    "Decision",
    "ImportResult",
    "QueueItem",
    "Score",
    "ScorePart",
    "ScreeningConfig",
    "SessionResult",
    "export_decisions_csv",
    "import_decisions_csv",
    "load_view",
    "rank",
    "record_decision",
    "resolve_conflict",
    "score_record",
    "screen_interactively",
    "screening_config",
    "screening_conflicts",
    "screening_queue",
    "screening_summary",
    "stage_name",
]
