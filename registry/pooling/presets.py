"""Named analysis presets: how Review Manager 5 pooled, and Cochrane's methods since 2025."""

from __future__ import annotations

from dataclasses import dataclass

from registry.errors import StatsError


@dataclass(frozen=True)
class Preset:
    """A named set of pooling choices selectable per analysis.

    ``method``: tau2 estimator of the (random-effects) analysis. ``hksj``: Hartung-Knapp-
    Sidik-Jonkman CI. ``smd``: effect measure used when "SMD" is requested (None keeps the
    measure). ``dichotomous``: "MH" pools OR/RR/RD as Review Manager 5 does (Mantel-Haenszel for
    a fixed effect; DerSimonian-Laird with the Mantel-Haenszel Q for random effects), "IV" uses
    inverse-variance weights on the per-study log OR/RR or RD. ``drop00``: studies without
    events in either arm are excluded from OR and RR (as RevMan; they stay in for RD).
    ``prediction_interval``: whether reports show the 95% prediction interval.
    """

    name: str
    method: str
    hksj: bool
    smd: str | None
    dichotomous: str
    drop00: bool
    prediction_interval: bool
    description: str
    source: str


PRESETS: dict[str, Preset] = {
    "revman5": Preset(
        name="revman5",
        method="DL",
        hksj=False,
        smd="SMD_REVMAN5",
        dichotomous="MH",
        drop00=True,
        prediction_interval=False,
        description="Review Manager 5.4: DerSimonian-Laird random effects with Wald CI, "
        "Hedges' g with RevMan's approximate correction, Mantel-Haenszel for dichotomous data",
        source="Deeks JJ, Higgins JPT. Statistical algorithms in Review Manager 5 (2010)",
    ),
    "cochrane2025": Preset(
        name="cochrane2025",
        method="REML",
        hksj=True,
        smd=None,
        dichotomous="IV",
        drop00=True,
        prediction_interval=True,
        description="Cochrane methods since January 2025: REML tau2, Hartung-Knapp-Sidik-"
        "Jonkman CI, 95% prediction interval, I2 from tau2",
        source="Cochrane Handbook v6.5 (2024) ch. 10.10.4; RevMan statistical methods 2025",
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (revman5, cochrane2025)."""
    try:
        return PRESETS[name.lower()]
    except KeyError:
        raise StatsError(
            f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}"
        ) from None
