"""``registry meta INPUT.csv`` through Typer's CliRunner, on CSVs made from the reference inputs.

Expected numbers are the metafor 3.8-1 reference files (../shared/reference/metafor).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from registry.commands import meta as meta_cmd

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    """A root app with just the meta command (the command module registers itself)."""
    root = typer.Typer(pretty_exceptions_enable=False)

    @root.callback()
    def _root() -> None:
        """Test root."""

    meta_cmd.register(root)
    return root


def _case(reference_dir: Path, name: str) -> dict:
    return json.loads((reference_dir / name).read_text())


def _csv(tmp_path: Path, case: dict, **extra: list) -> Path:
    table = pd.DataFrame(case["input"])
    table.insert(0, "study", [f"S{i + 1}" for i in range(len(table))])
    for k, v in extra.items():
        table[k] = v
    path = tmp_path / f"{case['name']}.csv"
    table.to_csv(path, index=False)
    return path


def _run(app: typer.Typer, *args: str):
    return runner.invoke(app, ["meta", *map(str, args)])


def _approx(x: float) -> object:
    return pytest.approx(x, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("model", ["DL", "REML", "PM+HKSJ", "FE", "MH", "PETO"])
def test_json_matches_metafor_log_scale(app, reference_dir, tmp_path, model) -> None:
    case = _case(reference_dir, "bcg_OR.json")
    ref = case["models"][model]
    method, _, adj = model.partition("+")
    args = ["--measure", "OR", "--method", method, "--json"] + (["--hksj"] if adj else [])
    res = _run(app, _csv(tmp_path, case), *args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in ("estimate", "se", "stat", "pval", "ci_lb", "ci_ub", "tau2", "I2", "H2", "Q",
                "Q_pval", "k"):
        assert out[key] == _approx(ref[key]), key
    assert out["scale"] == "log"
    if "weights_percent" in ref:
        assert out["weights_percent"] == _approx(ref["weights_percent"])
        assert (out["pi_lb"], out["pi_ub"]) == _approx((ref["pi_lb"], ref["pi_ub"]))


def test_table_is_exponentiated_for_ratios(app, reference_dir, tmp_path) -> None:
    case = _case(reference_dir, "bcg_RR.json")
    ref = case["models"]["DL"]
    res = _run(app, _csv(tmp_path, case), "--measure", "RR", "--method", "DL")
    assert res.exit_code == 0, res.output
    line = next(x for x in res.stdout.splitlines() if x.startswith("Pooled estimate"))
    exp = f"{math.exp(ref['estimate']):.4f}  [{math.exp(ref['ci_lb']):.4f}, " \
          f"{math.exp(ref['ci_ub']):.4f}]"
    assert exp in line
    assert f"{ref['estimate']:.4f}" not in res.stdout.split("Pooled estimate")[1].splitlines()[0]
    assert "RR (exponentiated)" in res.stdout


def test_table_for_mean_difference_is_not_transformed(app, reference_dir, tmp_path) -> None:
    case = _case(reference_dir, "normand1999_MD.json")
    ref = case["models"]["REML"]
    res = _run(app, _csv(tmp_path, case), "--measure", "MD", "--method", "REML")
    assert res.exit_code == 0, res.output
    assert f"Pooled estimate   {ref['estimate']:.4f}  [{ref['ci_lb']:.4f}" in res.stdout


def test_subgroups_leave_one_out_cumulative_json(app, reference_dir, tmp_path) -> None:
    case = _case(reference_dir, "bcg_OR.json")
    # the file's `order` is the sort variable metafor's cumul() received (see test_reference)
    path = _csv(tmp_path, case, alloc=case["subgroups_DL"]["group"],
                order_key=case["cumulative_DL"]["order"])
    res = _run(app, path, "--measure", "OR", "--method", "DL", "--by", "alloc",
               "--leave-one-out", "--cumulative", "order_key", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    sg, ref_sg = out["subgroups"], case["subgroups_DL"]
    for lab, ref in ref_sg["subgroups"].items():
        assert sg["subgroups"][lab]["estimate"] == _approx(ref["estimate"])
        assert sg["subgroups"][lab]["tau2"] == _approx(ref["tau2"])
        assert sg["subgroups"][lab]["rows"] == ref["rows"]
    for key, val in ref_sg["test_for_subgroup_differences"].items():
        assert sg["test_for_subgroup_differences"][key] == _approx(val)
    for key, val in case["leave_one_out_DL"].items():
        assert out["leave_one_out"][key] == _approx(val), key
    for key in ("estimate", "ci_lb", "ci_ub"):
        assert out["cumulative"][key] == _approx(case["cumulative_DL"][key]), key
    assert out["egger"]["stat"] == _approx(case["egger_lm"]["stat"])
    assert out["trimfill"]["k0"] == case["trimfill_FE"]["k0"]


def test_generic_input_defaults_to_gen(app, reference_dir, tmp_path) -> None:
    case = _case(reference_dir, "bangertdrowns2004_SMD.json")
    res = _run(app, _csv(tmp_path, case), "--method", "PM", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["tau2"] == _approx(case["models"]["PM"]["tau2"])


def test_presets(app, reference_dir, tmp_path) -> None:
    case = _case(reference_dir, "normand1999_SMD_revman5.json")
    res = _run(app, _csv(tmp_path, case), "--measure", "SMD", "--preset", "revman5", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["measure"] == "SMD_REVMAN5"
    assert out["estimate"] == _approx(case["models"]["DL"]["estimate"])
    case = _case(reference_dir, "normand1999_SMD_metafor.json")
    res = _run(app, _csv(tmp_path, case), "--measure", "SMD", "--preset", "cochrane2025",
               "--json")
    out = json.loads(res.stdout)
    ref = case["models"]["REML+HKSJ"]
    assert (out["test"], out["ci_lb"], out["pi_ub"]) == ("t", _approx(ref["ci_lb"]),
                                                         _approx(ref["pi_ub"]))


def test_missing_study_is_left_out_with_a_note(app, reference_dir, tmp_path) -> None:
    case = _case(reference_dir, "yusuf1985_t6_OR.json")
    res = _run(app, _csv(tmp_path, case), "--measure", "OR", "--method", "FE", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["k"] == case["models"]["FE"]["k"] == 21
    assert out["estimate"] == _approx(case["models"]["FE"]["estimate"])
    assert out["excluded"] == ["S8"]
    assert "S8" in res.stderr


def test_errors_are_one_line_with_exit_codes(app, tmp_path) -> None:
    res = _run(app, tmp_path / "nope.csv", "--measure", "MD")
    assert res.exit_code == 2 and "file not found" in res.stderr
    p = tmp_path / "one.csv"
    p.write_text("study,yi,vi\nSuk2016,0.3,0.1\n")
    res = _run(app, p, "--method", "REML")
    assert res.exit_code == 6 and "Suk2016" in res.stderr and "Traceback" not in res.output
    p.write_text("study,n1,mean1,sd1\nA,10,1,1\n")
    res = _run(app, p, "--measure", "MD")
    assert res.exit_code == 2 and "missing: n2, mean2, sd2" in res.stderr
    p.write_text("study,yi,vi\nA,0.3,0.1\nB,0.2,0\n")
    res = _run(app, p, "--method", "DL")
    assert res.exit_code == 6 and "study 'B'" in res.stderr


# ------------------------------------------------------------- --map (issue 10 item 19)
# The two CSVs of ../shared/examples are read as published (metadat 1.2-0 column names);
# expected values: the metafor reference files computed from the same data (bcg_OR.json,
# normand1999_MD.json, metafor 3.8-1).

BCG_MAP = ("--map", "tpos=events1", "--map", "tneg=nonevents1", "--map", "cpos=events2",
           "--map", "cneg=nonevents2", "--map", "author=study")
NORMAND_MAP = ("--map", "n1i=n1", "--map", "m1i=mean1", "--map", "sd1i=sd1", "--map", "n2i=n2",
               "--map", "m2i=mean2", "--map", "sd2i=sd2", "--map", "source=study")


@pytest.mark.parametrize(("csv", "args", "ref", "model"), [
    ("bcg_colditz1994.csv", ("--measure", "OR", "--method", "DL", *BCG_MAP), "bcg_OR.json",
     "DL"),
    ("normand1999_stroke_los.csv", ("--measure", "MD", "--method", "REML", *NORMAND_MAP),
     "normand1999_MD.json", "REML"),
])
def test_map_reads_the_example_csvs_unedited(app, shared, reference_dir, csv, args, ref,
                                             model) -> None:
    res = _run(app, shared / "examples" / csv, *args, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    expected = _case(reference_dir, ref)
    for key in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "Q"):
        assert out[key] == _approx(expected["models"][model][key]), key
    assert out["yi"] == [_approx(x) for x in expected["effect_sizes"]["yi"]]


def test_map_to_study_replaces_the_files_study_column(app, shared) -> None:
    res = _run(app, shared / "examples" / "normand1999_stroke_los.csv", "--measure", "MD",
               *NORMAND_MAP, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["studies"][:2] == ["Edinburgh", "Orpington-Mild"]


def test_map_keeps_repeated_labels_distinct(app, shared) -> None:
    res = _run(app, shared / "examples" / "bcg_colditz1994.csv", "--measure", "RR", *BCG_MAP,
               "--json")
    assert res.exit_code == 0, res.output
    studies = json.loads(res.stdout)["studies"]
    assert len(studies) == 13
    assert "Rosenthal et al.1" in studies and "Rosenthal et al.2" in studies


@pytest.mark.parametrize(("item", "message"), [
    ("tpos", "COLUMN=FIELD"),
    ("tpos=events9", "unknown field 'events9'"),
    ("nope=events1", "'nope'"),
    ("trial=yi", None),
])
def test_map_errors_are_one_line(app, shared, item, message) -> None:
    res = _run(app, shared / "examples" / "bcg_colditz1994.csv", "--measure", "OR",
               "--map", item)
    assert res.exit_code != 0
    assert "Traceback" not in res.output
    if message:
        assert message in res.output


def test_map_onto_an_existing_column_is_refused(app, tmp_path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("study,yi,vi,y2\nA,0.1,0.1,0.3\nB,0.2,0.1,0.4\n")
    res = _run(app, path, "--map", "y2=yi")
    assert res.exit_code != 0
    assert "already has a column" in res.output and "'yi'" in res.output
