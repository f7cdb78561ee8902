"""Run the protocol's analysis plan: every outcome × time point, its subgroup sets, its
sensitivity analyses and the time-point subgroup forest, through :mod:`registry.pooling`.

Each step returns what it computed or a :class:`NotComputed` with the reason, so nothing
the protocol asked for disappears between here and the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from registry.curation import PoolingInput
from registry.errors import RegistryError, StatsError
from registry.evidence.results import (
    NotComputed,
    n_participants,
    result_row,
    subgroup_rows,
    year,
)
from registry.pooling import analyse, get_preset
from registry.pooling.api import Analysis
from schemas.protocol import Outcome, Protocol, SubgroupSet
from schemas.values import float_or_none, is_missing

FIXED_METHODS = ("FE", "MH", "PETO")
TIME_BY = ("time_point", "time")  # subgroup sets that split by time point


@dataclass(frozen=True)
class SubgroupEvidence:
    """One subgroup set of one outcome: the fit, or why there is none."""

    sset: SubgroupSet
    analysis: Analysis | None
    df: pd.DataFrame | None = None
    note: str = ""


@dataclass(frozen=True)
class SensitivityEvidence:
    """One sensitivity analysis: the fit on the kept studies, or why there is none."""

    label: str
    key: str
    analysis: Analysis | None
    kept: pd.DataFrame | None = None
    note: str = ""


@dataclass(frozen=True)
class OutcomeEvidence:
    """Everything computed for one outcome at one time point."""

    outcome: Outcome
    tp_id: str
    tp_label: str
    df: pd.DataFrame  # the pooled studies only, once a model was fitted
    main: Analysis | None
    note: str = ""
    subgroups: tuple[SubgroupEvidence, ...] = ()
    sensitivity: tuple[SensitivityEvidence, ...] = ()
    fixed: Analysis | NotComputed | None = None  # None: the main model is fixed already
    years: dict[str, int | None] = field(default_factory=dict)

    @property
    def base_id(self) -> str:
        """The stored analysis id of the main analysis ('outcome/time point')."""
        return f"{self.outcome.id}/{self.tp_id}"


@dataclass(frozen=True)
class TimeSubgroupEvidence:
    """One outcome across its time points as subgroups (no overall estimate)."""

    outcome: Outcome
    sset: SubgroupSet
    df: pd.DataFrame
    analysis: Analysis | NotComputed


def unique_labels(labels: list[str]) -> list[str]:
    """Two studies sharing 'Author Year' become 'Author Year a' / 'b', as Review Manager does."""
    counts = {x: labels.count(x) for x in labels}
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        if counts[lab] > 1:
            seen[lab] = seen.get(lab, 0) + 1
            out.append(f"{lab}{chr(ord('a') + seen[lab] - 1) if seen[lab] <= 26 else seen[lab]}")
        else:
            out.append(lab)
    return out


def fit(table: pd.DataFrame, measure: str, preset: str, **kw: Any) -> Analysis:
    """One pooling call with the registry's study label column."""
    return analyse(table, measure=measure, preset=preset, study_col="label", **kw)


def try_fit(table: pd.DataFrame, measure: str, preset: str, **kw: Any) -> Analysis | NotComputed:
    """:func:`fit`, or the reason it failed (a domain error, never swallowed)."""
    try:
        return fit(table, measure, preset, **kw)
    except (StatsError, RegistryError) as exc:
        return NotComputed(str(exc))


def subgroup_column(df: pd.DataFrame, sset: SubgroupSet) -> pd.Series | None:
    """Each study's subgroup level (bands applied), None where it has none."""
    if sset.by not in df.columns:
        return None
    col = df[sset.by].astype(object)
    if sset.bands:
        col = col.map(lambda v: sset.band_of(float_or_none(v)))
    # pandas 3 string columns give NaN (not None) for empty cells: normalise to None
    values = [None if v is None or (not isinstance(v, str) and is_missing(v)) else str(v)
              for v in col]
    return pd.Series(values, index=df.index, dtype=object)


def sensitivity_masks(df: pd.DataFrame, protocol: Protocol) -> list[tuple[str, str, pd.Series]]:
    """(label, key, studies kept) for each sensitivity analysis the protocol asks for."""
    out = []
    if protocol.analysis.rct_only_sensitivity and "is_rct" in df.columns:
        out.append(("RCTs only (as assessed)", "rct_only",
                    df["is_rct"].map(lambda v: bool(v) if v is not None and v == v else False)))
    if protocol.analysis.low_rob_sensitivity and "rob_overall" in df.columns:
        out.append(("Low risk of bias only", "low_rob", df["rob_overall"].astype(str) == "low"))
    return out


def _labelled(data: pd.DataFrame) -> pd.DataFrame:
    df = data.copy().reset_index(drop=True)
    if "label" not in df.columns:
        df["label"] = df["study_id"]
    df["label"] = unique_labels(df["label"].astype(str).tolist())
    return df


def _subgroups(
    df: pd.DataFrame, protocol: Protocol, outcome: Outcome, preset_name: str, tp_id: str,
    base_id: str, results: list[dict[str, Any]],
) -> list[SubgroupEvidence]:
    out: list[SubgroupEvidence] = []
    for sset in protocol.subgroups:
        if sset.by in TIME_BY:
            continue  # each time point is its own analysis here
        col = subgroup_column(df, sset)
        if col is None:
            continue
        levels = sorted({v for v in col if isinstance(v, str)})
        if len(levels) < 2:
            out.append(SubgroupEvidence(sset, None, note=(
                f"Not analysed: {len(levels)} level(s) with data "
                f"({', '.join(levels) or 'none'}).")))
            continue
        t = df.copy()
        t["_sg"] = col.fillna("not reported")
        a = try_fit(t, outcome.measure, preset_name, by="_sg")
        if isinstance(a, NotComputed):
            out.append(SubgroupEvidence(sset, None, note=a.text("Not analysed")))
            continue
        results.extend(subgroup_rows(a, df, outcome.id, tp_id, base_id, sset.id))
        out.append(SubgroupEvidence(sset, a, df))
    return out


def _sensitivity(
    df: pd.DataFrame, protocol: Protocol, outcome: Outcome, preset_name: str, tp_id: str,
    base_id: str, results: list[dict[str, Any]],
) -> list[SensitivityEvidence]:
    out: list[SensitivityEvidence] = []
    for label, key, mask in sensitivity_masks(df, protocol):
        kept = df[mask]
        if len(kept) == len(df):
            out.append(SensitivityEvidence(label, key, None,
                                           note="same studies as the main analysis"))
            continue
        if len(kept) < 2:
            out.append(SensitivityEvidence(label, key, None,
                                           note=f"{len(kept)} study left: not pooled"))
            continue
        a = try_fit(kept.reset_index(drop=True), outcome.measure, preset_name)
        if isinstance(a, NotComputed):
            out.append(SensitivityEvidence(label, key, None, note=a.reason))
            continue
        results.append(result_row(f"{base_id}/{key}", outcome.id, tp_id, a,
                                  n_participants(kept), sensitivity=key))
        left_out = ", ".join(sorted(set(df["label"]) - set(kept["label"])))
        out.append(SensitivityEvidence(label, key, a, kept, note=f"left out: {left_out}"))
    return out


def _fixed_effect(
    main: Analysis, df: pd.DataFrame, outcome: Outcome, preset_name: str
) -> Analysis | NotComputed | None:
    """The fixed-effect counterpart of a random-effects main model (None if already fixed)."""
    if main.method in FIXED_METHODS:
        return None
    mh = outcome.kind == "dichotomous" and get_preset(preset_name).dichotomous == "MH"
    return try_fit(df, outcome.measure, preset_name, method="MH" if mh else "FE", hksj=False)


def run_outcome(
    inp: PoolingInput, protocol: Protocol, preset_name: str, results: list[dict[str, Any]]
) -> OutcomeEvidence:
    """Fit one outcome × time point with its subgroups and sensitivity analyses.

    Appends the stored result rows to ``results`` in report order (main, subgroups,
    sensitivity).
    """
    outcome: Outcome = inp.outcome
    tp = inp.time_point
    tp_label = getattr(tp, "label", str(tp))
    tp_id = getattr(tp, "id", str(tp))
    df = _labelled(inp.data)
    k_avail = len(df)
    if k_avail < 2:
        only = ", ".join(df["label"].astype(str)) or "none"
        return OutcomeEvidence(outcome, tp_id, tp_label, df, None,
                               note=f"{k_avail} study with data ({only}): nothing to pool yet.")
    years = dict(zip(df["label"].astype(str),
                     (year(v) for v in df.get("year", pd.Series([None] * k_avail))),
                     strict=True))
    has_year = "year" in df.columns and pd.to_numeric(df["year"], errors="coerce").notna().any()
    main = try_fit(df, outcome.measure, preset_name, leave_one_out=k_avail >= 3,
                   cumulative="year" if has_year else None)
    if isinstance(main, NotComputed):
        return OutcomeEvidence(outcome, tp_id, tp_label, df, None,
                               note=main.text("Not pooled"))
    # from here on only the studies the model pooled (a double-zero study left out of an
    # RR must not reappear in subgroups, sensitivity notes or GRADE counts)
    df = df[df["label"].isin(main.studies)].reset_index(drop=True)
    base_id = f"{outcome.id}/{tp_id}"
    results.append(result_row(base_id, outcome.id, tp_id, main, n_participants(df)))
    subgroups = _subgroups(df, protocol, outcome, preset_name, tp_id, base_id, results)
    sens = _sensitivity(df, protocol, outcome, preset_name, tp_id, base_id, results)
    return OutcomeEvidence(
        outcome, tp_id, tp_label, df, main, note="; ".join(main.notes),
        subgroups=tuple(subgroups), sensitivity=tuple(sens),
        fixed=_fixed_effect(main, df, outcome, preset_name), years=years,
    )


def run_time_subgroups(
    outcome: Outcome, inputs: Sequence[PoolingInput], sset: SubgroupSet, preset_name: str,
    results: list[dict[str, Any]],
) -> TimeSubgroupEvidence | None:
    """One analysis with a subgroup per time point (as Lu 2023 and RevMan lay them out).

    None when fewer than two time points (or three rows) have data: there is nothing to
    compare. A fit that fails is returned as :class:`NotComputed`, never dropped.
    """
    frames = []
    for inp in inputs:
        if len(inp.data) == 0:
            continue
        tp = inp.time_point
        d = inp.data.copy()
        if "label" not in d.columns:
            d["label"] = d["study_id"]
        d["label"] = [f"{lab} ({tp.label})" for lab in d["label"].astype(str)]
        d["_tp"] = tp.label
        frames.append(d)
    if len(frames) < 2 or sum(len(f) for f in frames) < 3:
        return None
    df = pd.concat(frames, ignore_index=True)
    df["label"] = unique_labels(df["label"].astype(str).tolist())
    a = try_fit(df, outcome.measure, preset_name, by="_tp")
    if isinstance(a, Analysis):
        results.extend(subgroup_rows(a, df, outcome.id, None, outcome.id, sset.id))
    return TimeSubgroupEvidence(outcome, sset, df, a)


def run_plan(
    inputs: Sequence[PoolingInput], protocol: Protocol, results: list[dict[str, Any]]
) -> tuple[list[OutcomeEvidence], list[TimeSubgroupEvidence]]:
    """The whole plan: every input, then the time-point subgroup forests per outcome."""
    preset_name = protocol.analysis.preset
    per_input = [run_outcome(inp, protocol, preset_name, results) for inp in inputs]
    by_time: list[TimeSubgroupEvidence] = []
    time_sets = [g for g in protocol.subgroups if g.by in TIME_BY]
    if time_sets:
        for o in protocol.outcomes:
            ins = [i for i in inputs if i.outcome.id == o.id]
            ev = run_time_subgroups(o, ins, time_sets[0], preset_name, results)
            if ev is not None:
                by_time.append(ev)
    return per_input, by_time
