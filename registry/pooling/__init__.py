"""Pooling engine: effect sizes, meta-analysis models and the analyses around them.

Pure functions on arrays returning frozen dataclasses; numbers match R's metafor 3.8 (checked
against ``../shared/reference/metafor/`` and ``tests/pooling/data/metafor_extra.json``) and
Review Manager 5 where a preset asks for it.

High-level (what ``registry meta`` and the reports use)::

    from registry.pooling import analyse, format_table
    a = analyse(table, measure="SMD", preset="revman5", by="route", leave_one_out=True,
                cumulative="year", study_col="study_id")
    a.result.estimate, a.result.ci_lb, a.result.tau2, a.result.i2, a.result.tau2_ci
    a.to_json_dict()   # reference-file field names: estimate, se, stat, pval, ci_lb, ci_ub,
                       # tau2, I2, H2, Q, Q_pval, k, pi_lb, pi_ub, weights_percent, and
                       # subgroups / leave_one_out / cumulative / egger / trimfill / metareg
    print(format_table(a))  # readable text; OR/RR exponentiated

``analyse(table, *, measure, method=None, hksj=None, preset=None, by=None,
leave_one_out=False, cumulative=None, study_col="study", moderator=None, missing="drop",
level=0.95) -> Analysis``. ``table`` is a pandas DataFrame, one row per study, with ``n1,
mean1, sd1, n2, mean2, sd2`` (MD, SMD, SMD_REVMAN5) or ``events1, n1, events2, n2`` (OR, RR,
RD) or ``yi, vi`` / ``yi, sei`` / ``yi, ci_lb, ci_ub`` (GEN). ``method``: FE, DL, REML, PM, MH,
PETO (default: the preset's, else REML like metafor); explicit ``method``/``hksj`` override
the preset. ``by``: subgroup column (empty -> subgroup "missing"); ``cumulative``: column of
numbers or dates to add studies by (ascending, ties in input order); ``moderator``: column for
a meta-regression. Egger's test and trim-and-fill (FE, L0) are added from 10 studies.
Studies with missing numbers are left out and named in ``notes``/``excluded`` (metafor's
na.omit); ``missing="error"`` raises instead. ``Analysis`` (frozen): measure, method, hksj,
preset, result (MetaResult), effect_sizes, studies, excluded, notes, subgroups, by,
leave_one_out, cumulative, cumulative_by, egger, trimfill, metareg. OR and RR are on the log
scale in every result and in JSON.

Building blocks:

- ``escalc(measure, *, n1, mean1, sd1, n2, mean2, sd2, events1, events2, yi, vi, add=0.5,
  to="only0", drop00=False, labels=None) -> EffectSizes`` (yi, vi, measure, notes, dropped)
- ``rma(yi, vi, *, method="REML"|"DL"|"PM"|"FE", hksj=False, level=0.95, measure="GEN",
  labels=None) -> MetaResult`` (estimate, se, stat, pval, ci_lb, ci_ub, tau2, tau2_ci (the
  Q-profile CI, computed on first access), i2, h2, q, q_pval, df, k, pi_lb, pi_ub,
  weights_percent, method, test ("z"|"t"), measure; ``to_json_dict()``)
- ``rma_mh(events1, n1, events2, n2, measure)``, ``rma_peto(...)``, ``rma_mh_dl(...)``
  (RevMan 5's DerSimonian-Laird for 2x2 tables, tau2 from the MH Q) -> MetaResult
- ``subgroups(yi, vi, groups, method=...)`` -> SubgroupAnalysis (with RevMan's test for
  subgroup differences), ``leave_one_out`` / ``cumulative`` -> Sequential, ``egger`` ->
  EggerResult, ``trimfill`` -> TrimFillResult, ``metareg(yi, vi, x, method=...)`` ->
  MetaRegression
- ``PRESETS`` / ``get_preset(name)``: ``revman5`` and ``cochrane2025``
- ``rma_batch(yi, vi, method=..., hksj=...)`` -> BatchResult: thousands of meta-analyses at
  once (rows of a nan-padded 2-D array), vectorised NumPy
- ``registry.pooling.conversions``: SE/CI -> SD, median/IQR/range -> mean/SD (Wan 2014,
  Luo 2018, Shi 2020), change-score SD with a correlation, combining arms (Handbook
  6.5.2.10), splitting a shared control; each returns ``Derived(values, method, source,
  derivation)`` so the registry can store how a number was obtained.

Edge cases (k = 1 for a model needing more, zero/negative variance, missing values,
undefined double-zero tables, HKSJ with identical estimates) raise
``registry.errors.StatsError`` naming the study.
"""

from registry.pooling.api import Analysis, analyse, format_table, meta_csv, read_table
from registry.pooling.around import (
    EggerResult,
    Sequential,
    Subgroup,
    SubgroupAnalysis,
    TrimFillResult,
    cumulative,
    egger,
    leave_one_out,
    subgroup_test,
    subgroups,
    trimfill,
)
from registry.pooling.batch import BatchResult, rma_batch
from registry.pooling.effects import MEASURES, EffectSizes, escalc
from registry.pooling.metareg import MetaRegression, metareg
from registry.pooling.models import MetaResult, rma, rma_mh, rma_mh_dl, rma_peto
from registry.pooling.presets import PRESETS, Preset, get_preset

__all__ = [
    "MEASURES",
    "PRESETS",
    "Analysis",
    "BatchResult",
    "EffectSizes",
    "EggerResult",
    "MetaRegression",
    "MetaResult",
    "Preset",
    "Sequential",
    "Subgroup",
    "SubgroupAnalysis",
    "TrimFillResult",
    "analyse",
    "cumulative",
    "egger",
    "escalc",
    "format_table",
    "get_preset",
    "leave_one_out",
    "meta_csv",
    "metareg",
    "read_table",
    "rma",
    "rma_batch",
    "rma_mh",
    "rma_mh_dl",
    "rma_peto",
    "subgroup_test",
    "subgroups",
    "trimfill",
]
