"""Integrity of the bundled review data in ``data/reviews/`` (pandas and yaml only).

These tests do not use the registry's loader or validator. They check the curated files
directly against the public sources they were copied from:

- ``../shared/seed/`` for the seed review: Lu 2023's text, ``trials_verified.md`` and
  ``trials_found.csv``;
- ``../shared/examples/`` for the two example reviews.

The checks are mechanical. Every number has a source, every id resolves, and every value
entered for a seed trial is found again, with the same source, in ``trials_found.csv``. The
example data are compared with the metadat exports cell for cell.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
REVIEWS = REPO / "data" / "reviews"
ALL_REVIEWS = ("msc-cirrhosis", "bcg-vaccine", "stroke-unit-los")
SHEETS = ("studies", "arms", "outcomes", "risk_of_bias", "adverse_events")
# Columns that hold identifiers or labels, not measured numbers, even when they look numeric.
NOT_NUMERIC = {"study_id", "arm_id", "pmid", "doi", "registration", "result_id", "time_point"}
SOURCE_RE = re.compile(r"^(10\.\d{4,9}/\S+|https?://\S+)$")
# trials_found.csv field prefix for each protocol outcome of the seed review
FIELD = {"meld": "MELD", "albumin": "ALB", "tbil": "TBIL", "alt": "ALT", "ast": "AST", "inr": "INR"}
AGGREGATE_ARMS = {"between-group", "total", "all", "both", "each arm", "each group"}


# ------------------------------------------------------------------------------ helpers
def sheet(review: str, name: str) -> pd.DataFrame:
    """A CSV of a review, every cell as text ('' = empty)."""
    folder = REVIEWS / review
    if name != "published_results":
        folder = folder / "extraction"
    path = folder / f"{name}.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def protocol(review: str) -> dict:
    """The review's protocol.yaml as parsed YAML."""
    return yaml.safe_load((REVIEWS / review / "protocol.yaml").read_text(encoding="utf-8"))


def is_number(text: str) -> bool:
    """True when a cell parses as a finite number."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def num(text: str) -> float:
    """A numeric cell as float."""
    return float(text)


def seed_text(shared: Path) -> str:
    """The seed review's full text."""
    text = (shared / "seed" / "lu2023_msc_liver_cirrhosis_meta_analysis.txt").read_text(
        encoding="utf-8"
    )
    return text.replace("\u00a0", " ")  # the text uses no-break spaces inside headings


def squeeze(text: str) -> str:
    """Text with the typographic minus made ASCII and all whitespace removed."""
    return re.sub(r"\s+", "", text.replace("\u2212", "-"))


def found(shared: Path) -> pd.DataFrame:
    """trials_found.csv, every cell as text."""
    return pd.read_csv(
        shared / "seed" / "trials_found.csv", dtype=str, keep_default_na=False, encoding="utf-8"
    )


def ref_numbers(studies: pd.DataFrame) -> dict[int, str]:
    """Lu 2023 reference number -> study_id, read from each study's notes ('Lu 2023 ref [N]')."""
    out = {}
    for sid, notes in zip(studies["study_id"], studies["notes"], strict=True):
        m = re.match(r"Lu 2023 ref \[(\d+)\]", notes)
        assert m, f"studies.csv {sid}: notes must start with 'Lu 2023 ref [N]'"
        out[int(m.group(1))] = sid
    return out


# ------------------------------------------------------------------- every review
@pytest.mark.parametrize("review", ALL_REVIEWS)
def test_every_numeric_cell_has_a_source(review: str) -> None:
    """A filled numeric cell needs its row's source or its own X_source, in DOI/URL form."""
    names = [*SHEETS, "published_results"] if review == "msc-cirrhosis" else list(SHEETS)
    unsourced, bad_form = [], []
    for name in names:
        df = sheet(review, name)
        for i, rec in enumerate(df.to_dict("records"), start=2):
            for col, val in rec.items():
                if col.endswith(("_source", "_location")) or col in NOT_NUMERIC:
                    continue
                if val and is_number(val) and not (rec.get("source") or rec.get(f"{col}_source")):
                    unsourced.append(f"{name}.csv row {i} {col}={val}")
            for col, val in rec.items():
                # X_source is a companion only when X is a column (cell_source is not one)
                companion = col.endswith("_source") and col[: -len("_source")] in rec
                if (col == "source" or companion) and val:
                    parts = [p.strip() for p in val.split(";") if p.strip()]
                    if not parts or not all(SOURCE_RE.match(p) for p in parts):
                        bad_form.append(f"{name}.csv row {i} {col}={val!r}")
            if not rec.get("source"):
                unsourced.append(f"{name}.csv row {i}: empty source")
    assert not unsourced, unsourced
    assert not bad_form, bad_form


@pytest.mark.parametrize("review", ALL_REVIEWS)
def test_references_resolve(review: str) -> None:
    """Arms, outcomes, RoB and AE rows point at existing studies/arms; ids match the protocol."""
    proto = protocol(review)
    studies, arms = sheet(review, "studies"), sheet(review, "arms")
    outcomes = sheet(review, "outcomes")
    ids = set(studies["study_id"])
    assert len(ids) == len(studies), "duplicate study_id"
    arm_keys = set(zip(arms["study_id"], arms["arm_id"], strict=True))
    assert len(arm_keys) == len(arms), "duplicate (study_id, arm_id)"
    assert set(arms["study_id"]) == ids, "every study needs arms and every arm a study"
    for sid in ids:
        roles = set(arms.loc[arms["study_id"] == sid, "role"])
        assert roles == {"experimental", "control"}, f"{sid}: arm roles {roles}"
    assert set(zip(outcomes["study_id"], outcomes["arm_id"], strict=True)) <= arm_keys
    outcome_ids = {o["id"] for o in proto["outcomes"]}
    assert set(outcomes["outcome"]) <= outcome_ids
    for name in ("risk_of_bias", "adverse_events"):
        df = sheet(review, name)
        assert set(df["study_id"]) <= ids, name
    ae = sheet(review, "adverse_events")
    for sid, aid in zip(ae["study_id"], ae["arm_id"], strict=True):
        assert aid == "" or (sid, aid) in arm_keys
    # category characteristics use the protocol's levels; number characteristics are numbers
    for ch in proto.get("characteristics", []):
        vals = [v for v in studies.get(ch["id"], pd.Series(dtype=str)) if v]
        if ch["type"] == "category":
            assert set(vals) <= set(ch["levels"]), (ch["id"], set(vals) - set(ch["levels"]))
        elif ch["type"] == "number":
            assert all(is_number(v) for v in vals), ch["id"]
    # outcome rows fall in a protocol time point (baseline rows at week 0 excepted)
    windows = [tp["window"] for tp in proto["time_points"]]
    for tp_label, weeks in zip(outcomes["time_point"], outcomes["time_weeks"], strict=True):
        w = num(weeks)
        assert tp_label == "baseline" or any(lo <= w <= hi for lo, hi in windows), (tp_label, w)


@pytest.mark.parametrize("review", ALL_REVIEWS)
def test_example_flag_matches_label(review: str) -> None:
    """Examples say so in protocol, title and README; the seed review does not."""
    proto = protocol(review)
    readme = (REVIEWS / review / "README.md").read_text(encoding="utf-8")
    assert proto["review"] == review
    if review == "msc-cirrhosis":
        assert proto.get("example") is False
        assert "EXAMPLE" not in proto["title"]
    else:
        assert proto["example"] is True
        assert proto["title"].startswith("EXAMPLE")
        assert readme.startswith("# EXAMPLE")
        assert proto["searches"] == []  # no live search for an example
        assert sheet(review, "risk_of_bias").empty  # no invented RoB


# ----------------------------------------------------------- seed review (msc-cirrhosis)
def test_seed_study_ids_match_the_verified_mapping(shared: Path) -> None:
    """The 11 studies and their Lu 2023 reference numbers are those of trials_verified.md §1."""
    md = (shared / "seed" / "trials_verified.md").read_text(encoding="utf-8")
    mapping = {}
    for ref, cell in re.findall(r"^\| \[(\d+)\] \| ([^|]+?) \|", md, flags=re.M):
        cand = re.search(r"candidate (\w+)", cell)
        mapping[int(ref)] = cand.group(1) if cand else cell.strip()
    assert len(mapping) == 11
    assert ref_numbers(sheet("msc-cirrhosis", "studies")) == mapping


def test_seed_design_reported_is_rct_and_assessments_are_sourced() -> None:
    """Lu reports every study as an RCT; every other assessment carries its own source."""
    studies = sheet("msc-cirrhosis", "studies")
    assert set(studies["design_reported"]) == {"RCT"}
    for rec in studies.to_dict("records"):
        if rec["design_assessed"]:
            assert rec["design_assessed_source"], rec["study_id"]
    # candidates outside the seed's PICOS or not in Lu 2023 are not included studies
    notes = " ".join(studies["notes"])
    assert "OUTSIDE SEED PICOS" not in notes and "NOT IN LU2023" not in notes


def test_seed_outcome_values_are_in_trials_found(shared: Path) -> None:
    """Every stored mean/SD/n matches trials_found.csv: same trial, arm, time, unit, source.

    A unit may differ from the printed one only when the row's notes flag it ('FLAG - UNIT:
    printed ...') and quote the printed unit.
    """
    tf = found(shared)
    arms = sheet("msc-cirrhosis", "arms").set_index(["study_id", "arm_id"])
    outcomes = sheet("msc-cirrhosis", "outcomes")
    assert len(outcomes) > 0
    for i, rec in enumerate(outcomes.to_dict("records"), start=2):
        role = arms.loc[(rec["study_id"], rec["arm_id"]), "role"]
        rows = tf[(tf["trial"] == rec["study_id"]) & (tf["time_point"] == rec["time_point"])]
        if role == "control":
            rows = rows[rows["arm"].isin(["control", "placebo"])]
        else:
            rows = rows[~rows["arm"].isin({"control", "placebo"} | AGGREGATE_ARMS)]
        field = FIELD[rec["outcome"]]
        for col, suffix in (("mean", "_mean"), ("sd", "_SD")):
            hit = rows[rows["field"] == field + suffix]
            assert len(hit) == 1, f"outcomes.csv row {i}: {field + suffix} not found once"
            hit = hit.iloc[0]
            assert num(hit["value"]) == num(rec[col]), f"outcomes.csv row {i} {col}"
            assert hit["source"] in (rec["source"] + " " + rec["location"]), f"row {i} source"
            printed = hit["unit"].replace(" (as printed)", "")
            if rec["unit"] != printed:
                assert "FLAG - UNIT" in rec["notes"] and f"'{printed}'" in rec["notes"], (
                    f"outcomes.csv row {i}: unit {rec['unit']!r} differs from printed "
                    f"{printed!r} without a flag"
                )
        n_rows = tf[(tf["trial"] == rec["study_id"]) & tf["field"].str.match(r"^n(_|$)")]
        n_rows = n_rows[n_rows["arm"].isin(rows["arm"].unique())]
        assert rec["n"] in set(n_rows["value"]), f"outcomes.csv row {i}: n {rec['n']}"


def test_seed_outcome_values_in_trials_found_are_all_entered(shared: Path) -> None:
    """Each protocol-outcome mean in trials_found.csv for an included study is stored,
    unless its unit is one the protocol cannot convert (e.g. fold of the upper limit)."""
    tf = found(shared)
    proto = {o["id"]: o for o in protocol("msc-cirrhosis")["outcomes"]}
    ids = set(sheet("msc-cirrhosis", "studies")["study_id"])
    stored = {
        (r["study_id"], r["outcome"], r["time_point"], num(r["mean"]))
        for r in sheet("msc-cirrhosis", "outcomes").to_dict("records")
    }
    missing = []
    for rec in tf[tf["trial"].isin(ids)].to_dict("records"):
        for oid, field in FIELD.items():
            if rec["field"] != field + "_mean":
                continue
            unit = rec["unit"].replace(" (as printed)", "")
            if unit not in proto[oid].get("units", {}):
                continue
            if (rec["trial"], oid, rec["time_point"], num(rec["value"])) not in stored:
                missing.append(rec)
    assert not missing, missing


def test_seed_arm_sizes_are_in_trials_found(shared: Path) -> None:
    """Arm sizes equal an n-type value of trials_found.csv for that trial and arm kind."""
    tf = found(shared)
    tf = tf[tf["field"].str.match(r"^n(_|$)")]
    arms = sheet("msc-cirrhosis", "arms")
    for i, rec in enumerate(arms.to_dict("records"), start=2):
        rows = tf[tf["trial"] == rec["study_id"]]
        if rec["role"] == "control":
            rows = rows[rows["arm"].isin(["control", "placebo"])]
        else:
            rows = rows[~rows["arm"].isin({"control", "placebo"} | AGGREGATE_ARMS)]
        for col in ("n_randomised", "n_analysed"):
            if rec[col]:
                assert rec[col] in set(rows["value"]), f"arms.csv row {i} {col}={rec[col]}"


def _x10(text: str) -> list[float]:
    """'(1.6-1.8)x10^7' -> [1.6e7, 1.8e7]; '1x10^6' -> [1e6]."""
    m = re.fullmatch(r"\(?([\d.]+)(?:-([\d.]+))?\)?x10\^(\d+)", text.replace(" ", ""))
    if not m:
        return []
    scale = 10.0 ** int(m.group(3))
    return [float(g) * scale for g in (m.group(1), m.group(2)) if g]


def test_seed_dose_per_kg_comes_from_a_per_kg_source_value(shared: Path) -> None:
    """dose_per_kg equals a per-kg dose of trials_found.csv (a printed bound, or per-infusion
    dose x infusions); Lu's misprint-derived Mohamadnejad dose is therefore never entered."""
    tf = found(shared)
    tf = tf[tf["unit"] == "cells/kg"]
    studies = sheet("msc-cirrhosis", "studies")
    checked = 0
    for rec in studies.to_dict("records"):
        if not rec["dose_per_kg"]:
            continue
        printed = [v for t in tf.loc[tf["trial"] == rec["study_id"], "value"] for v in _x10(t)]
        allowed = set(printed)
        if rec["infusions"]:
            allowed |= {v * num(rec["infusions"]) for v in printed}
        assert any(math.isclose(num(rec["dose_per_kg"]), a) for a in allowed), rec["study_id"]
        assert rec["dose_per_kg_source"] or rec["source"]
        checked += 1
    assert checked > 0


def test_seed_risk_of_bias_matches_the_seed_text_table(shared: Path) -> None:
    """RoB 1 rows equal trials_verified.md §2; 'not stated' cells have no row; judgements
    inferred by elimination (marked *) say so in their notes."""
    md = (shared / "seed" / "trials_verified.md").read_text(encoding="utf-8")
    domains = (
        "random_sequence", "allocation_concealment", "blinding_participants",
        "blinding_outcome", "incomplete_outcome", "selective_reporting", "other_bias",
    )  # fmt: skip
    refs = ref_numbers(sheet("msc-cirrhosis", "studies"))
    expected: dict[tuple[str, str], tuple[str, bool]] = {}
    for line in re.findall(r"^\| \[(\d+)\] [A-Za-z-]+ \|(.+)\|$", md, flags=re.M):
        cells = [c.strip() for c in line[1].split("|")]
        assert len(cells) == 7
        for dom, cell in zip(domains, cells, strict=True):
            word = cell.replace("*", "").strip()
            if word in ("low", "unclear", "high"):
                expected[(refs[int(line[0])], dom)] = (word, "*" in cell.replace("**", ""))
    rob = sheet("msc-cirrhosis", "risk_of_bias")
    got = {(r["study_id"], r["domain"]): r for r in rob.to_dict("records")}
    assert set(got) == set(expected)
    for key, (word, inferred) in expected.items():
        assert got[key]["judgement"] == word, key
        assert got[key]["tool"] == "RoB1"
        if inferred:
            assert "INFERRED BY ELIMINATION" in got[key]["notes"], key


def test_seed_adverse_events_are_table_2_verbatim(shared: Path) -> None:
    """adverse_events.csv holds exactly the seed's Table 2 texts, per study."""
    text = seed_text(shared)
    block = text[text.index("Included studies Adverse effects (events)") :]
    block = block[: block.index("http")]
    refs = ref_numbers(sheet("msc-cirrhosis", "studies"))
    table: dict[str, set[str]] = {}
    current = None
    for line in (x.strip() for x in block.splitlines()[1:]):
        if not line:
            continue
        m = re.match(r".+? et al\. \[(\d+)\] (.+)$", line)
        if m:
            current = refs[int(m.group(1))]
            table.setdefault(current, set()).add(m.group(2))
        else:
            table[current].add(line)
    ae = sheet("msc-cirrhosis", "adverse_events")
    got: dict[str, set[str]] = {}
    for sid, txt, count in zip(ae["study_id"], ae["reported_text"], ae["count"], strict=True):
        got.setdefault(sid, set()).add(txt)
        lead = re.match(r"(\d+) case", txt)
        assert (count == lead.group(1)) if lead else count == "", (sid, txt, count)
    assert got == table


def test_seed_published_results_are_printed_in_the_seed(shared: Path) -> None:
    """Each estimate with its CI and p, and each arm count, appears in Lu 2023's text."""
    # figure captions and page headers interrupt sentences in the extracted text
    lines = seed_text(shared).splitlines()
    body = [x for x in lines if not re.match(r"\s*(Fig\.\s*\d+\s+[A-Z]|Page \d+ of \d+)", x)]
    text = squeeze("\n".join(body))
    pub = sheet("msc-cirrhosis", "published_results")
    assert len(pub) > 0
    for rec in pub.to_dict("records"):
        p = rec["p_value"] if rec["p_value"][:1] in "<>" else "=" + rec["p_value"]
        pattern = (
            rf"{re.escape(rec['estimate'])}[;,]95%CI=?\[{re.escape(rec['ci_lower'])},"
            rf"{re.escape(rec['ci_upper'])}\][;,]p{re.escape(p)}"
        )
        assert re.search(pattern, text), f"{rec['result_id']}: not printed as stored"
        if rec["n_experimental"]:
            # the two counts can be split by a figure caption in the extracted text
            assert f"{rec['n_experimental']}patientsintheMSCgroup" in text, rec["result_id"]
            assert f"and{rec['n_control']}patientsinthecon" in text, rec["result_id"]
            assert num(rec["n_participants"]) == num(rec["n_experimental"]) + num(rec["n_control"])
        assert rec["source"] == "https://doi.org/10.1186/s13287-023-03518-x"


def test_seed_published_results_use_the_protocol_vocabulary() -> None:
    """Published results name protocol outcomes, time-point labels and subgroup levels, so
    they can be set beside the registry's own analyses."""
    proto = protocol("msc-cirrhosis")
    pub = sheet("msc-cirrhosis", "published_results")
    assert pub["result_id"].is_unique
    assert set(pub["outcome"]) <= {o["id"] for o in proto["outcomes"]}
    assert set(pub["time_point"]) - {""} <= {t["label"] for t in proto["time_points"]}
    chars = {c["id"]: c for c in proto["characteristics"]}
    levels = {}
    for sg in proto["subgroups"]:
        if sg.get("bands"):
            levels[sg["id"]] = {b["label"] for b in sg["bands"]}
        elif sg["by"] in chars:
            levels[sg["id"]] = set(chars[sg["by"]]["levels"])
        else:
            levels[sg["id"]] = None  # built-in key (time_point): only the pooled line
    for sub in set(pub["subgroup"]) - {""}:
        set_id, _, level = sub.partition(": ")
        if set_id == "sensitivity":
            continue
        assert set_id in levels, sub
        assert level == "" or level in (levels[set_id] or set()), sub


def test_seed_prisma_counts_are_printed_or_add_up(shared: Path) -> None:
    """Printed PRISMA counts appear in 'Results of the search'; derived counts add up."""
    text = seed_text(shared)
    para = text[text.index("Results of the search") : text.index("Characteristics of the studies")]
    pr = protocol("msc-cirrhosis")["previous_review"]["prisma"]
    printed = [pr["identified"], pr["screened"], pr["full_text_assessed"], pr["included"]]
    printed += list(pr["identified_by_source"].values())
    printed += list(pr["excluded_title_abstract_reasons"].values())
    printed += list(pr["excluded_full_text"].values())
    for n in printed:
        assert re.search(rf"\b{n}\b", para), n
    assert pr["identified"] == sum(pr["identified_by_source"].values())
    assert pr["duplicates_removed"] == pr["identified"] - pr["screened"]
    assert pr["excluded_title_abstract"] == sum(pr["excluded_title_abstract_reasons"].values())
    assert pr["screened"] - pr["excluded_title_abstract"] == pr["full_text_assessed"]
    assert pr["full_text_assessed"] - sum(pr["excluded_full_text"].values()) == pr["included"]
    assert pr["included"] == len(sheet("msc-cirrhosis", "studies"))


# ---------------------------------------------------------------- example reviews
def test_bcg_equals_the_metadat_export_cell_for_cell(shared: Path) -> None:
    """Every trial of bcg_colditz1994.csv is stored with its author, year, latitude,
    allocation and 2x2 counts; nothing else is stored."""
    src = pd.read_csv(shared / "examples" / "bcg_colditz1994.csv", dtype=str)
    studies, arms = sheet("bcg-vaccine", "studies"), sheet("bcg-vaccine", "arms")
    outcomes = sheet("bcg-vaccine", "outcomes")
    assert len(studies) == len(src) == 13
    for r in src.to_dict("records"):
        st = studies[studies["location"].str.endswith(f"(dat.bcg), trial {r['trial']}")]
        assert len(st) == 1, r["trial"]
        st = st.iloc[0]
        assert (st["first_author"], st["year"], st["ablat"], st["alloc"]) == (
            r["author"], r["year"], r["ablat"], r["alloc"],
        )  # fmt: skip
        assert st["design_assessed"] == ("RCT" if r["alloc"] == "random" else "nRCT")
        for role, pos, neg in (("experimental", "tpos", "tneg"), ("control", "cpos", "cneg")):
            arm = arms[(arms["study_id"] == st["study_id"]) & (arms["role"] == role)].iloc[0]
            row = outcomes[
                (outcomes["study_id"] == st["study_id"]) & (outcomes["arm_id"] == arm["arm_id"])
            ]
            assert len(row) == 1
            row = row.iloc[0]
            assert int(row["events"]) == int(r[pos])
            assert int(row["total"]) - int(row["events"]) == int(r[neg])
            assert int(arm["n_analysed"]) == int(row["total"])
            assert row["outcome"] == "tb"


def test_stroke_equals_the_metadat_export_cell_for_cell(shared: Path) -> None:
    """Every trial of normand1999_stroke_los.csv is stored with n, mean and SD per arm."""
    src = pd.read_csv(shared / "examples" / "normand1999_stroke_los.csv", dtype=str)
    studies, arms = sheet("stroke-unit-los", "studies"), sheet("stroke-unit-los", "arms")
    outcomes = sheet("stroke-unit-los", "outcomes")
    assert sorted(studies["study_id"]) == sorted(src["source"])
    for r in src.to_dict("records"):
        st = studies[studies["study_id"] == r["source"]].iloc[0]
        assert st["location"].endswith(f"(dat.normand1999), study {r['study']}")
        assert "-".join(x for x in (st["site"], st["patient_group"]) if x) == r["source"]
        for role, g in (("experimental", "1"), ("control", "2")):
            arm = arms[(arms["study_id"] == r["source"]) & (arms["role"] == role)].iloc[0]
            row = outcomes[
                (outcomes["study_id"] == r["source"]) & (outcomes["arm_id"] == arm["arm_id"])
            ].iloc[0]
            assert (row["n"], row["mean"], row["sd"]) == (r[f"n{g}i"], r[f"m{g}i"], r[f"sd{g}i"])
            assert arm["n_analysed"] == r[f"n{g}i"]
            assert (row["outcome"], row["unit"]) == ("los", "days")
    assert len(outcomes) == 2 * len(src)
