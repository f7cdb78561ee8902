"""Speed of the report figures, against plain matplotlib on the same number of rows.

Baseline ("plain matplotlib"): a pyplot-free Figure with one errorbar per study and one
text label per study, saved as SVG with real text -- the least a forest plot costs in the
library we use. Prints ms per figure and the ratio to that baseline, then the projected
figure time of a large report (500 studies x 10 outcomes) against the 60 s budget of
issue 5 (which covers the whole report, not just figures).

Run: .venv/bin/python bench/bench_figures.py
"""

from __future__ import annotations

import io
import math
import time

from reports.figures import (
    Arm,
    EffectTest,
    ForestGroup,
    ForestPlot,
    FunnelPlot,
    Heterogeneity,
    PooledRow,
    PrismaFlow,
    RobRow,
    RobTable,
    StudyRow,
    forest_svg,
    funnel_svg,
    prisma_svg,
    rob_summary_svg,
    rob_traffic_light_svg,
)
from reports.figures.common import figure_context, new_figure


def synthetic_forest(k: int) -> ForestPlot:
    """Deterministic synthetic studies (values are arbitrary, only the drawing is timed)."""
    studies = []
    for i in range(k):
        y = -0.5 + 0.8 * math.sin(i * 1.7)
        se = 0.1 + 0.3 * abs(math.cos(i * 0.9))
        studies.append(StudyRow(f"Study {i + 1:03d} {1990 + i % 35}", y, y - 1.96 * se,
                                y + 1.96 * se, 100 / k, Arm(100 + i, events=10 + i % 30),
                                Arm(100 + i, events=15 + i % 25)))
    total = PooledRow(-0.4, -0.6, -0.2, pi_lb=-1.5, pi_ub=0.7, weight_percent=100.0,
                      heterogeneity=Heterogeneity(300.0, k - 1, 1e-8, 80.0, 0.2),
                      test=EffectTest(-4.0, 6e-5))
    return ForestPlot("RR", (ForestGroup(tuple(studies)),), kind="dichotomous", total=total)


def baseline(k: int) -> str:
    with figure_context("baseline"):
        fig = new_figure(8, 0.19 * k + 1)
        ax = fig.add_axes((0.5, 0.05, 0.45, 0.9))
        for i in range(k):
            y = -0.5 + 0.8 * math.sin(i * 1.7)
            ax.errorbar([y], [i], xerr=[[0.3], [0.3]], fmt="s")
            fig.text(0.02, 0.05 + 0.9 * i / k, f"Study {i + 1:03d}")
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        return buf.getvalue()


def timeit(fn, *args, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def main() -> None:
    forest_svg(synthetic_forest(5))  # warm-up: font cache, imports
    print(f"{'figure':<32}{'ms':>10}{'baseline ms':>14}{'ratio':>8}")
    results = {}
    for k in (13, 100, 500):
        plot = synthetic_forest(k)
        ms = timeit(forest_svg, plot)
        base = timeit(baseline, k)
        results[k] = ms
        print(f"{f'forest, {k} studies':<32}{ms:>10.0f}{base:>14.0f}{ms / base:>8.2f}")
    yi = tuple(-0.5 + 0.8 * math.sin(i * 1.7) for i in range(500))
    sei = tuple(0.1 + 0.3 * abs(math.cos(i * 0.9)) for i in range(500))
    funnel_ms = timeit(funnel_svg, FunnelPlot("RR", yi, sei, -0.4))
    print(f"{'funnel, 500 studies':<32}{funnel_ms:>10.0f}")
    rob = RobTable("RoB1", tuple(RobRow(f"Study {i}", {"random_sequence": "low",
                                                       "allocation_concealment": "high"},
                                        overall="high") for i in range(500)))
    tl_ms = timeit(rob_traffic_light_svg, rob, repeat=1)
    sum_ms = timeit(rob_summary_svg, rob)
    print(f"{'RoB traffic light, 500 studies':<32}{tl_ms:>10.0f}")
    print(f"{'RoB summary, 500 studies':<32}{sum_ms:>10.0f}")
    flow = PrismaFlow(identified=(("PubMed", 1000),), screened=900, excluded_reasons=(
        ("Not RCT", 10),))
    print(f"{'PRISMA flow':<32}{timeit(prisma_svg, flow):>10.1f}")
    bundled = results[13] * 6 + funnel_ms + 300
    print(f"\nbundled review (~6 forests of ~13 studies + funnel + RoB): "
          f"~{bundled / 1000:.1f} s of figures (budget for the whole report: 3 s)")
    large = results[500] * 10 + funnel_ms * 10 + tl_ms + sum_ms
    print(f"500 studies x 10 outcomes (10 forests + 10 funnels + RoB): "
          f"~{large / 1000:.1f} s of figures (budget for the whole report: 60 s)")


if __name__ == "__main__":
    main()
