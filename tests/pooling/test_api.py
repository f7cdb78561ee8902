"""analyse(), presets and the wiring of ``registry meta`` into the real CLI.

Expected numbers come from the metafor 3.8-1 reference files (../shared/reference/metafor) and
data/metafor_extra.json (made by data/make_metafor_extra.R).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from registry.errors import InputError
from registry.pooling import PRESETS, analyse, format_table, get_preset

EXTRA = json.loads((Path(__file__).parent / "data" / "metafor_extra.json").read_text())["cases"]


def _approx(x):
    return pytest.approx(x, rel=1e-6, abs=1e-9)


def _case(reference_dir: Path, name: str) -> dict:
    return json.loads((reference_dir / f"{name}.json").read_text())


def test_presets_are_named_and_documented() -> None:
    assert set(PRESETS) == {"revman5", "cochrane2025"}
    r5, c25 = get_preset("revman5"), get_preset("COCHRANE2025")
    assert (r5.method, r5.hksj, r5.smd, r5.dichotomous) == ("DL", False, "SMD_REVMAN5", "MH")
    assert (c25.method, c25.hksj, c25.prediction_interval) == ("REML", True, True)
    assert r5.source and c25.source


def test_revman5_smd_is_revmans_hedges_g_with_dl(reference_dir, case_table) -> None:
    case = _case(reference_dir, "normand1999_SMD_revman5")
    a = analyse(case_table(case), measure="SMD", preset="revman5")
    ref = case["models"]["DL"]
    assert a.measure == "SMD_REVMAN5" and a.method == "DL" and a.result.test == "z"
    for key in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "I2", "Q"):
        assert a.to_json_dict()[key] == _approx(ref[key]), key


def test_cochrane2025_is_reml_hksj_with_prediction_interval(reference_dir, case_table) -> None:
    case = _case(reference_dir, "normand1999_SMD_metafor")
    a = analyse(case_table(case), measure="SMD", preset="cochrane2025")
    ref = case["models"]["REML+HKSJ"]
    d = a.to_json_dict()
    assert a.measure == "SMD" and d["test"] == "t"
    for key in ("estimate", "se", "pval", "ci_lb", "ci_ub", "tau2", "I2", "pi_lb", "pi_ub"):
        assert d[key] == _approx(ref[key]), key
    # an explicit option overrides the preset
    b = analyse(case_table(case), measure="SMD", preset="cochrane2025", hksj=False)
    assert b.to_json_dict()["se"] == _approx(case["models"]["REML"]["se"])


def test_revman5_dichotomous_fixed_effect_is_mantel_haenszel(reference_dir, case_table) -> None:
    case = _case(reference_dir, "bcg_RR")
    a = analyse(case_table(case), measure="RR", preset="revman5", method="FE")
    assert a.method == "MH"
    assert a.result.estimate == _approx(case["models"]["MH"]["estimate"])
    assert a.result.se == _approx(case["models"]["MH"]["se"])


def test_revman5_dichotomous_random_effects_uses_the_mh_q(reference_dir, case_table) -> None:
    """RevMan 5 (Deeks & Higgins 2010, 'Statistical algorithms in Review Manager 5'): DL with
    Q taken around the Mantel-Haenszel estimate. Expected: metafor's rma.mh Q for this table
    (reference file) put into tau2 = (Q - df) / (sum w - sum w^2 / sum w), w = 1/vi from
    metafor's escalc (reference file)."""
    case = _case(reference_dir, "bcg_OR")
    a = analyse(case_table(case), measure="OR", preset="revman5")
    q_mh = case["models"]["MH"]["Q"]
    w = 1 / np.array(case["effect_sizes"]["vi"])
    tau2 = (q_mh - 12) / (w.sum() - (w**2).sum() / w.sum())
    assert a.result.q == _approx(q_mh)
    assert a.result.tau2 == _approx(tau2)
    assert a.result.i2 == _approx(case["models"]["MH"]["I2"])  # RevMan's (Q - df)/Q
    ws = 1 / (np.array(case["effect_sizes"]["vi"]) + tau2)
    est = (ws * np.array(case["effect_sizes"]["yi"])).sum() / ws.sum()
    assert a.result.estimate == _approx(est)
    assert any("Mantel-Haenszel Q" in n for n in a.result.notes)


def test_analyse_adds_only_what_is_asked(reference_dir, case_table) -> None:
    case = _case(reference_dir, "normand1999_MD")  # 9 studies: no Egger / trim-and-fill
    d = analyse(case_table(case), measure="MD", method="DL").to_json_dict()
    assert not {"subgroups", "leave_one_out", "cumulative", "egger", "trimfill"} & set(d)
    big = _case(reference_dir, "bcg_OR")
    d = analyse(case_table(big), measure="OR", method="DL").to_json_dict()
    assert d["egger"]["stat"] == _approx(big["egger_lm"]["stat"])
    assert d["trimfill"]["estimate"] == _approx(big["trimfill_FE"]["estimate"])


def test_meta_regression_through_analyse() -> None:
    case = next(c for c in EXTRA if c["kind"] == "metareg" and c["method"] == "REML"
                and not c["hksj"])
    table = pd.DataFrame({"yi": case["yi"], "vi": case["vi"], "ablat": case["moderator"]})
    a = analyse(table, measure="GEN", method="REML", moderator="ablat")
    assert a.metareg is not None
    assert a.metareg.slope == _approx(case["slope"])
    assert a.to_json_dict()["metareg"]["QM"] == _approx(case["QM"])


def test_format_table_for_every_measure_kind(reference_dir, case_table) -> None:
    for name, measure in (("bcg_OR", "OR"), ("bcg_RD", "RD"), ("normand1999_MD", "MD"),
                          ("bangertdrowns2004_SMD", "GEN")):
        case = _case(reference_dir, name)
        text = format_table(analyse(case_table(case), measure=measure, method="PM",
                                    leave_one_out=True))
        assert "Pooled estimate" in text and "Leave-one-out" in text
        assert ("exponentiated" in text) == (measure == "OR")


def test_registry_meta_is_wired_into_the_cli(reference_dir, tmp_path) -> None:
    from registry.cli import app

    case = _case(reference_dir, "bcg_OR")
    path = tmp_path / "bcg.csv"
    pd.DataFrame(case["input"]).to_csv(path, index=False)
    res = CliRunner().invoke(app, ["meta", str(path), "--measure", "OR", "--method", "DL",
                                   "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["tau2"] == _approx(case["models"]["DL"]["tau2"])


def test_cumulative_by_date_is_the_same_as_by_the_date_order() -> None:
    # a living review's history: studies added by publication date (ISO dates or years)
    table = pd.DataFrame({"study": list("ABCD"), "yi": [0.1, 0.5, -0.2, 0.3],
                          "vi": [0.04, 0.09, 0.05, 0.02],
                          "published": ["2019-03-01", "2016-07-15", "2021-01-09", "2016-02-01"],
                          "rank": [3, 2, 4, 1]})
    by_date = analyse(table, measure="GEN", method="DL", cumulative="published")
    by_rank = analyse(table, measure="GEN", method="DL", cumulative="rank")
    assert by_date.cumulative.order == by_rank.cumulative.order == (3, 1, 0, 2)
    assert by_date.cumulative.column("estimate") == by_rank.cumulative.column("estimate")
    table.loc[1, "published"] = "soon"
    with pytest.raises(InputError, match="'soon' is neither a number nor a date"):
        analyse(table, measure="GEN", cumulative="published")


def test_generic_inverse_variance_from_se_or_ci(reference_dir) -> None:
    """yi with vi, with sei = sqrt(vi), or with a 95% CI yi -/+ 1.959964 sei: the same answer
    (the CI route is Cochrane Handbook 6.3.1)."""
    case = _case(reference_dir, "bangertdrowns2004_SMD")
    y, v = np.array(case["input"]["yi"]), np.array(case["input"]["vi"])
    z = 1.959963984540054
    tables = [pd.DataFrame({"yi": y, "vi": v}), pd.DataFrame({"yi": y, "sei": np.sqrt(v)}),
              pd.DataFrame({"yi": y, "ci_lb": y - z * np.sqrt(v), "ci_ub": y + z * np.sqrt(v)})]
    ref = case["models"]["REML"]
    for t in tables:
        a = analyse(t, measure="GEN", method="REML")
        assert a.result.tau2 == _approx(ref["tau2"])
        assert a.result.estimate == _approx(ref["estimate"])
