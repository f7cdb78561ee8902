"""The learned queue across update rounds, status with the stopping rule, undo, reviewer
agreement (Cohen's kappa) and the report's methods line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.errors import InputError
from registry.screening import record_decision, screening_queue
from registry.screening.metrics import agreement
from registry.screening.progress import (
    screening_methods,
    screening_overview,
    screening_status,
    undo_last,
)
from registry.screening.stopping import h0_pvalue
from registry.store import Store

from .screening_helpers import REVIEW, rec

ROUND1_INCLUDE = [
    "Umbilical cord stromal cell infusion in decompensated liver failure",
    "Stromal cell infusion from umbilical cord improves liver function",
    "Umbilical cord stromal cells infused in end-stage liver disease",
]
ROUND1_EXCLUDE = [
    "Randomised trial of a protein diet in cirrhosis",
    "Diet and exercise for cirrhosis: a randomised trial",
    "Salt restriction diet in cirrhosis with ascites",
]


def _round1(store: Store, search) -> dict[str, int]:
    recs = [rec(f"1{i}", t) for i, t in enumerate(ROUND1_INCLUDE + ROUND1_EXCLUDE)]
    ids = search(store, recs)
    for i in range(len(ROUND1_INCLUDE)):
        record_decision(store, REVIEW, "ta", ids[f"1{i}"], "include")
    for i in range(len(ROUND1_INCLUDE), len(recs)):
        record_decision(store, REVIEW, "ta", ids[f"1{i}"], "exclude")
    return ids


ROUND2 = [
    rec("21", "Randomised trial of a low sodium diet in cirrhosis"),
    rec("22", "Infusion of umbilical cord stromal cells for liver failure"),
]


def test_transparent_score_orders_until_an_include_and_an_exclude(
    store: Store, reviews, search
) -> None:
    search(store, ROUND2)
    q = screening_queue(store, REVIEW)
    # "randomi" and "cirrhosis" are protocol keywords: the transparent score puts 21 first.
    assert [it.record["source_id"] for it in q] == ["21", "22"]
    assert all(it.why == () for it in q)


def test_decisions_of_an_earlier_round_train_the_next_rounds_ranking(
    store: Store, reviews, search
) -> None:
    _round1(store, search)
    search(store, ROUND2)  # the monthly update brings two new records
    q = screening_queue(store, REVIEW)
    assert [it.record["source_id"] for it in q] == ["22", "21"]
    assert set(q[0].why) & {"umbilical", "stromal", "cord", "umbilical cord", "stromal cells"}


def test_a_full_text_exclusion_teaches_the_model(store: Store, reviews, search) -> None:
    ids = _round1(store, search)
    for i in range(len(ROUND1_INCLUDE)):  # every umbilical-cord report fails at full text
        record_decision(store, REVIEW, "ft", ids[f"1{i}"], "exclude", reason="not_msc")
    record_decision(store, REVIEW, "ta", ids["13"], "include")  # a diet trial passes later
    record_decision(store, REVIEW, "ft", ids["13"], "include")
    search(store, ROUND2)
    assert [it.record["source_id"] for it in screening_queue(store, REVIEW)] == ["21", "22"]


def test_undo_takes_back_the_last_decision(store: Store, reviews, search) -> None:
    ids = search(store, [rec("1", "A"), rec("2", "B")])
    record_decision(store, REVIEW, "ta", ids["1"], "exclude")
    record_decision(store, REVIEW, "ta", ids["2"], "include")
    undone = undo_last(store, REVIEW)
    assert (undone.record_id, undone.decision) == (ids["2"], "include")
    assert [it.record["source_id"] for it in screening_queue(store, REVIEW)] == ["2"]
    assert undo_last(store, REVIEW).record_id == ids["1"]
    with pytest.raises(InputError, match="nothing to undo"):
        undo_last(store, REVIEW)
    # the history keeps what was taken back
    undone = "SELECT count(*) FROM screening_decisions WHERE undone_at IS NOT NULL"
    assert store._scalar(undone) == 2


def test_undo_through_the_cli(store: Store, reviews, search, tmp_path) -> None:
    ids = search(store, [rec("1", "A")])
    record_decision(store, REVIEW, "ta", ids["1"], "exclude")
    db = str(store.path)
    store.close()
    out = CliRunner().invoke(app, ["screen", "undo"], env={"REGISTRY_DB": db})
    assert out.exit_code == 0, out.output
    assert f"undone: tester's exclude on record {ids['1']}" in out.stdout


def test_cohens_kappa_worked_example() -> None:
    # Wikipedia, "Cohen's kappa", section "Simple example" (50 grant proposals): both yes 20,
    # A yes / B no 5, A no / B yes 10, both no 15 -> p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    got = agreement("title_abstract", a, b)
    assert got.pairs == 50 and got.percent == pytest.approx(70.0)
    assert got.kappa == pytest.approx(0.4)


def test_summary_reports_agreement_per_stage(store: Store, dual_reviews, search) -> None:
    ids = search(store, [rec(str(i), f"T{i}") for i in range(4)])
    pairs = [("include", "include"), ("exclude", "exclude"), ("include", "exclude"),
             ("exclude", "exclude")]  # fmt: skip
    for i, (a, b) in enumerate(pairs):
        record_decision(store, REVIEW, "ta", ids[str(i)], a, reviewer="ann")
        record_decision(store, REVIEW, "ta", ids[str(i)], b, reviewer="bob")
    ta = screening_overview(store, REVIEW)["agreement"][0]
    # 3 of 4 agree; p_e = (2/4*1/4) + (2/4*3/4) = 0.5 -> kappa = (0.75-0.5)/(1-0.5) = 0.5
    assert (ta["stage"], ta["pairs"], ta["percent_agreement"], ta["kappa"]) == (
        "title_abstract", 4, 75.0, 0.5)  # fmt: skip


def test_status_gives_recall_and_the_stopping_verdict(store: Store, reviews, search) -> None:
    recs = [rec(str(i), f"Record {i}") for i in range(120)]
    ids = search(store, recs)
    labels = [1] * 25 + [0] * 85
    for i, y in enumerate(labels):
        record_decision(store, REVIEW, "ta", ids[str(i)], "include" if y else "exclude")
    st = screening_status(store, REVIEW)
    v = st.overall.verdict
    assert (v.screened, v.total, v.includes) == (110, 120, 25)
    assert v.p_value == pytest.approx(h0_pvalue(labels, 120))
    assert v.safe and v.line().startswith("safe to stop at 95 % recall")
    assert v.recall.lower is not None and v.recall.lower <= v.recall.estimate <= 1.0
    assert "active learning" in st.ordered_by
    m = screening_methods(store, REVIEW)
    assert (m.screened_by_hand, m.total) == (110, 120)
    assert "110 of 120 records were screened by hand" in m.line()
    db = str(store.path)
    store.close()
    out = CliRunner().invoke(app, ["screen", "status", "--json"], env={"REGISTRY_DB": db})
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["overall"]["safe_to_stop"] is True
