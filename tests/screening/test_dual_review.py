"""Dual review (protocol screening.dual_review: true): two independent reviewers, a
conflict list, and a resolution that settles it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.errors import InputError
from registry.screening import (
    record_decision,
    screening_conflicts,
    screening_queue,
    screening_summary,
)
from registry.store import Store

from .screening_helpers import REVIEW, rec


def _queue(store: Store, who: str, stage: str = "title_abstract") -> list[str]:
    return sorted(
        it.record["source_id"] for it in screening_queue(store, REVIEW, stage, reviewer=who)
    )


def test_two_reviewers_agreement_conflict_and_resolution(
    store: Store, dual_reviews, search
) -> None:
    ids = search(store, [rec("1", "Agreed"), rec("2", "Disputed"), rec("3", "Half done")])
    ta = "title_abstract"
    record_decision(store, REVIEW, ta, ids["1"], "include", reviewer="ann")
    record_decision(store, REVIEW, ta, ids["1"], "include", reviewer="bob")
    record_decision(store, REVIEW, ta, ids["2"], "include", reviewer="ann")
    record_decision(store, REVIEW, ta, ids["2"], "exclude", reviewer="bob", note="pediatric")
    record_decision(store, REVIEW, ta, ids["3"], "exclude", reviewer="ann")
    # Ann has done everything; Bob still owes record 3; a third reviewer gets only record
    # 3 too (record 2 already has two decisions and needs a resolution, not a third vote).
    assert _queue(store, "ann") == []
    assert _queue(store, "bob") == ["3"]
    assert _queue(store, "cat") == ["3"]
    [c] = screening_conflicts(store, REVIEW)
    assert (c.stage, c.record["source_id"]) == (ta, "2")
    assert c.describe() == "ann: include; bob: exclude"
    s = screening_summary(store, REVIEW)
    # Only the agreed record is settled; conflicted and half-done ones are still waiting.
    assert (s["records_screened"], s["awaiting_screening"], s["conflicts"][ta]) == (1, 2, 1)
    record_decision(store, REVIEW, ta, ids["2"], "exclude", reviewer="cat", resolution=True)
    assert screening_conflicts(store, REVIEW) == []
    s = screening_summary(store, REVIEW)
    assert (s["records_screened"], s["excluded_title_abstract"]) == (2, 1)
    # Full text: the same exclusion for different reasons is a disagreement too.
    ft = "full_text"
    assert _queue(store, "ann", ft) == ["1"]
    record_decision(store, REVIEW, ft, ids["1"], "exclude", reason="not_rct", reviewer="ann")
    record_decision(store, REVIEW, ft, ids["1"], "exclude", reason="not_msc", reviewer="bob")
    [c] = screening_conflicts(store, REVIEW, ft)
    assert c.describe() == "ann: exclude (not_rct); bob: exclude (not_msc)"


def test_single_review_latest_decision_wins(store: Store, reviews, search) -> None:
    ids = search(store, [rec("1", "A")])
    record_decision(store, REVIEW, "ta", ids["1"], "include", reviewer="ann")
    record_decision(store, REVIEW, "ta", ids["1"], "exclude", reviewer="bob")
    assert screening_conflicts(store, REVIEW) == []
    assert screening_summary(store, REVIEW)["excluded_title_abstract"] == 1
    # The history is kept: both decisions are stored.
    assert [d["decision"] for d in store.screening_decisions(REVIEW)] == ["include", "exclude"]


def test_conflicts_and_resolve_commands(store: Store, dual_reviews, search) -> None:
    ids = search(store, [rec("7", "Disputed trial")])
    record_decision(store, REVIEW, "ta", ids["7"], "include", reviewer="ann")
    record_decision(store, REVIEW, "ta", ids["7"], "maybe", reviewer="bob")
    db = str(store.path)
    store.close()
    runner = CliRunner()
    env = {"REGISTRY_DB": db}
    out = runner.invoke(app, ["screen", "conflicts", "--json"], env=env)
    assert out.exit_code == 0, out.output
    [c] = json.loads(out.output)
    assert (c["record_id"], [d["decision"] for d in c["decisions"]]) == (
        ids["7"],
        ["include", "maybe"],
    )
    out = runner.invoke(
        app, ["screen", "resolve", str(ids["7"]), "include", "--reviewer", "cat"], env=env
    )
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["screen", "conflicts"], env=env)
    assert "no conflicts" in out.output


def test_record_decision_rejects_bad_values(store: Store, reviews, search) -> None:
    ids = search(store, [rec("1", "A")])
    search(store, [rec("2", "Elsewhere")], review="other-review")
    with pytest.raises(InputError, match="not among the search results of review"):
        record_decision(store, REVIEW, "ta", ids["1"] + 1, "include")
    with pytest.raises(InputError, match="decision: 'perhaps' is not one of"):
        record_decision(store, REVIEW, "ta", ids["1"], "perhaps")
    with pytest.raises(InputError, match="not_retrieved"):
        record_decision(store, REVIEW, "ta", ids["1"], "not_retrieved")
    with pytest.raises(InputError, match="unknown screening stage"):
        record_decision(store, REVIEW, "abstract", ids["1"], "include")
    assert store.screening_decisions(REVIEW) == []
