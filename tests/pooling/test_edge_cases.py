"""Edge cases get a clear StatsError naming the study, never a NaN result."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from registry.errors import InputError, StatsError
from registry.pooling import (
    analyse,
    cumulative,
    egger,
    escalc,
    get_preset,
    metareg,
    rma,
    rma_batch,
    rma_mh,
    rma_peto,
    subgroups,
    trimfill,
)


def test_single_study_random_effects_names_the_study() -> None:
    with pytest.raises(StatsError, match=r"at least 2 studies.*'Suk2016'"):
        rma([0.3], [0.1], method="REML", labels=["Suk2016"])
    with pytest.raises(StatsError, match="HKSJ"):
        rma([0.3], [0.1], method="FE", hksj=True, labels=["Suk2016"])


def test_hksj_with_identical_estimates_is_an_error_not_nan() -> None:
    with pytest.raises(StatsError, match="HKSJ.*same estimate"):
        rma([0.2, 0.2, 0.2], [0.1, 0.2, 0.3], method="DL", hksj=True)


def test_single_study_fixed_effect_is_the_study_itself() -> None:
    # one study: the estimate is its yi and the CI its own Wald CI (metafor gives the same)
    r = rma([0.3], [0.04], method="FE")
    assert (r.estimate, r.se, r.tau2, r.i2, r.h2, r.q, r.q_pval) == (0.3, 0.2, 0, 0, 1, 0, 1)
    assert r.tau2_ci is None


@pytest.mark.parametrize("bad", [0.0, -0.1])
def test_zero_or_negative_variance_names_the_study(bad: float) -> None:
    with pytest.raises(StatsError, match=r"study 'B'.*vi must be > 0"):
        rma([0.1, 0.2, 0.3], [0.1, bad, 0.2], labels=["A", "B", "C"])


def test_missing_values_name_the_study() -> None:
    with pytest.raises(StatsError, match=r"study 3.*missing"):
        rma([0.1, 0.2, math.nan], [0.1, 0.1, 0.1])
    es = escalc("MD", n1=[10, 10], mean1=[1, None], sd1=[1, 1], n2=[10, 10], mean2=[0, 0],
                sd2=[1, 1], labels=["A", "B"])
    assert es.dropped == (1,)
    assert any("'B'" in n and "mean1" in n for n in es.notes)
    table = pd.DataFrame({"study": ["A", "B", "C"], "yi": [0.1, None, 0.3],
                          "vi": [0.1, 0.1, 0.1]})
    with pytest.raises(StatsError, match=r"study 'B'.*missing yi"):
        analyse(table, measure="GEN", method="DL", missing="error")
    a = analyse(table, measure="GEN", method="DL")
    assert a.excluded == ("B",) and a.result.k == 2
    assert any("'B'" in n for n in a.notes)


def test_double_zero_study() -> None:
    ev = dict(events1=[0, 3, 5], n1=[20, 30, 40], events2=[0, 6, 9], n2=[20, 30, 40])
    kept = escalc("OR", **ev, labels=["Z", "A", "B"])  # metafor default keeps it (yi = 0)
    # cells 0.5 | 20.5 | 0.5 | 20.5 after adding 1/2: vi = 2/0.5 + 2/20.5 (Woolf)
    assert kept.yi[0] == 0 and kept.vi[0] == pytest.approx(2 / 0.5 + 2 / 20.5)
    dropped = escalc("OR", **ev, drop00=True, labels=["Z", "A", "B"])
    assert np.isnan(dropped.yi[0]) and dropped.dropped == (0,)
    assert any("'Z'" in n and "no events (or only events) in both arms" in n
               for n in dropped.notes)
    table = pd.DataFrame({"study": ["Z", "A", "B"], **ev})
    a = analyse(table, measure="OR", preset="revman5")
    assert a.excluded == ("Z",) and a.result.k == 2
    with pytest.raises(StatsError, match="undefined"):
        rma_mh([0, 0], [10, 10], [0, 0], [12, 12], "OR")
    with pytest.raises(StatsError, match="undefined"):
        rma_peto([0, 0], [10, 10], [0, 0], [12, 12])


def test_drop00_also_drops_studies_with_only_events() -> None:
    # metafor's escalc: drop00 removes studies with no events *or all events* in both arms
    es = escalc("RR", events1=[10, 3], n1=[10, 20], events2=[12, 5], n2=[12, 20], drop00=True)
    assert es.dropped == (0,) and not np.isnan(es.yi[1])


def test_mh_heterogeneity_needs_two_informative_tables() -> None:
    # the second table has only events in both arms: it enters the MH RR/RD estimate but not
    # the Q test (metafor rma.mh 3.8-1 on these counts: QE = 0, I2 = 0)
    for measure in ("OR", "RR", "RD"):
        r = rma_mh([11, 127], [38, 127], [13, 92], [63, 92], measure)
        assert (r.q, r.df, r.i2, r.q_pval) == (0.0, 0, 0.0, 1.0)


def test_zero_cell_without_correction_is_an_error() -> None:
    with pytest.raises(StatsError, match="study 1.*zero cell"):
        escalc("OR", events1=[0], n1=[10], events2=[2], n2=[10], to="none")


def test_invalid_counts_and_sds() -> None:
    with pytest.raises(StatsError, match=r"'X'.*events1=12.*n1=10"):
        escalc("RR", events1=[12], n1=[10], events2=[2], n2=[10], labels=["X"])
    with pytest.raises(StatsError, match=r"'X'.*sd1 must be >= 0"):
        escalc("MD", n1=[10], mean1=[1], sd1=[-1], n2=[10], mean2=[1], sd2=[1], labels=["X"])
    with pytest.raises(StatsError, match=r"'X'.*pooled SD is 0"):
        escalc("SMD", n1=[10], mean1=[1], sd1=[0], n2=[10], mean2=[2], sd2=[0], labels=["X"])


def test_unknown_names() -> None:
    with pytest.raises(StatsError, match="unknown effect measure"):
        escalc("HR", yi=[1], vi=[1])
    with pytest.raises(StatsError, match="unknown method"):
        rma([1, 2], [1, 1], method="SJ")
    with pytest.raises(StatsError, match="unknown preset"):
        get_preset("revman6")


def test_small_study_methods_need_enough_studies() -> None:
    y, v = np.arange(5.0), np.ones(5)
    with pytest.raises(StatsError, match="at least 10"):
        egger(y, v)
    with pytest.raises(StatsError, match="at least 10"):
        trimfill(y, v)
    with pytest.raises(StatsError, match="single value"):
        metareg(y, v, np.ones(5))
    with pytest.raises(StatsError, match="study 'c'.*moderator"):
        metareg(y, v, [1, 2, math.nan, 4, 5], labels=list("abcde"))


def test_optional_extras_fail_into_notes_not_errors() -> None:
    # 12 studies of equal precision: Egger's regression has nothing to regress on
    table = pd.DataFrame({"yi": np.linspace(-0.5, 0.6, 12), "vi": np.full(12, 0.04)})
    with pytest.raises(StatsError, match="different precision"):
        egger(table["yi"], table["vi"])
    a = analyse(table, measure="GEN", method="DL")
    assert a.egger is None and any("Egger's test not computed" in n for n in a.notes)
    assert a.trimfill is not None


def test_cumulative_and_subgroup_inputs() -> None:
    with pytest.raises(StatsError, match="study 2.*order"):
        cumulative([0.1, 0.2], [0.1, 0.1], order=[2000, math.nan])
    with pytest.raises(StatsError, match="3 labels for 2 studies"):
        subgroups([0.1, 0.2], [0.1, 0.1], ["a", "b", "c"])


def test_analyse_input_errors() -> None:
    t = pd.DataFrame({"study": ["A", "B"], "yi": [0.1, 0.2], "vi": [0.1, 0.1]})
    with pytest.raises(InputError, match="missing: events1"):
        analyse(t, measure="OR")
    with pytest.raises(InputError, match="'nope' not found"):
        analyse(t, measure="GEN", by="nope")
    with pytest.raises(StatsError, match="needs events"):
        analyse(t, measure="GEN", method="MH")
    txt = pd.DataFrame({"study": ["A", "B"], "yi": ["0.1", "abc"], "vi": [0.1, 0.1]})
    with pytest.raises(InputError, match=r"'B' \(row 3\).*'yi'.*'abc'"):
        analyse(txt, measure="GEN")


def test_batch_errors_name_the_analysis() -> None:
    with pytest.raises(StatsError, match="analysis 2, study 1: vi must be > 0"):
        rma_batch([[0.1, 0.2], [0.3, 0.1]], [[0.1, 0.1], [0.0, 0.1]])
    with pytest.raises(StatsError, match="analysis 1 has one study"):
        rma_batch([[0.1]], [[0.1]], hksj=True)
    with pytest.raises(StatsError, match="analysis 2: all studies have the same estimate"):
        rma_batch([[0.1, 0.2], [0.3, 0.3, 0.3]], [[0.1, 0.1], [0.1, 0.2, 0.1]], hksj=True)


# ----------------------------------------------------------------------------- issue 10 item 11


@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
def test_vanishing_variance_is_a_stats_error_naming_the_study(method: str) -> None:
    # used to end in an uncaught OverflowError (sw0**2 in the typical within-study variance)
    with pytest.raises(StatsError, match=r"study 'tiny'.*vi = 1e-300 is too small"):
        rma([0.1, 0.2, 0.3], [1e-300, 0.1, 0.2], method=method, labels=["tiny", "b", "c"])
    with pytest.raises(StatsError, match=r"study 'tiny'.*too small"):
        rma([0.1, 200, -300], [1e-90, 0.1, 0.2], method=method, labels=["tiny", "b", "c"])


def test_smd_with_one_participant_per_arm_names_the_degrees_of_freedom() -> None:
    # n1 = n2 = 1: the pooled SD has n1 + n2 - 2 = 0 df; the old message said "pooled SD is 0"
    with pytest.raises(StatsError, match=r"'X'.*n1 = 1 and n2 = 1.*no degrees of freedom"):
        escalc("SMD", n1=[1], mean1=[2], sd1=[1], n2=[1], mean2=[1], sd2=[1], labels=["X"])
    with pytest.raises(StatsError, match="no degrees of freedom"):
        escalc("SMD_REVMAN5", n1=[1], mean1=[2], sd1=[1], n2=[1], mean2=[1], sd2=[1])
    # one participant in one arm only is fine (metafor pools it: the other arm gives the SD)
    es = escalc("SMD", n1=[1], mean1=[2], sd1=[0], n2=[10], mean2=[1], sd2=[1])
    assert np.isfinite(es.yi[0])


def test_duplicate_study_labels_are_kept_distinct_and_numbered_as_metafor() -> None:
    # metafor numbers repeated slab labels ".1", ".2" (.make.unique in misc.func.hidden.r)
    dup = pd.DataFrame({"study": ["A", "B", "A"], "yi": [0.1, 0.2, 0.4],
                        "vi": [0.1, 0.1, 0.2]})
    a = analyse(dup, measure="GEN", method="FE", leave_one_out=True)
    assert a.studies == ("A.1", "B", "A.2")
    assert a.result.k == 3
    one = rma([0.1, 0.2, 0.4], [0.1, 0.1, 0.2], method="FE")
    assert a.result.estimate == pytest.approx(one.estimate, rel=1e-12)
    assert a.to_json_dict()["leave_one_out"]["study"] == ["A.1", "B", "A.2"]
