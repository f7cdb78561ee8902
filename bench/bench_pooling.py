"""Pooling speed against named baselines: R's metafor and statsmodels' combine_effects.

Runs the reference analyses (../shared/reference/metafor) many times and prints the time per
fit and the ratio to each baseline, plus the throughput of the vectorised batch entry point.

    python bench/bench_pooling.py            # metafor measured here if Rscript + metafor exist,
                                             # otherwise the figures measured in issue 3
    python bench/bench_pooling.py --with-r   # apt-get install r-cran-metafor first if needed
    python bench/bench_pooling.py --loo-k 100000   # leave-one-out scale run (default k)

Baselines (issue 3, measured on the project machine): metafor 3.8 about 1.6 ms per DL fit,
2.9 ms per PM fit, 22 ms per leave-one-out on 13 studies; statsmodels about 0.055 ms per DL
fit. Targets: faster than statsmodels on every method both have, at least 30x metafor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

from registry.pooling import escalc, leave_one_out, rma, rma_batch, rma_mh, rma_peto

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("REGISTRY_SHARED", REPO.parent / "shared"))
ISSUE_METAFOR_MS = {"DL": 1.6, "PM": 2.9, "LOO-DL": 22.0}
ISSUE_STATSMODELS_MS = {"DL": 0.055}


def per_call(fn: Callable[[], object], budget: float = 0.25) -> float:
    """Seconds per call: best of 5 runs of a loop sized to ~budget/5 seconds."""
    t1 = timeit.timeit(fn, number=1)
    n = max(1, int(budget / 5 / max(t1, 1e-7)))
    return min(timeit.repeat(fn, number=n, repeat=5)) / n


def load_cases() -> dict[str, dict]:
    folder = SHARED / "reference" / "metafor"
    if not folder.is_dir():
        sys.exit(f"reference folder not found: {folder} (set REGISTRY_SHARED)")
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def arrays(case: dict) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    cols = {c: np.array([np.nan if x is None else x for x in v], float)
            for c, v in case["input"].items()}
    es = escalc(case["measure"], **cols)
    ok = ~np.isnan(es.yi)
    return es.yi[ok], es.vi[ok], {c: a[ok] for c, a in cols.items()}


def ours(case: dict) -> dict[str, float]:
    """Seconds per fit for each model of a case (inverse variance, MH/Peto, leave-one-out)."""
    y, v, cols = arrays(case)
    out = {
        "FE": per_call(lambda: rma(y, v, method="FE")),
        "DL": per_call(lambda: rma(y, v, method="DL")),
        "REML": per_call(lambda: rma(y, v, method="REML")),
        "PM": per_call(lambda: rma(y, v, method="PM")),
        "DL+HKSJ": per_call(lambda: rma(y, v, method="DL", hksj=True)),
        "REML+tau2CI": per_call(lambda: rma(y, v, method="REML").tau2_ci),
        "LOO-DL": per_call(lambda: leave_one_out(y, v, method="DL")),
    }
    if "events1" in cols and case["measure"] in ("OR", "RR", "RD"):
        e1, n1, e2, n2 = cols["events1"], cols["n1"], cols["events2"], cols["n2"]
        out["MH"] = per_call(lambda: rma_mh(e1, n1, e2, n2, case["measure"]))
        if case["measure"] == "OR":
            out["PETO"] = per_call(lambda: rma_peto(e1, n1, e2, n2))
    return out


def statsmodels_times(case: dict) -> dict[str, float]:
    """statsmodels' combine_effects for the methods it has (DL, PM); it always adds FE."""
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:
        return {}
    y, v, _ = arrays(case)
    res: dict[str, float] = {}
    for ours_name, sm_name in (("DL", "dl"), ("PM", "pm")):
        r = combine_effects(y, v, method_re=sm_name)
        mine = rma(y, v, method=ours_name)
        assert abs(r.mean_effect_re - mine.estimate) <= 1e-6 * abs(mine.estimate) + 1e-9, (
            f"statsmodels {sm_name} disagrees: {r.mean_effect_re} vs {mine.estimate}")
        res[ours_name] = per_call(lambda sm=sm_name: combine_effects(y, v, method_re=sm))
    res["FE"] = res["DL"]  # the same call returns the fixed-effect result too
    return res


R_SCRIPT = r"""
suppressMessages(library(metafor))
d <- read.csv("%(csv)s")
n <- %(reps)d
tm <- function(expr) { f <- function() eval(expr); f(); t <- system.time(for (i in 1:n) f())
  as.numeric(t["elapsed"]) / n * 1000 }
dat <- escalc("OR", ai = events1, n1i = n1, ci = events2, n2i = n2, data = d)
res <- list(
  FE = tm(quote(rma(yi, vi, data = dat, method = "FE"))),
  DL = tm(quote(rma(yi, vi, data = dat, method = "DL"))),
  REML = tm(quote(rma(yi, vi, data = dat, method = "REML"))),
  PM = tm(quote(rma(yi, vi, data = dat, method = "PM"))),
  "DL+HKSJ" = tm(quote(rma(yi, vi, data = dat, method = "DL", test = "knha"))),
  "REML+tau2CI" = tm(quote(confint(rma(yi, vi, data = dat, method = "REML")))),
  MH = tm(quote(rma.mh(ai = events1, n1i = n1, ci = events2, n2i = n2, data = d))),
  PETO = tm(quote(rma.peto(ai = events1, n1i = n1, ci = events2, n2i = n2, data = d))),
  "LOO-DL" = tm(quote(leave1out(rma(yi, vi, data = dat, method = "DL"))))
)
r <- rma(yi, vi, data = dat, method = "REML", control = list(threshold = 1e-12))
cat(paste0(names(res), "=", sprintf("%%.6f", unlist(res)), collapse = "\n"), "\n")
cat(sprintf("CHECK_REML_TAU2=%%.15g\nCHECK_REML_EST=%%.15g\n", r$tau2, c(r$beta)))
ci <- confint(r, control = list(tol = 1e-12))
cat(sprintf("CHECK_TAU2_CI=%%.15g,%%.15g\n", ci$random["tau^2", "ci.lb"],
            ci$random["tau^2", "ci.ub"]))
"""


def have_metafor() -> bool:
    if not shutil.which("Rscript"):
        return False
    r = subprocess.run(["Rscript", "-e", "suppressMessages(library(metafor))"],
                       capture_output=True, text=True)
    return r.returncode == 0


def install_metafor() -> None:
    print("installing r-cran-metafor with apt-get (once) ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "install", "-y", "-qq", "--no-install-recommends", "r-cran-metafor"],
                ["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "r-cran-metafor"]):
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode == 0 and "install" in cmd and have_metafor():
            return
    print("  could not install r-cran-metafor; using the issue's figures", flush=True)


def metafor_times(case: dict, reps: int) -> tuple[dict[str, float], dict[str, object]]:
    """Milliseconds per call measured in R on the same machine, and R's numbers to compare."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "case.csv"
        inp = case["input"]
        rows = zip(*(inp[c] for c in ("events1", "n1", "events2", "n2")), strict=True)
        csv.write_text("events1,n1,events2,n2\n" + "\n".join(
            ",".join("NA" if x is None else str(x) for x in r) for r in rows) + "\n")
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT % {"csv": csv, "reps": reps})
        out = subprocess.run(["Rscript", str(script)], capture_output=True, text=True,
                             check=True).stdout
    times: dict[str, float] = {}
    checks: dict[str, object] = {}
    for line in out.split():
        key, _, val = line.partition("=")
        if key.startswith("CHECK_"):
            checks[key] = [float(x) for x in val.split(",")]
        elif val:
            times[key] = float(val)
    return times, checks


CROSS_R = r"""
suppressMessages(library(metafor))
d <- read.csv("%(csv)s"); t2 <- read.csv("%(tab)s"); out <- c()
tight <- list(threshold = 1e-12, tol = 1e-14, maxiter = 10000, stepadj = 0.5)
for (i in unique(d$id)) { s <- d[d$id == i, ]
  for (m in c("DL", "REML", "PM")) for (kn in c("z", "knha")) {
    r <- tryCatch(rma(yi, vi, data = s, method = m, test = kn, control = tight),
                  error = function(e) NULL)
    if (is.null(r)) next
    p <- predict(r); ci <- confint(r, control = list(tol = 1e-13, tau2.max = 1e6))
    out <- c(out, sprintf("%%d,%%s,%%s,%%.17g,%%.17g,%%.17g,%%.17g,%%.17g,%%.17g", i, m, kn,
             c(r$beta), r$se, r$tau2, p$pi.lb, ci$random["tau^2", "ci.lb"],
             ci$random["tau^2", "ci.ub"])) }
  tf <- trimfill(rma(yi, vi, data = s, method = "FE"))
  eg <- regtest(rma(yi, vi, data = s, method = "FE"), model = "lm")
  out <- c(out, sprintf("%%d,TF,z,%%.17g,%%d,%%.17g,0,0,0", i, c(tf$beta), tf$k0, eg$zval)) }
for (i in unique(t2$id)) { s <- t2[t2$id == i, ]
  for (m in c("OR", "RR", "RD", "PETO")) {
    r <- tryCatch(if (m == "PETO") rma.peto(ai = e1, n1i = n1, ci = e2, n2i = n2, data = s)
                  else rma.mh(ai = e1, n1i = n1, ci = e2, n2i = n2, data = s, measure = m),
                  error = function(e) NULL)
    if (!is.null(r)) out <- c(out, sprintf("%%d,%%s,mh,%%.17g,%%.17g,%%.17g,0,0,0", i, m,
                                           c(r$beta), r$se, r$QE)) } }
writeLines(out, "%(out)s")
"""


def crosscheck_with_r(n: int) -> None:
    """Random data sets through metafor and through us: the largest relative difference."""
    from registry.pooling import egger, trimfill

    rng = np.random.default_rng(2025)
    cont, tabs = [], []
    for i in range(n):
        k = int(rng.integers(3, 25))
        v = rng.uniform(0.005, 1.0, k)
        y = rng.normal(rng.normal(0, 1), np.sqrt(v + rng.choice([0.0, 0.05, 0.5])))
        cont += [(i, float(a), float(b)) for a, b in zip(y, v, strict=True)]
        k2 = int(rng.integers(2, 15))
        n1, n2 = rng.integers(5, 200, k2), rng.integers(5, 200, k2)
        p = rng.uniform(0, 0.3)
        e1, e2 = rng.binomial(n1, min(1.0, p * rng.uniform(0.3, 1.5))), rng.binomial(n2, p)
        if i % 5 == 0:
            e1[0] = e2[0] = 0  # a double-zero table now and then
        tabs += [(i, *map(int, r)) for r in zip(e1, n1, e2, n2, strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        csv, tab, out = (Path(tmp) / f for f in ("d.csv", "t.csv", "r.csv"))
        csv.write_text("id,yi,vi\n" + "\n".join(f"{i},{a!r},{b!r}" for i, a, b in cont))
        tab.write_text("id,e1,n1,e2,n2\n" + "\n".join(",".join(map(str, r)) for r in tabs))
        script = Path(tmp) / "x.R"
        script.write_text(CROSS_R % {"csv": csv, "tab": tab, "out": out})
        subprocess.run(["Rscript", str(script)], capture_output=True, check=True)
        lines = out.read_text().split()
    data: dict[int, tuple[list[float], list[float]]] = {}
    for i, a, b in cont:
        data.setdefault(i, ([], []))[0].append(a)
        data[i][1].append(b)
    tables: dict[int, list[list[int]]] = {}
    for i, *row in tabs:
        tables.setdefault(i, []).append(row)
    worst: dict[str, float] = {}

    def diff(key: str, ours_: float, ref: float) -> None:
        d = abs(ours_ - ref)
        rel = 0.0 if d <= 1e-12 else d / max(abs(ref), 1e-12)
        worst[key] = max(worst.get(key, 0.0), rel)

    for line in lines:
        f = line.split(",")
        i, m, kn = int(f[0]), f[1], f[2]
        vals = [float(x) for x in f[3:]]
        if kn == "mh":
            e1, n1, e2, n2 = (np.array(c, float) for c in zip(*tables[i], strict=True))
            r = rma_peto(e1, n1, e2, n2) if m == "PETO" else rma_mh(e1, n1, e2, n2, m)
            for key, a, b in zip(("estimate", "se", "Q"), (r.estimate, r.se, r.q), vals,
                                 strict=False):
                diff(f"{m} {key}", a, b)
            continue
        y, v = (np.array(c) for c in data[i])
        if m == "TF":
            tf, eg = trimfill(y, v, min_k=3), egger(y, v, min_k=3)
            diff("trimfill estimate", tf.estimate, vals[0])
            diff("trimfill k0", tf.k0, vals[1])
            diff("Egger t", eg.stat, vals[2])
            continue
        r = rma(y, v, method=m, hksj=kn == "knha")
        label = m + ("+HKSJ" if kn == "knha" else "")
        for key, a, b in zip(("estimate", "se", "tau2", "pi_lb", "tau2 CI lb", "tau2 CI ub"),
                             (r.estimate, r.se, r.tau2, r.pi_lb, *r.tau2_ci), vals,
                             strict=True):
            diff(f"{label} {key}", a, b)
    print(f"\nCross-check against metafor on {n} random data sets ({len(lines)} fits): "
          "largest relative difference (absolute differences below 1e-12 count as 0)")
    for key in sorted(worst):
        print(f"  {key:<26}{worst[key]:.1e}")


def bench_batch(n_analyses: int, k: int) -> float:
    """Throughput of rma_batch against one rma() per analysis; returns DL analyses/s."""
    rng = np.random.default_rng(20250101)
    vi = rng.uniform(0.01, 0.5, size=(n_analyses, k))
    yi = rng.normal(-0.5, np.sqrt(vi + 0.1))
    print(f"\nBatch entry point: {n_analyses} meta-analyses of {k} studies each")
    print(f"{'method':<8}{'total s':>10}{'us/analysis':>14}{'analyses/s':>14}"
          f"{'scalar us':>12}{'batch gain':>12}")
    sub = 300
    rates = {}
    for method in ("FE", "DL", "REML", "PM"):
        t = per_call(lambda m=method: rma_batch(yi, vi, method=m), budget=1.0)
        ts = per_call(lambda m=method: [rma(yi[i], vi[i], method=m) for i in range(sub)],
                      budget=1.0) / sub
        per = t / n_analyses
        rates[method] = 1 / per
        print(f"{method:<8}{t:>10.3f}{per * 1e6:>14.2f}{1 / per:>14,.0f}{ts * 1e6:>12.1f}"
              f"{ts / per:>11.1f}x")
    # a check that the batch equals the scalar path
    b = rma_batch(yi[:50], vi[:50], method="REML")
    worst = max(abs(b.tau2[i] - rma(yi[i], vi[i], method="REML").tau2) for i in range(50))
    print(f"max |tau2 batch - scalar| over 50 REML fits: {worst:.2e}")
    return rates["DL"]


def _loo_child(k: int, method: str) -> None:
    """One leave-one-out run in a fresh process: prints JSON with times and peak RSS.

    Anchor (same process): one fit of all k studies with ``rma``.
    """
    rng = np.random.default_rng(11)
    v = rng.uniform(0.01, 0.5, k)
    y = rng.normal(0.3, np.sqrt(v + 0.05))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    rma(y, v, method=method, tau2_ci=False)
    anchor = time.perf_counter() - t0
    t0 = time.perf_counter()
    seq = leave_one_out(y, v, method=method)
    est = seq.column("estimate")
    secs = time.perf_counter() - t0
    # a spot check against a plain refit, so the figure is of a correct computation
    one = rma(np.delete(y, k // 2), np.delete(v, k // 2), method=method, tau2_ci=False)
    print(json.dumps({"k": k, "method": method, "seconds": secs, "anchor": anchor,
                      "rss_before_mb": rss0 / 1024,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "check": max(abs(est[k // 2] - one.estimate) / abs(one.estimate),
                                   abs(seq.column("tau2")[k // 2] - one.tau2)
                                   / max(abs(one.tau2), 1e-300))}))


def bench_loo_scale(k: int) -> None:
    """Leave-one-out at large k (issue 11): time and peak RSS per method, each in its own
    process so that peak RSS is that run's."""
    print(f"\nLeave-one-out at scale (each run in a fresh process; anchor: one {k:,}-study fit)")
    print(f"{'method':<8}{'k':>9}{'seconds':>10}{'x anchor':>10}{'peak RSS MB':>13}"
          f"{'RSS before MB':>15}{'check':>10}")
    runs = [("FE", k), ("DL", k), ("REML", k), ("PM", k)]
    for method, kk in runs:
        out = subprocess.run([sys.executable, __file__, "--loo-child", str(kk), method],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        print(f"{method:<8}{kk:>9,}{r['seconds']:>10.2f}{r['seconds'] / r['anchor']:>10.0f}"
              f"{r['peak_rss_mb']:>13.0f}{r['rss_before_mb']:>15.0f}{r['check']:>10.1e}")
    print("Sums minus the left-out term; random-effects sums by a power series in tau2 around "
          "the refits' common value,\nso REML and PM iterate all refits together: O(k) memory "
          "and O(k) time per iteration. 'check': largest relative difference\nof estimate and "
          "tau2 from a plain refit without the middle study.")


def machine() -> str:
    """The machine, for figures quoted in the README."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} cores, load average {load:.1f} at start"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--with-r", action="store_true",
                    help="install r-cran-metafor with apt-get if Rscript/metafor are missing")
    ap.add_argument("--reps", type=int, default=200, help="R repetitions per model")
    ap.add_argument("--batch", type=int, default=10000, help="analyses in the batch benchmark")
    ap.add_argument("--crosscheck", type=int, default=60,
                    help="random data sets to compare with metafor when R is available (0: off)")
    ap.add_argument("--loo-k", type=int, default=100_000,
                    help="studies in the leave-one-out scale run (0: off)")
    ap.add_argument("--loo-child", nargs=2, metavar=("K", "METHOD"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.loo_child:
        _loo_child(int(args.loo_child[0]), args.loo_child[1])
        return
    print(f"Machine: {machine()}")

    cases = load_cases()
    main_case = cases["bcg_OR"]
    print(f"Reference case: bcg_OR ({len(main_case['input']['n1'])} studies, log odds ratio)")

    mine = ours(main_case)
    sm = statsmodels_times(main_case)
    if args.with_r and not have_metafor():
        install_metafor()
    r_times: dict[str, float] = {}
    if have_metafor():
        r_times, checks = metafor_times(main_case, args.reps)
        baseline = "metafor (R, measured now on this machine)"
        y, v, _ = arrays(main_case)
        res = rma(y, v, method="REML")
        print("Numbers vs metafor run now: REML tau2 rel. diff "
              f"{abs(res.tau2 / checks['CHECK_REML_TAU2'][0] - 1):.1e}, estimate "
              f"{abs(res.estimate / checks['CHECK_REML_EST'][0] - 1):.1e}; Q-profile CI "
              f"({res.tau2_ci[0]:.6f}, {res.tau2_ci[1]:.6f}) vs R "
              f"({checks['CHECK_TAU2_CI'][0]:.6f}, {checks['CHECK_TAU2_CI'][1]:.6f})")
    else:
        r_times = dict(ISSUE_METAFOR_MS)
        baseline = "metafor (figures measured in issue 3; Rscript/metafor not available)"
    print(f"Baselines: {baseline}; statsmodels combine_effects (measured now)\n")
    print(f"{'model':<13}{'ours ms':>10}{'metafor ms':>12}{'x metafor':>11}"
          f"{'statsm. ms':>12}{'x statsm.':>11}")
    for name, t in mine.items():
        rm = r_times.get(name)
        st = sm.get(name)
        print(f"{name:<13}{t * 1e3:>10.4f}"
              f"{(f'{rm:.3f}' if rm else '-'):>12}{(f'{rm / (t * 1e3):.0f}x' if rm else '-'):>11}"
              f"{(f'{st * 1e3:.4f}' if st else '-'):>12}"
              f"{(f'{st / t:.1f}x' if st else '-'):>11}")
    print(f"\nissue's statsmodels figure: {ISSUE_STATSMODELS_MS['DL']} ms per DL fit "
          f"-> {ISSUE_STATSMODELS_MS['DL'] / (mine['DL'] * 1e3):.1f}x")

    print("\nAll reference cases (ms per fit, ours):")
    names = ["FE", "DL", "REML", "PM", "DL+HKSJ", "LOO-DL", "MH", "PETO"]
    print(f"{'case':<28}{'k':>4}" + "".join(f"{n:>9}" for n in names))
    for cname, case in cases.items():
        t = ours(case) if cname != "bcg_OR" else mine
        k = arrays(case)[0].size
        print(f"{cname:<28}{k:>4}" + "".join(
            f"{t[n] * 1e3:>9.4f}" if n in t else f"{'-':>9}" for n in names))

    dl_rate = bench_batch(args.batch, 13)
    print(f"\nFor the README: batch {dl_rate / 1e6:.2f} M DL fits/s ({args.batch:,} analyses "
          f"of 13 studies; `python bench/bench_pooling.py`; {machine()})")
    if args.loo_k:
        bench_loo_scale(args.loo_k)
    if args.crosscheck and have_metafor():
        crosscheck_with_r(args.crosscheck)


if __name__ == "__main__":
    main()
