"""Fixtures for the living-sources tests: the three-API replay server and fast clients
whose rate limiting and backoff happen on a fake clock (so the spacing is measured, not
waited for)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "search"))  # replay.py

from apis import ApiReplay  # noqa: E402

from ingest.crossref import CrossrefClient  # noqa: E402
from ingest.ctgov import CtgovClient  # noqa: E402
from ingest.europepmc import EuropePmcClient  # noqa: E402
from ingest.http import HostLimiter, Politeness  # noqa: E402
from ingest.jsonapi import JsonApiClient  # noqa: E402


class FakeClock:
    """Monotonic time that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.grants: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class _Recording(HostLimiter):
    """A limiter on the fake clock that remembers when it granted each request."""

    def __init__(self, interval: float, clock: FakeClock) -> None:
        super().__init__(interval, clock=clock, sleep=clock.sleep)
        self._fake = clock

    def acquire(self) -> float:
        t = super().acquire()
        self._fake.grants.append(t)
        return t


@pytest.fixture
def api(shared: Path) -> Iterator[ApiReplay]:
    """A running replay of ClinicalTrials.gov, Europe PMC and Crossref."""
    with ApiReplay(shared, timeout_sleep=0.6) as srv:
        yield srv


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock for limiter and backoff."""
    return FakeClock()


_KINDS: dict[str, type[JsonApiClient]] = {
    "ctgov": CtgovClient, "europepmc": EuropePmcClient, "crossref": CrossrefClient,
}


@pytest.fixture
def make_client(
    api: ApiReplay, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """Build one API's client against the replay, waiting on the fake clock."""

    def make(kind: str, **overrides: Any) -> Any:
        env = {"ctgov": "CTGOV_URL", "europepmc": "EUROPEPMC_URL", "crossref": "CROSSREF_URL"}
        monkeypatch.setenv(env[kind], api.url(kind))
        cls = _KINDS[kind]
        interval = cls.from_env().config.policy.min_interval  # type: ignore[attr-defined]
        policy = Politeness(interval, timeout=0.3, connect_timeout=1.0, **overrides)
        return cls.from_env(policy, limiter=_Recording(interval, clock))  # type: ignore

    return make


def min_gap(clock: FakeClock) -> float:
    """Smallest spacing between two granted requests (inf with fewer than two)."""
    g = clock.grants
    return min((b - a for a, b in zip(g, g[1:], strict=False)), default=float("inf"))
