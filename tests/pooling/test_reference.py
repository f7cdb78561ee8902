"""Every number in every metafor reference file is reproduced (1e-6 relative, 1e-9 absolute).

The expected values are metafor 3.8-1 outputs (``../shared/reference/README.md`` says how they
were made). The numbers are produced through the public API: ``analyse`` for each model (and
its subgroups / leave-one-out / cumulative), ``egger`` and ``trimfill`` for the small-study
analyses, ``escalc`` for the per-study effect sizes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from registry.pooling import analyse, egger, escalc, trimfill

REL, ABS = 1e-6, 1e-9
INPUT_KEYS = {"name", "source", "measure", "generator", "input"}
# what each reference block tells the engine rather than asks of it
GIVEN = {"group", "order", "order_by"}


def _leaves(node: object, path: str = ""):
    if isinstance(node, dict):
        for key, val in node.items():
            if key in GIVEN:
                continue
            yield from _leaves(val, f"{path}.{key}" if path else key)
    else:
        yield path, node


def _lookup(tree: object, path: str) -> object:
    node = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def _close(ours: object, ref: object) -> bool:
    if isinstance(ref, str):
        return ours == ref
    r = np.atleast_1d(np.asarray([np.nan if x is None else x for x in np.atleast_1d(ref)], float))
    o = np.atleast_1d(np.asarray([np.nan if x is None else x for x in np.atleast_1d(ours)], float))
    if r.shape != o.shape:
        return False
    both_nan = np.isnan(r) & np.isnan(o)
    ok = np.abs(o - r) <= np.maximum(ABS, REL * np.abs(r))
    return bool(np.all(both_nan | ok))


def _model_args(name: str) -> dict[str, object]:
    base, _, adj = name.partition("+")
    if adj not in ("", "HKSJ"):
        raise AssertionError(f"unknown model label {name!r}")
    return {"method": base, "hksj": adj == "HKSJ"}


def compute(case: dict, table) -> dict:
    """Our numbers for a case, laid out like the reference file."""
    measure = case["measure"]
    inp = {c: np.array([np.nan if x is None else x for x in v], float)
           for c, v in case["input"].items()}
    es = escalc(measure, **inp)
    out: dict = {"effect_sizes": {"yi": es.yi.tolist(), "vi": es.vi.tolist()}, "models": {}}
    for name in case.get("models", {}):
        a = analyse(table, measure=measure, **_model_args(name))
        d = a.to_json_dict()
        d["test"] = {"t": "knha"}.get(d["test"], d["test"])
        out["models"][name] = d

    extra: dict = {}
    if "subgroups_DL" in case:
        table = table.assign(group=case["subgroups_DL"]["group"])
        extra["by"] = "group"
    if "cumulative_DL" in case:
        # the file's `order` is the vector given to metafor's cumul(order=), which metafor
        # (since 3.0) uses as a variable to sort the studies by, ties in input order
        table = table.assign(order_key=[float(x) for x in case["cumulative_DL"]["order"]])
        extra["cumulative"] = "order_key"
    a = analyse(table, measure=measure, method="DL", leave_one_out=True, **extra)
    d = a.to_json_dict()
    out["leave_one_out_DL"] = d["leave_one_out"]
    if "cumulative" in d:
        out["cumulative_DL"] = d["cumulative"]
    if "subgroups" in d:
        sg = d["subgroups"]
        for s in sg["subgroups"].values():
            # rows: 1-based positions in the input table (labels are the row numbers)
            s["rows"] = [int(a.studies[r - 1]) for r in s["rows"]]
            s["test"] = {"t": "knha"}.get(s["test"], s["test"])
        out["subgroups_DL"] = sg
    y, v = a.effect_sizes.yi, a.effect_sizes.vi
    if "egger_lm" in case:
        out["egger_lm"] = egger(y, v, min_k=3).to_json_dict()
    if "trimfill_FE" in case:
        out["trimfill_FE"] = trimfill(y, v, method="FE", min_k=3).to_json_dict()
    return out


def test_reference_case(reference_dir: Path, reference_name: str, case_table) -> None:
    """One reference file: every number in it, to 1e-6 relative / 1e-9 absolute."""
    path = reference_dir / reference_name
    assert path.is_file(), f"reference file missing: {path}"
    case = json.loads(path.read_text())
    ours = compute(case, case_table(case))
    failures, checked = [], 0
    for key, block in case.items():
        if key in INPUT_KEYS:
            continue
        for leaf, ref in _leaves(block, key):
            checked += 1
            try:
                got = _lookup(ours, leaf)
            except KeyError:
                failures.append(f"{leaf}: not produced (expected {ref})")
                continue
            if not _close(got, ref):
                failures.append(f"{leaf}: got {got}, metafor {ref}")
    assert checked > 50, f"only {checked} numbers found in {reference_name}"
    assert not failures, f"{reference_name}: {len(failures)} of {checked} differ:\n" + "\n".join(
        failures[:30]
    )


def test_every_reference_file_is_parametrised(reference_dir: Path, request) -> None:
    """The collection-time discovery sees exactly the files the ``shared`` fixture holds."""
    # tests/pooling/conftest.py, found among the loaded plugins (its module name is ambiguous)
    (discover,) = {getattr(p, "reference_names", None)
                   for p in request.config.pluginmanager.get_plugins()} - {None}
    on_disk = sorted(p.name for p in reference_dir.glob("*.json"))
    assert on_disk, "no reference files"
    assert discover(request.config) == on_disk


def test_walker_detects_a_wrong_number() -> None:
    """The comparison itself fails on a difference just above the tolerance."""
    assert _close(1.0 + 2e-6, 1.0) is False
    assert _close(1.0 + 5e-7, 1.0) is True
    assert _close(5e-10, 0.0) is True
    assert _close(2e-9, 0.0) is False
    assert _close([1.0, math.nan], [1.0, None]) is True
    assert _close([1.0], 1.0) is True
