"""Report benchmark: the bundled review's report, and a synthetic 500-study registry.

Targets (issue 5): the bundled review's report in under 3 s; a synthetic registry of
500 studies x 10 outcomes in under 60 s. The synthetic data are random numbers made here for
timing only; they never enter data/.

    python bench/bench_report.py [--studies 500] [--outcomes 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from registry.curation import load_review  # noqa: E402
from registry.store import Store  # noqa: E402
from reports.assemble import build_report  # noqa: E402
from reports.render import write_report  # noqa: E402

SRC = "https://example.invalid/synthetic-benchmark-data"  # reserved TLD: clearly not real


def synthetic_review(folder: Path, n_studies: int, n_outcomes: int, seed: int = 1) -> None:
    """Write a protocol and extraction sheets for a random review."""
    rng = np.random.default_rng(seed)
    name = folder.name
    outcomes = [
        {"id": f"o{i}", "name": f"Outcome {i}", "kind": "continuous", "unit": "points",
         "units": {"points": 1}, "direction": "lower_is_better", "plausible_range": [-1e6, 1e6],
         "primary": i < 2, "measure": "MD"}
        for i in range(n_outcomes)
    ]
    protocol = {
        "review": name, "title": "Synthetic benchmark review", "example": True,
        "question": {"population": "synthetic", "intervention": "A", "comparison": "B",
                     "outcomes": "synthetic", "study_designs": "RCT"},
        "searches": [],
        "eligibility": {"inclusion": ["synthetic"],
                        "exclusion_reasons": [{"id": "x", "label": "synthetic"}]},
        "characteristics": [{"id": "route", "type": "category", "levels": ["a", "b"]}],
        "outcomes": outcomes,
        "time_points": [{"id": "end", "label": "End of treatment", "weeks": 12,
                         "window": [0, 100]}],
        "subgroups": [{"id": "route", "label": "Route", "by": "route"}],
        "analysis": {"preset": "revman5"},
    }
    folder.mkdir(parents=True)
    (folder / "protocol.yaml").write_text(yaml.safe_dump(protocol, sort_keys=False))
    ext = folder / "extraction"
    ext.mkdir()
    ids = [f"S{i:04d}" for i in range(n_studies)]
    studies = pd.DataFrame({
        "study_id": ids, "citation": [f"Synthetic study {i}" for i in range(n_studies)],
        "first_author": "Synthetic", "year": rng.integers(1990, 2025, n_studies),
        "design_reported": "RCT", "design_assessed": "RCT",
        "route": rng.choice(["a", "b"], n_studies), "source": SRC, "location": "generated",
    })
    studies.to_csv(ext / "studies.csv", index=False)
    n = rng.integers(20, 200, (n_studies, 2))
    arms = pd.DataFrame({
        "study_id": np.repeat(ids, 2), "arm_id": ["e", "c"] * n_studies,
        "role": ["experimental", "control"] * n_studies, "n_randomised": n.ravel(),
        "n_analysed": n.ravel(), "source": SRC, "location": "generated",
    })
    arms.to_csv(ext / "arms.csv", index=False)
    rows = []
    for o in range(n_outcomes):
        eff = rng.normal(-1, 1, n_studies)
        for s, sid in enumerate(ids):
            for a, arm in enumerate(("e", "c")):
                rows.append({
                    "study_id": sid, "arm_id": arm, "outcome": f"o{o}",
                    "time_point": "end", "time_weeks": 12, "value_type": "final",
                    "unit": "points", "n": n[s, a],
                    "mean": round(10 + (eff[s] if a == 0 else 0) + rng.normal(0, 0.5), 3),
                    "sd": round(abs(rng.normal(4, 1)) + 0.5, 3),
                    "source": SRC, "location": "generated",
                })
    pd.DataFrame(rows).to_csv(ext / "outcomes.csv", index=False)
    for sheet, cols in (("risk_of_bias", "study_id,tool,domain,judgement,support,source,location"),
                        ("adverse_events",
                         "study_id,arm_id,event,count,serious,reported_text,source,location")):
        (ext / f"{sheet}.csv").write_text(cols + "\n")


def time_report(review: str, reviews_dir: Path | None, out: Path) -> dict[str, float]:
    """Seconds to load the review, compute the report and render it (fresh store)."""
    if reviews_dir is not None:
        os.environ["REGISTRY_REVIEWS"] = str(reviews_dir)
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "r.duckdb") as store:
        t0 = time.perf_counter()
        load_review(store, review)
        t1 = time.perf_counter()
        built = build_report(store, review)
        t2 = time.perf_counter()
        write_report(built.report, out / review)
        t3 = time.perf_counter()
    os.environ.pop("REGISTRY_REVIEWS", None)
    return {"load": t1 - t0, "compute": t2 - t1, "render": t3 - t2, "total": t3 - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--studies", type=int, default=500)
    ap.add_argument("--outcomes", type=int, default=10)
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        for review, target in (("msc-cirrhosis", 3.0), ("bcg-vaccine", 3.0)):
            t = time_report(review, None, out)
            print(f"{review:<16} load {t['load']:.2f} s  compute {t['compute']:.2f} s  "
                  f"render {t['render']:.2f} s  total {t['total']:.2f} s  "
                  f"(target < {target:.0f} s: ratio {t['total'] / target:.2f})")
        rdir = out / "reviews"
        synthetic_review(rdir / "synthetic", args.studies, args.outcomes)
        t = time_report("synthetic", rdir, out)
        print(f"synthetic {args.studies} studies x {args.outcomes} outcomes: load "
              f"{t['load']:.2f} s  compute {t['compute']:.2f} s  render {t['render']:.2f} s  "
              f"total {t['total']:.2f} s  (target < 60 s: ratio {t['total'] / 60:.2f})")
        size = (out / "synthetic" / "report.html").stat().st_size
        print(f"synthetic report.html: {size / 1e6:.1f} MB")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
