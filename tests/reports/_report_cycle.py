"""Helpers for report tests: run the living cycle on a registry file, store opened once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from registry.store import Store
from registry.update import ReportResult, UpdateSummary, make_report, run_update


def update_at(db: Path, review: str, out: Path, *, offline: bool = True) -> UpdateSummary:
    """``registry --db DB update --review REVIEW --out OUT`` as a library call."""
    with Store(db) as store:
        return run_update(store, review, out, offline=offline)


def report_at(db: Path, review: str, out: Path) -> ReportResult:
    """``registry --db DB report --review REVIEW --out OUT`` as a library call."""
    with Store(db) as store:
        return make_report(store, review, out)


def add_later_time_point(folder: Path) -> None:
    """Test-only second time point and a subgroup set by time point: the first four trials'
    rows again at week 10 (the same numbers, so each time-point subgroup of those trials has
    the same estimate)."""
    proto = yaml.safe_load((folder / "protocol.yaml").read_text(encoding="utf-8"))
    proto["time_points"].append({"id": "later", "label": "Later", "weeks": 10,
                                 "window": [5, 20]})
    proto["subgroups"].append({"id": "time", "label": "Time point", "by": "time_point"})
    (folder / "protocol.yaml").write_text(yaml.safe_dump(proto, sort_keys=False),
                                          encoding="utf-8")
    out = pd.read_csv(folder / "extraction" / "outcomes.csv", dtype=str, keep_default_na=False)
    later = out[out["study_id"].isin(out["study_id"].unique()[:4])].copy()
    later["time_point"] = "later"
    later["time_weeks"] = "10"
    pd.concat([out, later]).to_csv(folder / "extraction" / "outcomes.csv", index=False)
