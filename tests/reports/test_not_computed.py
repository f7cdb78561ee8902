"""An analysis the protocol asks for that cannot be fitted reaches the report as
"Not computed: reason" (issue 9: it used to be caught and dropped silently)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _report_cycle import add_later_time_point

import registry.evidence.plan as plan
from registry.curation import load_review
from registry.errors import StatsError
from registry.store import Store
from reports.assemble import build_report
from reports.render import render_markdown

REAL_ANALYSE = plan.analyse


def _failing(table: pd.DataFrame, **kw: Any) -> Any:
    """The real pooling call, except the fixed-effect and time-point fits fail."""
    if kw.get("method") == "FE" or kw.get("by") == "_tp":
        raise StatsError("test: the model did not converge")
    return REAL_ANALYSE(table, **kw)


def test_failed_fits_are_reported_not_dropped(
    reviews: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_later_time_point(reviews / "stroke-unit-los")
    monkeypatch.setattr(plan, "analyse", _failing)
    with Store(tmp_path / "r.duckdb") as store:
        load_review(store, "stroke-unit-los")
        built = build_report(store, "stroke-unit-los")
    main = [s for s in built.report.outcomes if s.main is not None][0]
    fixed = [r for r in main.sensitivity if r.label == "Fixed-effect model"]
    assert fixed and fixed[0].pooled is None
    assert fixed[0].note == "Not computed: test: the model did not converge"
    by_time = [s for s in built.report.outcomes if s.time_point == "all time points"]
    assert len(by_time) == 1 and by_time[0].subgroups[0].figure is None
    assert by_time[0].subgroups[0].note == "Not computed: test: the model did not converge"
    md = render_markdown(built.report)
    # two time points, each with its fixed-effect row, plus the time-point forest
    assert md.count("Not computed: test: the model did not converge") == 3
