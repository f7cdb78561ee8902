"""Screening at title/abstract and full-text stages.

Store-level API (each takes an open :class:`registry.store.Store`):
``screening_queue``, ``record_decision``, ``screening_conflicts``, ``resolve_conflict``,
``screening_summary``, ``screening_overview``, ``screening_status``, ``undo_last``,
``screening_methods`` (the report's methods line), ``export_decisions_csv``,
``import_decisions_csv``, ``screen_interactively``. Ranking: ``score_record`` (transparent
score) and :mod:`registry.screening.model` (the learned order); ``simulate`` replays a
labelled set; :mod:`registry.screening.stopping` holds the stopping rules.
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
from registry.screening.progress import (
    ScreeningMethods,
    ScreeningStatus,
    screening_methods,
    screening_overview,
    screening_status,
    undo_last,
)
from registry.screening.ranking import Score, ScorePart, rank, score_record
from registry.screening.simulate import simulate
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
    "ScreeningMethods",
    "ScreeningStatus",
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
    "screening_methods",
    "screening_overview",
    "screening_status",
    "simulate",
    "undo_last",
    "screening_queue",
    "screening_summary",
    "stage_name",
]
