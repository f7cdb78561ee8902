"""Screening at title/abstract and full-text stages.

Store-level API (take an open :class:`registry.store.Store`):
``screening_queue``, ``record_decision``, ``screening_conflicts``, ``screening_summary``,
``export_decisions_csv``, ``import_decisions_csv``, ``screen_interactively``;
ranking: ``score_record``. Database-path entry points for the CLI are in
:mod:`registry.screening.db`.
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
    "score_record",
    "screen_interactively",
    "screening_config",
    "screening_conflicts",
    "screening_queue",
    "screening_summary",
    "stage_name",
]
