"""The bundled reviews under data/reviews/ load, validate clean and trace every number."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from registry.curation import gaps, load_review, pooling_inputs, validate_registry
from registry.store import Store
from schemas.protocol import REVIEWS_DIR, list_reviews, load_protocol
from schemas.sheet_format import EXTRACTION_SHEETS, columns_for

BUNDLED = ("msc-cirrhosis", "bcg-vaccine", "stroke-unit-los")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict]]:
    """One registry with every bundled review loaded (and the load summaries)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("REGISTRY_REVIEWS", raising=False)
        mp.setenv("REGISTRY_CURATOR", "tester")
        s = Store(tmp_path_factory.mktemp("bundled") / "bundled.duckdb")
        summaries = {name: load_review(s, name) for name in list_reviews()}
        try:
            yield s, summaries
        finally:
            s.close()


def test_the_three_reviews_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRY_REVIEWS", raising=False)
    assert set(BUNDLED) <= set(list_reviews()), f"missing under {REVIEWS_DIR}"
    for name in BUNDLED:
        p = load_protocol(name)
        assert p.review == name and (p.example is (name != "msc-cirrhosis"))


def test_bundled_reviews_validate_clean(loaded: tuple[Store, dict]) -> None:
    store, summaries = loaded
    assert set(BUNDLED) <= set(summaries)
    check = validate_registry(store)  # raises ValidationFailed on any problem
    assert check.problems == [] and set(BUNDLED) <= set(check.reviews)
    for name in BUNDLED:
        assert summaries[name].inserted > 0


def test_every_stored_number_traces_to_a_source(loaded: tuple[Store, dict]) -> None:
    store, _ = loaded
    unsourced = []
    for name in BUNDLED:
        protocol = load_protocol(name)
        for sheet in (*EXTRACTION_SHEETS, "published_results"):
            df = store.curation_rows(name, sheet)
            numeric = [c for c, k in columns_for(sheet, protocol).items() if k in ("num", "int")]
            for i, rec in enumerate(df.to_dict("records")):
                for c in numeric:
                    v = rec.get(c)
                    if v is None or (isinstance(v, float) and math.isnan(v)):
                        continue
                    srcs = [rec.get(f"{c}_source"), rec.get("source")]
                    if not any(isinstance(x, str) and x.strip() for x in srcs):
                        unsourced.append(f"{name}/{sheet} row {i + 2} {c}={v}")
    assert unsourced == []


def test_seed_flags_the_studies_others_call_non_randomised(loaded: tuple[Store, dict]) -> None:
    # issue 4: other reviews classify Peng 2011, Bai 2014, El-Ansary 2012 and Amer 2011 as
    # non-randomised; they stay in the review, flagged, and out of RCT-only analyses
    _, summaries = loaded
    warned = " ".join(summaries["msc-cirrhosis"].warnings)
    for sid in ("Peng2011", "Bai2014", "ElAnsary2012", "Amer2011"):
        assert f"study {sid}:" in warned


def test_seed_gaps_and_pooling_inputs(loaded: tuple[Store, dict]) -> None:
    store, _ = loaded
    g = gaps(store, "msc-cirrhosis")
    assert len(g) > 0 and {"no values"} <= set(g["status"])
    for name in BUNDLED:
        for pi in pooling_inputs(store, name):
            assert pi.k >= 1 and pi.data["study_id"].is_unique
    bcg = pooling_inputs(store, "bcg-vaccine")
    assert [(p.outcome.id, p.k) for p in bcg] == [("tb", 13)]  # Colditz 1994: 13 trials


def test_reloading_the_bundled_reviews_changes_nothing(loaded: tuple[Store, dict]) -> None:
    store, _ = loaded
    before = store.dump()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("REGISTRY_REVIEWS", raising=False)
        for name in BUNDLED:
            assert not load_review(store, name).changed
    assert store.dump() == before
