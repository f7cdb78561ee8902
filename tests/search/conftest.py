"""Fixtures for the search/import tests: the replay server, a fake clock, a client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay import FixtureRecord, ReplayServer, load_corpus  # noqa: E402

from ingest.eutils import EUtilsClient, EUtilsConfig  # noqa: E402
from ingest.http import HostLimiter  # noqa: E402


class FakeClock:
    """Monotonic time that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


_CORPUS: dict[str, FixtureRecord] | None = None


@pytest.fixture
def corpus(fixtures: Path) -> dict[str, FixtureRecord]:
    """The real records of metapub/pmid_xml (163) and pubmedportable (100), by PMID."""
    global _CORPUS
    if _CORPUS is None:
        _CORPUS = load_corpus(fixtures)
    return _CORPUS


@pytest.fixture
def server(corpus: dict[str, FixtureRecord]) -> Iterator[ReplayServer]:
    """A running replay server over the whole corpus."""
    with ReplayServer(corpus, timeout_sleep=0.6) as srv:
        yield srv


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock for the rate limiter and backoff sleeps."""
    return FakeClock()


@pytest.fixture
def make_client(server: ReplayServer, clock: FakeClock):
    """Build a client against the replay server whose waiting happens on the fake clock."""

    def make(**overrides: object) -> EUtilsClient:
        cfg = EUtilsConfig(base_url=server.url, timeout=0.3, connect_timeout=1.0)
        if overrides:
            from dataclasses import replace

            cfg = replace(cfg, **overrides)
        limiter = HostLimiter(cfg.min_interval, clock=clock, sleep=clock.sleep)
        return EUtilsClient(cfg, limiter=limiter)

    return make
