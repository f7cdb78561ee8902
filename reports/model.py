"""What a report presents: plain, frozen view models filled by :mod:`reports.assemble`.

Templates receive one :class:`ReviewReport` and only present it: every number in it was
computed before rendering. Figures arrive as finished SVG strings from ``reports.figures``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from registry.evidence.whatsnew import WhatsNew  # the evidence layer's own record


@dataclass(frozen=True)
class Effect:
    """A pooled or study effect on the presentation scale (ratios exponentiated)."""

    measure: str  # MD, SMD, RR, OR, RD
    estimate: float
    ci_lb: float
    ci_ub: float
    pval: float | None = None
    scale_note: str = ""  # e.g. "risk ratio" / "mean difference (g/L)"


@dataclass(frozen=True)
class Pooled:
    """One fitted model as shown in a report."""

    analysis_id: str
    label: str
    k: int
    n_participants: int | None
    effect: Effect
    model: str  # e.g. "Random effects (DerSimonian-Laird), Wald CI"
    tau2: float | None
    i2: float | None  # percent
    q: float | None
    df: int | None
    q_pval: float | None
    stat_name: str  # "Z" or "t"
    stat: float | None
    pi: tuple[float, float] | None = None  # prediction interval, presentation scale
    significant: bool = False
    favours: str | None = None  # label of the arm the estimate favours, when significant


@dataclass(frozen=True)
class Headline:
    """One primary-outcome finding for the top of the report."""

    outcome: str
    time_point: str
    k: int
    n_participants: int | None
    sentence: str
    pooled: Pooled | None = None
    # the published pooled results of this outcome, each with its label ("as published,
    # not re-analysed (trial data not yet extracted)" until the registry can pool it)
    published: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    """An inline SVG figure with its caption."""

    title: str
    svg: str
    caption: str = ""


@dataclass(frozen=True)
class SubgroupView:
    """One subgroup set of one outcome."""

    label: str
    figure: Figure | None
    test_text: str  # "Test for subgroup differences: Chi² = ..., df = ... (P = ...), I² = ..."
    note: str = ""


@dataclass(frozen=True)
class SensitivityRow:
    """One sensitivity analysis next to the main result."""

    label: str
    pooled: Pooled | None
    note: str = ""


@dataclass(frozen=True)
class OutcomeSection:
    """Everything shown for one outcome at one time point."""

    anchor: str
    outcome: str
    time_point: str
    kind: str
    direction: str
    main: Pooled | None
    forest: Figure | None
    subgroups: tuple[SubgroupView, ...] = ()
    sensitivity: tuple[SensitivityRow, ...] = ()
    leave_one_out: Figure | None = None
    cumulative: Figure | None = None
    funnel: Figure | None = None
    small_study_note: str = ""
    note: str = ""  # e.g. why nothing was pooled


@dataclass(frozen=True)
class Table:
    """A plain table: header and rows of already formatted cells."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    empty_text: str = "None."


@dataclass(frozen=True)
class ScreeningNote:
    """How title/abstract screening was done, for the PRISMA/methods part (issue 12 item 5).

    ``recall`` and ``stopping`` read "not estimated" until the screening model provides a
    recall estimate (see :func:`reports.assemble.prose.screening_note`).
    """

    ordering: str
    screened: int
    to_screen: int
    recall: str = "not estimated"
    stopping: str = "not estimated"

    @property
    def text(self) -> str:
        """The one line the report prints."""
        return (f"Screening: records ordered {self.ordering}; {self.screened} of "
                f"{self.to_screen} records screened by hand; estimated recall: {self.recall}; "
                f"stopping criterion: {self.stopping}.")


@dataclass(frozen=True)
class ReviewReport:
    """The whole evidence summary of one review, ready to render."""

    review: str
    title: str
    example: bool
    registration: str | None
    question: dict[str, str]
    version_label: str
    data_hash: str
    generated_at: str
    tool_version: str
    whats_new: WhatsNew
    headlines: tuple[Headline, ...]
    prisma: Figure | None
    prisma_table: Table
    studies: Table
    design_check: Table
    rob_traffic: Figure | None
    rob_summary: Figure | None
    rob_note: str
    outcomes: tuple[OutcomeSection, ...]
    adverse_events: Table
    gaps: Table
    sof: Table
    published_vs_registry: Table
    methods: str
    screening_queue: Table = Table((), ())
    screening_note: ScreeningNote | None = None
    warnings: tuple[str, ...] = ()
    # ongoing and unpublished registered trials ("awaiting classification")
    trials: Table = Table((), (), empty_text="No trial registry searched.")
    # "<study>: retraction (<source>, notice <DOI>, <date>)", new since the previous version
    integrity_news: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
