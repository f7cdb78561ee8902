"""``registry screen simulate`` on a real labelled subsample: the order, no label leaks,
determinism, the metrics and the errors for bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.errors import InputError
from registry.screening.metrics import order_metrics
from registry.screening.model import Features
from registry.screening.simulate import read_labelled, simulate, simulate_order

INCLUDE, EXCLUDE = "58", "2"  # record_ids of the subsample: included / excluded


def _sim(path: Path, *extra: str) -> dict:
    out = CliRunner().invoke(
        app, ["screen", "simulate", str(path), "--prior", INCLUDE, "--prior", EXCLUDE,
              "--seed", "3", "--json", *extra],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_order_lists_every_record_once_priors_first(labelled: Path, tmp_path: Path) -> None:
    plot = tmp_path / "curve.svg"
    out = _sim(labelled, "--plot", str(plot))
    ids = [r["record_id"] for r in csv.DictReader(labelled.open(newline="", encoding="utf-8"))]
    assert out["order"][:2] == [INCLUDE, EXCLUDE]
    assert sorted(out["order"]) == sorted(ids) and len(out["order"]) == len(ids)
    assert out["metrics"]["records"] == len(ids) - 2
    svg = plot.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "random order" in svg


def test_same_inputs_and_seed_give_the_same_order(labelled: Path) -> None:
    assert _sim(labelled)["order"] == _sim(labelled)["order"]


def test_model_never_reads_a_label_before_presenting_the_record(labelled: Path) -> None:
    data = read_labelled(labelled)
    features = Features.fit(data.texts)
    priors = [data.row_of(INCLUDE), data.row_of(EXCLUDE)]
    order = simulate_order(features, data.labels, priors, seed=1)
    for cut in (10, 60):
        flipped = data.labels.copy()
        not_shown = np.setdiff1d(np.arange(len(flipped)), order[:cut])
        flipped[not_shown] = 1 - flipped[not_shown]
        again = simulate_order(features, flipped, priors, seed=1)
        assert again[:cut] == order[:cut]
    assert (np.diff(sorted(order)) == 1).all()


def test_model_beats_random_order_on_real_data(labelled: Path) -> None:
    # Random order finds includes evenly: WSS@95 about 0 and RRF@10 about 10 % in
    # expectation (README of ../shared/screening). Learning must do clearly better.
    m = _sim(labelled)["metrics"]
    assert m["wss95"] > 20 and m["rrf10"] > 20


def test_metrics_on_a_hand_counted_order() -> None:
    # README definitions: priors left out; N = 20, R = 4; includes at positions 1, 2, 5, 12.
    # k95: 0.95*4 = 3.8 -> 4th include at 12 -> WSS = 100*((20-12)/20 - 0.05) = 35.
    # RRF@10: ceil(20/10) = 2 first records hold 2 of 4 includes = 50 %.
    y = [1, 0] + [1 if i in (1, 2, 5, 12) else 0 for i in range(1, 21)]
    m = order_metrics(y, n_priors=2)
    assert (m.n, m.r, m.to_find_all) == (20, 4, 12)
    assert math.isclose(m.wss95, 35.0) and math.isclose(m.rrf10, 50.0)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


HEADER = ["record_id", "title", "abstract", "included"]


@pytest.mark.parametrize(
    ("header", "rows", "priors", "message"),
    [
        (["record_id", "title", "abstract"], [["1", "a", "b"]], ["1", "2"],
         "missing column(s) included"),
        (HEADER, [["1", "a", "b", "1"], ["2", "c", "d", "yes"]], ["1", "2"],
         "row 3, column included: 'yes' is not 0 or 1"),
        (HEADER, [["1", "a", "b", "1"], ["1", "c", "d", "0"]], ["1", "2"],
         "row 3, column record_id: duplicate record_id '1' (also row 2)"),
        (HEADER, [["1", "a", "b", "1"], ["2", "c", "d", "0"]], ["1", "9"],
         "--prior 9: no record with that record_id"),
        (HEADER, [["1", "a", "b", "0"], ["2", "c", "d", "0"], ["3", "e", "f", "1"]], ["1", "2"],
         "the priors (1, 2) are all excluded"),
    ],
)  # fmt: skip
def test_bad_input_is_named(tmp_path: Path, header, rows, priors, message) -> None:
    path = _write(tmp_path / "bad.csv", header, rows)
    with pytest.raises(InputError, match=None) as err:
        simulate(path, priors)
    assert message in str(err.value)
    out = CliRunner().invoke(
        app, ["screen", "simulate", str(path), *sum((["--prior", p] for p in priors), [])]
    )
    assert out.exit_code != 0 and message in out.output and "Traceback" not in out.output
