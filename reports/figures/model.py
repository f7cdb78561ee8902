"""Frozen input dataclasses of the report figures.

The figures only *draw*: every number here has been computed elsewhere (the pooling engine,
the curation layer, the store). Effects of ratio measures (RR, OR, HR, ...) are given on the
natural-log scale, exactly as the pooling engine returns them; the figures exponentiate them
for axis labels and text. ``None`` means "not available" and is drawn as such, never as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["lower_is_better", "higher_is_better"]

EFFECT_NAMES = {
    "RR": "Risk Ratio",
    "OR": "Odds Ratio",
    "PETO": "Peto Odds Ratio",
    "PETO_OR": "Peto Odds Ratio",
    "HR": "Hazard Ratio",
    "IRR": "Rate Ratio",
    "ROM": "Ratio of Means",
    "RD": "Risk Difference",
    "MD": "Mean Difference",
    "SMD": "Std. Mean Difference",
    "SMD_REVMAN5": "Std. Mean Difference",
    "GEN": "Effect",
}


@dataclass(frozen=True)
class Arm:
    """Summary data of one arm of one study, as shown in the RevMan columns.

    Continuous outcomes use ``mean``, ``sd`` and ``n``; dichotomous outcomes use ``events``
    and ``n`` (the arm total). Missing values are ``None`` and shown as blank.
    """

    n: int | None = None
    mean: float | None = None
    sd: float | None = None
    events: int | None = None


@dataclass(frozen=True)
class Heterogeneity:
    """Numbers of the RevMan heterogeneity line.

    ``tau2`` is ``None`` for fixed-effect models (RevMan then omits "Tau²"). ``i2`` is in
    percent (0-100). ``df`` is the Q degrees of freedom (k - 1).
    """

    q: float
    df: int
    q_pval: float
    i2: float
    tau2: float | None = None


@dataclass(frozen=True)
class EffectTest:
    """The test for the overall effect: ``test`` is ``"z"`` (Wald) or ``"t"`` (HKSJ, ``df``)."""

    stat: float
    pval: float
    test: str = "z"
    df: int | None = None


@dataclass(frozen=True)
class SubgroupTest:
    """The test for subgroup differences as RevMan computes it (``i2`` in percent)."""

    q: float
    df: int
    pval: float
    i2: float


@dataclass(frozen=True)
class StudyRow:
    """One study of a forest plot.

    ``estimate``/``ci_lb``/``ci_ub`` are on the analysis scale (log for ratio measures);
    ``estimate=None`` draws "Not estimable". ``weight_percent`` sizes the square (area is
    proportional to weight) and fills the Weight column.
    """

    label: str
    estimate: float | None
    ci_lb: float | None
    ci_ub: float | None
    weight_percent: float | None = None
    experimental: Arm | None = None
    control: Arm | None = None


@dataclass(frozen=True)
class PooledRow:
    """A pooled estimate (subtotal or total) drawn as a diamond, with its text lines.

    ``pi_lb``/``pi_ub`` (prediction interval) are drawn as a bar below the diamond when both
    are given. ``n_experimental``/``n_control``/``events_*`` are the totals shown in the arm
    columns; pass them already summed. ``heterogeneity``/``test`` give the two text lines;
    ``heterogeneity=None`` with ``k == 1`` prints "Not applicable".
    """

    estimate: float
    ci_lb: float
    ci_ub: float
    label: str | None = None
    pi_lb: float | None = None
    pi_ub: float | None = None
    weight_percent: float | None = None
    k: int | None = None
    n_experimental: int | None = None
    n_control: int | None = None
    events_experimental: int | None = None
    events_control: int | None = None
    heterogeneity: Heterogeneity | None = None
    test: EffectTest | None = None

    @classmethod
    def from_meta(cls, result: Any, *, show_pi: bool = False, **overrides: Any) -> PooledRow:
        """Build from a pooling ``MetaResult`` (attributes) or a metafor-style mapping.

        Reads ``estimate, ci_lb, ci_ub, tau2, i2, q, df, q_pval, k, stat, pval, test`` and,
        when ``show_pi``, ``pi_lb, pi_ub``. Mapping keys are matched case-insensitively
        (``I2``/``Q``/``Q_pval`` as in the reference JSON). ``overrides`` win (e.g. ``df``
        when the source has none, ``label``, ``n_experimental``). Nothing is computed here.
        """
        fields_ = _fields_of(result)

        def get(name: str) -> Any:
            if name in overrides:
                return overrides[name]
            return fields_.get(name.lower())

        het = overrides.get("heterogeneity")
        if het is None and get("q") is not None and get("df") is not None:
            tau2 = get("tau2")
            method = str(get("method") or "").upper()
            if method in {"FE", "MH", "PETO", "IV", "FIXED"}:
                tau2 = None  # fixed-effect models: RevMan prints no Tau²
            het = Heterogeneity(
                q=float(get("q")),
                df=int(get("df")),
                q_pval=float(get("q_pval")),
                i2=float(get("i2")),
                tau2=None if tau2 is None else float(tau2),
            )
        test = overrides.get("test")
        if not isinstance(test, EffectTest):
            kind = str(test if test is not None else get("test") or "z").lower()
            kind = "t" if kind in {"t", "knha", "hksj"} else "z"
            tdf = get("test_df")
            if kind == "t" and tdf is None:
                tdf = get("df")
            test = (
                EffectTest(float(get("stat")), float(get("pval")), kind,
                           None if tdf is None else int(tdf))
                if get("stat") is not None and get("pval") is not None
                else None
            )
        kwargs = {
            "estimate": float(get("estimate")),
            "ci_lb": float(get("ci_lb")),
            "ci_ub": float(get("ci_ub")),
            "k": None if get("k") is None else int(get("k")),
            "heterogeneity": het,
            "test": test,
        }
        if show_pi:
            kwargs["pi_lb"] = get("pi_lb")
            kwargs["pi_ub"] = get("pi_ub")
        skip = {"heterogeneity", "test", "test_df", "df", "q", "q_pval", "i2", "tau2", "stat",
                "pval", "method"}
        for key, value in overrides.items():
            if key not in skip:
                kwargs[key] = value
        return cls(**kwargs)


def _fields_of(result: Any) -> dict[str, Any]:
    """Lower-cased field mapping of a dataclass / object / mapping."""
    if isinstance(result, Mapping):
        items = result.items()
    elif hasattr(result, "__dataclass_fields__"):
        items = ((f, getattr(result, f)) for f in result.__dataclass_fields__)
    else:
        items = ((k, getattr(result, k)) for k in dir(result) if not k.startswith("_"))
    return {str(k).lower(): v for k, v in items}


@dataclass(frozen=True)
class ForestGroup:
    """A block of studies: one subgroup (``title`` set) or the whole analysis (``title=None``).

    ``subtotal`` draws the subgroup diamond with its heterogeneity and overall-effect lines.
    """

    studies: tuple[StudyRow, ...]
    title: str | None = None
    subtotal: PooledRow | None = None


@dataclass(frozen=True)
class ForestPlot:
    """A RevMan-style forest plot.

    - ``measure``: MD, SMD, RR, OR, RD, HR, GEN... (ratio measures get a log axis).
    - ``kind``: ``"continuous"`` (Mean/SD/Total columns), ``"dichotomous"`` (Events/Total)
      or ``"generic"`` (no arm columns).
    - ``direction``: the outcome's direction; it puts "Favours experimental" on the side
      where the experimental arm does better. ``favours=(left, right)`` overrides the texts.
    - ``method_label``: e.g. ``"IV, Random, 95% CI"`` / ``"M-H, Fixed, 95% CI"``.
    - ``groups``: one group without title for a plain plot, several titled ones for a
      subgroup analysis; ``total`` is the overall diamond (optional in subgroup plots);
      ``subgroup_test`` the "Test for subgroup differences" line.
    - ``title``/``description`` become the SVG ``<title>``/``<desc>`` (screen readers).
    - ``xlim`` (display scale, e.g. ``(0.01, 100)`` for ratios) overrides the automatic limits.
    """

    measure: str
    groups: tuple[ForestGroup, ...]
    kind: Literal["continuous", "dichotomous", "generic"] = "generic"
    direction: Direction = "lower_is_better"
    total: PooledRow | None = None
    subgroup_test: SubgroupTest | None = None
    method_label: str = "IV, Random, 95% CI"
    effect_label: str | None = None
    experimental_label: str = "Experimental"
    control_label: str = "Control"
    favours: tuple[str, str] | None = None
    title: str = "Forest plot"
    description: str | None = None
    decimals: int = 2
    xlim: tuple[float, float] | None = None


@dataclass(frozen=True)
class SummaryRow:
    """One row of a cumulative or leave-one-out plot (a refitted pooled estimate).

    For cumulative plots ``label`` is the study added at that step and ``year`` its year;
    for leave-one-out ``label`` is the omitted study. ``tau2``/``i2``/``pval``/``k`` fill
    optional columns when given.
    """

    label: str
    estimate: float
    ci_lb: float
    ci_ub: float
    year: int | str | None = None
    k: int | None = None
    tau2: float | None = None
    i2: float | None = None
    pval: float | None = None


@dataclass(frozen=True)
class SummaryForest:
    """A cumulative (``mode="cumulative"``) or leave-one-out (``mode="leave_one_out"``) plot.

    ``overall`` (the analysis of all studies) is drawn as a diamond at the bottom and as a
    dashed reference line.
    """

    measure: str
    rows: tuple[SummaryRow, ...]
    mode: Literal["cumulative", "leave_one_out"] = "cumulative"
    overall: PooledRow | None = None
    direction: Direction = "lower_is_better"
    method_label: str = "IV, Random, 95% CI"
    effect_label: str | None = None
    favours: tuple[str, str] | None = None
    title: str = "Cumulative forest plot"
    description: str | None = None
    decimals: int = 2
    xlim: tuple[float, float] | None = None


@dataclass(frozen=True)
class EggerTest:
    """Egger's regression test: ``stat`` is t with ``df`` degrees of freedom."""

    stat: float
    pval: float
    df: int | None = None
    intercept: float | None = None


@dataclass(frozen=True)
class FunnelPlot:
    """Funnel plot: effects ``yi`` (log scale for ratios) against their standard errors.

    ``estimate`` centres the pseudo 95% confidence triangle (the pooled fixed-effect or
    random-effects estimate). ``filled_yi``/``filled_sei`` are trim-and-fill's imputed
    studies (drawn hollow) and ``adjusted_estimate`` their pooled estimate (dashed line).
    """

    measure: str
    yi: tuple[float, ...]
    sei: tuple[float, ...]
    estimate: float
    labels: tuple[str, ...] = ()
    filled_yi: tuple[float, ...] = ()
    filled_sei: tuple[float, ...] = ()
    adjusted_estimate: float | None = None
    egger: EggerTest | None = None
    effect_label: str | None = None
    title: str = "Funnel plot"
    description: str | None = None


Judgement = Literal["low", "some_concerns", "unclear", "high", "no_information"]


@dataclass(frozen=True)
class RobRow:
    """One study's risk-of-bias judgements: ``judgements`` maps domain id -> judgement.

    Judgements: ``low``, ``unclear`` (RoB 1), ``some_concerns`` (RoB 2), ``high``,
    ``no_information``; a missing domain or ``None`` is drawn as "no information".
    """

    study: str
    judgements: Mapping[str, str | None]
    overall: str | None = None


@dataclass(frozen=True)
class RobTable:
    """Risk-of-bias judgements of the included studies for one tool (``RoB1`` or ``RoB2``).

    ``domains`` orders the columns (ids such as ``random_sequence`` or ``D1``); empty means
    the tool's standard domains. ``show_overall`` adds the Overall column/bar.
    """

    tool: Literal["RoB1", "RoB2"]
    rows: tuple[RobRow, ...]
    domains: tuple[str, ...] = ()
    show_overall: bool = True
    title: str = "Risk of bias"
    description: str | None = None


@dataclass(frozen=True)
class PrismaFlow:
    """Counts of the PRISMA 2020 flow diagram for updated reviews.

    Every count is already computed (by the store); ``None`` prints "n = not reported".
    ``identified`` lists (source, n) pairs (databases and registers); ``excluded_reasons``
    lists (reason, n) pairs of full-text exclusions. ``other_methods`` (optional) fills the
    "Identification of new studies via other methods" column: ``other_identified`` (source,
    n) pairs, ``other_sought``, ``other_not_retrieved``, ``other_assessed`` and
    ``other_excluded_reasons``.
    """

    previous_studies: int | None = None
    previous_reports: int | None = None
    identified: tuple[tuple[str, int | None], ...] = ()
    duplicates_removed: int | None = None
    automation_removed: int | None = None
    other_removed: int | None = None
    screened: int | None = None
    screened_excluded: int | None = None
    sought: int | None = None
    not_retrieved: int | None = None
    assessed: int | None = None
    excluded_reasons: tuple[tuple[str, int | None], ...] = ()
    new_studies: int | None = None
    new_reports: int | None = None
    total_studies: int | None = None
    total_reports: int | None = None
    previous_label: str | None = None
    other_identified: tuple[tuple[str, int | None], ...] = ()
    other_sought: int | None = None
    other_not_retrieved: int | None = None
    other_assessed: int | None = None
    other_excluded_reasons: tuple[tuple[str, int | None], ...] = ()
    title: str = "PRISMA 2020 flow diagram"
    description: str | None = None
