"""GRADE suggestions from the data (GRADE handbook 5.2): risk of bias, inconsistency and
imprecision; indirectness and publication bias are the curators' (protocol ``grade:``)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from schemas.protocol import Outcome

LEVELS = ("High", "Moderate", "Low", "Very low")
_DOWN = {"serious": 1, "very serious": 2, "strongly suspected": 1}
# domains the data can speak to: a curated rating of one of these is marked "(curators)"
DATA_DOMAINS = ("risk_of_bias", "inconsistency", "imprecision")


@dataclass(frozen=True)
class GradeSuggestion:
    """The rating per domain as shown, the suggested certainty and the reasons."""

    shown: dict[str, str]
    certainty: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AbsoluteEffect:
    """GRADE's absolute effect: risks per 1,000 without and with the intervention."""

    control_per_1000: int  # assumed control risk
    risk_per_1000: int  # corresponding intervention risk
    lb_per_1000: int
    ub_per_1000: int

    @property
    def difference(self) -> int:
        """Intervention minus control, per 1,000 (negative: fewer)."""
        return self.risk_per_1000 - self.control_per_1000


def control_risk(df: pd.DataFrame | None) -> float | None:
    """Assumed control risk: events over participants of the pooled studies' control arms
    (GRADE handbook 5.2.2.1 and Cochrane Handbook 14.1.5.1 allow the pooled control-arm
    risk when no external baseline risk is given)."""
    if df is None or not {"events2", "n2"} <= set(df.columns):
        return None
    ev = pd.to_numeric(df["events2"], errors="coerce")
    n = pd.to_numeric(df["n2"], errors="coerce")
    if ev.isna().any() or n.isna().any() or n.sum() <= 0:
        return None
    return float(ev.sum() / n.sum())


def _corresponding(measure: str, ratio: float, acr: float) -> float:
    """Intervention risk from the control risk and a ratio. RR: ACR × RR; OR:
    OR × ACR / (1 − ACR + OR × ACR) (Cochrane Handbook 14.1.5.1 / 15.4.4.2)."""
    if measure == "OR":
        return ratio * acr / (1 - acr + ratio * acr)
    return acr * ratio


def absolute_effect(
    measure: str, ratio: float, lb: float, ub: float, acr: float | None
) -> AbsoluteEffect | None:
    """Per 1,000 from a pooled RR or OR (presentation scale) and the assumed control risk;
    None for other measures or without a control risk."""
    if measure not in ("RR", "OR") or acr is None:
        return None

    def per_1000(x: float) -> int:
        return int(round(1000 * min(1.0, _corresponding(measure, x, acr))))

    return AbsoluteEffect(int(round(1000 * acr)), per_1000(ratio), per_1000(lb), per_1000(ub))


def _risk_of_bias(df: pd.DataFrame | None, reasons: list[str]) -> str:
    """Serious when more than half the judged studies are not at low overall risk."""
    if df is None or "rob_overall" not in df.columns:
        return "not assessed"
    judged = df["rob_overall"].astype(str)
    known = judged.isin(["low", "unclear", "some_concerns", "high"])
    if not known.any():  # nothing judged is not assessed, not a reason to downgrade
        reasons.append("no risk-of-bias judgements")
        return "not assessed"
    share = float((judged[known] != "low").mean())
    of = "" if known.all() else f" ({int(known.sum())} of {len(known)} judged)"
    if share > 0.5:
        reasons.append(f"{share:.0%} of judged studies not at low risk of bias{of}")
    elif of:
        reasons.append(f"risk of bias judged for {of.strip(' ()')} studies")
    return "serious" if share > 0.5 else "not serious"


def _inconsistency(i2: float | None, reasons: list[str]) -> str:
    """I² > 50% serious, > 75% very serious (Cochrane Handbook 10.10.2 thresholds)."""
    i2 = i2 or 0.0
    inc = "very serious" if i2 > 75 else "serious" if i2 > 50 else "not serious"
    if inc != "not serious":
        reasons.append(f"I² = {i2:.0f}%")
    return inc


def _imprecision(
    outcome: Outcome, df: pd.DataFrame | None, significant: bool, n: int | None,
    reasons: list[str],
) -> str:
    """CI crossing no effect, and/or below the optimal information size rule of thumb:
    400 participants (continuous) or 300 events (dichotomous) (GRADE handbook 5.2.4.1)."""
    crosses = not significant
    events = None
    if outcome.kind == "dichotomous" and df is not None and {"events1", "events2"} <= set(df):
        total = pd.to_numeric(df["events1"], errors="coerce").sum() + pd.to_numeric(
            df["events2"], errors="coerce").sum()
        events = int(total)
    small = events < 300 if events is not None else (n or 0) < 400
    if crosses:
        reasons.append("95% CI includes no effect")
    if small:
        reasons.append(f"{events} events (< 300)" if events is not None else
                       f"{n or 'unknown'} participants (< 400)")
    return "very serious" if crosses and small else "serious" if crosses or small else \
        "not serious"


def suggest(
    outcome: Outcome, df: pd.DataFrame | None, *, i2: float | None, significant: bool,
    n_participants: int | None, curated: dict[str, str],
) -> GradeSuggestion:
    """Suggest the data-driven domains; a rating the curators set overrides the suggestion."""
    curated = {k: v.replace("_", " ") for k, v in curated.items()}
    reasons: list[str] = []
    rated = {
        "risk_of_bias": _risk_of_bias(df, reasons),
        "inconsistency": _inconsistency(i2, reasons),
        "imprecision": _imprecision(outcome, df, significant, n_participants, reasons),
        "indirectness": "not assessed",
        "publication_bias": "not assessed",
    }
    shown = {}
    for domain, suggested in rated.items():
        if domain in curated:
            shown[domain] = curated[domain] + (" (curators)" if domain in DATA_DOMAINS else "")
            rated[domain] = curated[domain]
        else:
            shown[domain] = suggested
    down = sum(_DOWN.get(v, 0) for v in rated.values())
    return GradeSuggestion(shown, LEVELS[min(down, 3)] + " (suggested)", tuple(reasons))
