"""JSON APIs (ClinicalTrials.gov v2, Europe PMC, Crossref) on the one polite HTTP client.

A thin layer over :class:`ingest.http.PoliteClient` (per-host spacing shared across
processes, backoff with jitter and ``Retry-After`` on 429/5xx/time-outs/cut bodies, fail
fast on DNS/4xx, secrets redacted): it joins a base URL and a path, decodes the JSON, and
asks again when a 200 carries something that is not the expected JSON (an HTML gateway
page, a page cut short). Each client module documents its API's rate limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest.http import HostLimiter, HttpStatusError, PoliteClient, Politeness, Retry

ApiRefused = HttpStatusError  # a 4xx other than 429: the request itself is wrong


@dataclass(frozen=True)
class ApiConfig:
    """Where an API is, how often to ask it and how patiently."""

    name: str  # for messages: "ClinicalTrials.gov", "Europe PMC", "Crossref"
    base_url: str
    policy: Politeness
    mailto: str | None = None  # sent where the API asks for it (Crossref polite pool)
    params: dict[str, str] = field(default_factory=dict)  # sent with every request


@dataclass
class Response:
    """A parsed answer and how many HTTP attempts it took."""

    data: Any
    attempts: int


class JsonApiClient:
    """GET JSON from ``config.base_url`` through one :class:`PoliteClient`."""

    def __init__(
        self,
        config: ApiConfig,
        *,
        limiter: HostLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.http = PoliteClient(config.name, config.policy, secrets=[config.mailto],
                                 limiter=limiter, sleep=sleep)

    @property
    def retries(self) -> Any:
        """Why attempts were repeated (reason -> count)."""
        return self.http.retries

    def get(self, path: str, params: dict[str, Any] | None = None,
            parse: Callable[[Any], Any] | None = None) -> Response:
        """GET ``base_url/path``; ``parse`` turns the decoded JSON into the result and
        raises ``ValueError`` for an answer to be fetched again."""
        url = self.config.base_url.rstrip("/") + "/" + path.lstrip("/")
        query = {**self.config.params, **{k: v for k, v in (params or {}).items()
                                          if v is not None}}
        if self.config.mailto:
            query.setdefault("mailto", self.config.mailto)
        label = path.split("/")[0] or path

        def decode(body: bytes) -> Any:
            try:
                data = json.loads(body)
                return parse(data) if parse is not None else data
            except ValueError as exc:  # JSONDecodeError is a ValueError too
                raise Retry(f"unusable answer: {str(exc)[:120]}") from None

        before = self.http.requests[label]
        data = self.http.get(url, params=query, parse=decode, label=label)
        return Response(data, self.http.requests[label] - before)
