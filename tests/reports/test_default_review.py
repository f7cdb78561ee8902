"""Which review a command uses without --review: decided from the data, not the code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from registry.errors import InputError
from schemas.protocol import default_review


def test_default_is_the_only_non_example_review(reviews: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRY_REVIEW", raising=False)
    assert default_review(None) == "msc-cirrhosis"  # bcg-vaccine, stroke-unit-los are examples
    assert default_review("bcg-vaccine") == "bcg-vaccine"
    monkeypatch.setenv("REGISTRY_REVIEW", "stroke-unit-los")
    assert default_review(None) == "stroke-unit-los"


def test_two_real_reviews_need_an_explicit_choice(reviews: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRY_REVIEW", raising=False)
    twin = reviews / "second-review"
    shutil.copytree(reviews / "msc-cirrhosis", twin)
    proto = twin / "protocol.yaml"
    proto.write_text(proto.read_text(encoding="utf-8").replace(
        "review: msc-cirrhosis", "review: second-review"), encoding="utf-8")
    with pytest.raises(InputError, match="give --review"):
        default_review(None)
