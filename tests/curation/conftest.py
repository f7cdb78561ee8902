"""Fixtures for the curation tests: a small self-made review folder in tmp_path.

The review 'mini' is made up for the tests (two studies, a continuous and a dichotomous
outcome); its numbers come from nowhere but are internally consistent, and every row has a
source so that the only problems a test sees are the ones it plants.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.store import Store

PROTOCOL = """\
review: mini
title: "Mini review for the curation tests"
example: true
question:
  population: "adults"
  intervention: "treatment"
  comparison: "placebo"
  outcomes: "score, death"
  study_designs: "RCT"
searches:
  - source: pubmed
    query: 'treatment[tiab] AND placebo[tiab]'
eligibility:
  inclusion: ["randomised"]
  exclusion_reasons:
    - {id: not_rct, label: "Not a randomised controlled trial"}
characteristics:
  - {id: route, type: category, levels: [oral, iv]}
  - {id: dose_per_kg, type: number, unit: "mg/kg", plausible_range: [0.01, 100]}
  - {id: etiology, type: text}
outcomes:
  - id: score
    name: "Severity score"
    kind: continuous
    unit: points
    units: {points: 1, decipoints: 0.1}
    direction: lower_is_better
    plausible_range: [0, 40]
    primary: true
    measure: MD
  - id: albumin
    name: "Serum albumin"
    kind: continuous
    unit: g/L
    units: {g/L: 1, g/dL: 10}
    direction: higher_is_better
    plausible_range: [10, 60]
    measure: SMD
  - id: death
    name: "Death"
    kind: dichotomous
    measure: RR
    direction: lower_is_better
time_points:
  - {id: 1m, label: "1 month", weeks: 4, window: [3, 6]}
  - {id: 3m, label: "3 months", weeks: 12, window: [10, 16]}
subgroups:
  - {id: route, label: "Route", by: route}
  - id: dose
    label: "Dose"
    by: dose_per_kg
    bands: [{label: "low", max: 1.0}, {label: "high", min: 1.0}]
analysis:
  preset: revman5
grade:
  score: {indirectness: not_serious}
previous_review:
  citation: "Someone 2020"
  studies_included: 2
  prisma: {identified: 10, included: 2, excluded_full_text: {not_rct: 3}}
"""

SRC = "https://doi.org/10.1000/xyz123"
STUDIES = (
    "study_id,citation,first_author,year,pmid,doi,registration,country,design_reported,"
    "design_assessed,route,dose_per_kg,etiology,included_in,source,location\n"
    'Alpha2010,"Alpha A. A trial. J 2010",Alpha,2010,12345678,10.1000/alpha,NCT00000001,'
    f"Egypt,RCT,RCT,oral,0.5,HCV,main,{SRC},Table 1\n"
    'Beta2012,"Beta B. Another trial. J 2012",Beta,2012,,10.1000/beta,,China,RCT,RCT,iv,2,'
    f"HBV,main,{SRC},Table 1\n"
)
ARMS = f"""\
study_id,arm_id,role,label,n_randomised,n_analysed,source,location
Alpha2010,trt,experimental,Treatment,20,18,{SRC},Table 1
Alpha2010,ctl,control,Placebo,20,19,{SRC},Table 1
Beta2012,trt,experimental,Treatment,30,30,{SRC},Table 2
Beta2012,ctl,control,Usual care,30,29,{SRC},Table 2
"""
OUTCOMES = f"""\
study_id,arm_id,outcome,time_point,time_weeks,value_type,unit,n,mean,sd,se,ci_lower,ci_upper,median,q1,q3,min,max,events,total,source,location
Alpha2010,trt,score,1 month,4,final,points,18,12.5,3.1,,,,,,,,,,,{SRC},Table 3
Alpha2010,ctl,score,1 month,4,final,points,19,14.0,3.5,,,,,,,,,,,{SRC},Table 3
Beta2012,trt,score,4 weeks,4,final,points,30,11.0,,0.5,,,,,,,,,,{SRC},Table 2
Beta2012,ctl,score,4 weeks,4,final,points,29,13.5,2.9,,,,,,,,,,,{SRC},Table 2
Beta2012,trt,albumin,3 months,12,final,g/dL,30,3.4,0.4,,,,,,,,,,,{SRC},Table 2
Beta2012,ctl,albumin,3 months,12,final,g/dL,29,3.1,0.5,,,,,,,,,,,{SRC},Table 2
Alpha2010,trt,death,3 months,12,final,,,,,,,,,,,,,2,20,{SRC},Text
Alpha2010,ctl,death,3 months,12,final,,,,,,,,,,,,,5,20,{SRC},Text
"""
ROB = f"""\
study_id,tool,domain,judgement,support,source,location
Alpha2010,RoB1,random_sequence,low,computer list,{SRC},Methods
Alpha2010,RoB1,allocation_concealment,unclear,not stated,{SRC},Methods
Beta2012,RoB1,random_sequence,high,alternation,{SRC},Methods
"""
AE = f"""\
study_id,arm_id,event,count,serious,reported_text,source,location
Alpha2010,trt,fever,1,false,one case of fever,{SRC},Table 4
Beta2012,,any,,,No obvious adverse reactions,{SRC},Table 4
"""
PUBLISHED = f"""\
result_id,outcome,time_point,subgroup,k,n_participants,measure,model,estimate,ci_lower,ci_upper,p_value,i2,source,location
score_all,score,,,2,96,MD,fixed,-1.00,-1.98,-0.02,0.045,0,{SRC},Fig 2
"""


def write_review(root: Path, name: str = "mini") -> Path:
    """Write the mini review under ``root/<name>`` and return the folder."""
    folder = root / name
    (folder / "extraction").mkdir(parents=True, exist_ok=True)
    (folder / "protocol.yaml").write_text(PROTOCOL.replace("review: mini", f"review: {name}"))
    for fname, text in (
        ("studies", STUDIES),
        ("arms", ARMS),
        ("outcomes", OUTCOMES),
        ("risk_of_bias", ROB),
        ("adverse_events", AE),
    ):
        (folder / "extraction" / f"{fname}.csv").write_text(text)
    (folder / "published_results.csv").write_text(PUBLISHED)
    return folder


@pytest.fixture
def reviews(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reviews folder holding the mini review; REGISTRY_REVIEWS points at it."""
    root = tmp_path / "reviews"
    write_review(root)
    monkeypatch.setenv("REGISTRY_REVIEWS", str(root))
    monkeypatch.setenv("REGISTRY_CURATOR", "tester")
    return root


@pytest.fixture
def mini(reviews: Path) -> Path:
    """The mini review folder."""
    return reviews / "mini"


@pytest.fixture
def sheet_copy(mini: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the mini extraction folder outside the review (for add-trial)."""
    dst = tmp_path / "incoming"
    shutil.copytree(mini / "extraction", dst)
    yield dst


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    """A fresh store (named db to sit beside the shared `store` fixture)."""
    s = Store(tmp_path / "cur.duckdb")
    try:
        yield s
    finally:
        s.close()
