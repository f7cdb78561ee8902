"""A report version's identity: the hash of the data it rests on, its label, its predecessor.

Two runs on the same data give the same hash; the store keeps one version per distinct hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from registry.curation import PoolingInput


def _frame_digest(h: Any, name: str, df: pd.DataFrame | None) -> None:
    h.update(name.encode())
    if df is not None and len(df):
        h.update(df.to_csv(index=False).encode())


def data_hash(
    protocol_path: Path,
    frames: Sequence[tuple[str, pd.DataFrame]],
    inputs: Sequence[PoolingInput],
    n_records: int,
    screening: dict[str, Any],
    identification: dict[str, Any],
) -> str:
    """SHA-256 of the protocol, the curated sheets, the pooling inputs and the record flow.

    Screening and dedup state belong to the data a report shows (PRISMA, queue), so they
    are part of the hash.
    """
    h = hashlib.sha256()
    h.update(protocol_path.read_text(encoding="utf-8").encode())
    for name, frame in frames:
        _frame_digest(h, name, frame)
    for inp in inputs:
        _frame_digest(h, f"{inp.outcome.id}/{getattr(inp.time_point, 'id', '')}", inp.data)
    h.update(f"records={n_records}".encode())
    h.update(json.dumps(screening, sort_keys=True, default=str).encode())
    h.update(json.dumps(identification, sort_keys=True, default=str).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class VersionPlace:
    """Where this computation stands among the stored versions (newest first)."""

    label: str
    previous: dict[str, Any] | None  # the version to compare with
    unchanged_version: int | None  # the newest version when its data hash equals this one's


def place(versions: Sequence[dict[str, Any]], digest: str, now: dt.datetime) -> VersionPlace:
    """The same data as the newest version: that version again, compared with the one before;
    otherwise a new label ``v<n>-<date>-<hash8>`` compared with the newest."""
    unchanged = bool(versions) and versions[0]["data_hash"] == digest
    if unchanged:
        prev = versions[1] if len(versions) > 1 else None
        return VersionPlace(versions[0]["label"], prev, versions[0]["version_id"])
    return VersionPlace(f"v{len(versions) + 1}-{now:%Y-%m-%d}-{digest[:8]}",
                        versions[0] if versions else None, None)
