"""``registry screen simulate``: replay a labelled screening set through the ranking model.

The simulation presents records one batch at a time in the model's order and reveals a
record's label only after presenting it; the model is retrained on the labels revealed so
far before each batch (the same loop a screener's session runs). The result lists every
record exactly once (``order``: the priors first, then the presentation order) with the
order metrics of :mod:`registry.screening.metrics` and the points where the stopping rules
of :mod:`registry.screening.stopping` would have stopped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from registry.errors import InputError
from registry.screening.learning import batch_size
from registry.screening.metrics import order_metrics
from registry.screening.model import (
    DEFAULT_CLASSIFIER,
    Features,
    Ranker,
    order_unlabelled,
    record_text,
)
from registry.screening.stopping import (
    CONSECUTIVE_EXCLUDES,
    TARGET,
    first_heuristic_stop,
    first_stop,
)

REQUIRED = ("record_id", "title", "abstract", "included")
TEXT_COLUMNS = ("title", "abstract", "keywords")


@dataclass(frozen=True)
class LabelledSet:
    """A labelled screening set read from CSV: ids, texts and 0/1 labels, file order."""

    path: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    labels: np.ndarray

    def row_of(self, record_id: str) -> int:
        """Row index of ``record_id`` (InputError when absent)."""
        try:
            return self.ids.index(record_id)
        except ValueError:
            raise InputError(
                f"{self.path}: --prior {record_id}: no record with that record_id"
            ) from None


def read_labelled(path: str | Path) -> LabelledSet:
    """Read and check a labelled CSV (columns record_id, title, abstract, included)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if raw[:4] == b"PK\x03\x04":
        raise InputError(f"{path}: this is a spreadsheet (XLSX/zip), not a CSV; save it as CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV"
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)} (columns: {', '.join(header)})"
        )
    ids: list[str] = []
    texts: list[str] = []
    labels: list[int] = []
    seen: dict[str, int] = {}
    for n, row in enumerate(reader, start=2):
        rid = (row.get("record_id") or "").strip()
        if not rid:
            raise InputError(f"{path} row {n}, column record_id: empty")
        if rid in seen:
            raise InputError(
                f"{path} row {n}, column record_id: duplicate record_id {rid!r} "
                f"(also row {seen[rid]})"
            )
        seen[rid] = n
        label = (row.get("included") or "").strip()
        if label not in ("0", "1"):
            raise InputError(f"{path} row {n}, column included: {label!r} is not 0 or 1")
        ids.append(rid)
        labels.append(int(label))
        texts.append(record_text({c: row.get(c) for c in TEXT_COLUMNS}))
    if not ids:
        raise InputError(f"{path}: no records")
    return LabelledSet(str(path), tuple(ids), tuple(texts), np.array(labels, dtype=int))


def simulate_order(
    features: Features,
    reveal: Sequence[int] | np.ndarray,
    prior_rows: Sequence[int],
    *,
    seed: int = 0,
    classifier: str = DEFAULT_CLASSIFIER,
) -> list[int]:
    """Rows in presentation order: the priors, then the model's picks batch by batch.

    ``reveal`` holds each row's label; it is read only for rows already presented.
    """
    n = features.matrix.shape[0]
    order = list(prior_rows)
    shown = np.zeros(n, dtype=bool)
    shown[order] = True
    known = {r: int(reveal[r]) for r in order}
    ranker = Ranker(features, classifier, seed)
    while not shown.all():
        ranker.fit(list(known), list(known.values()))
        ranked = order_unlabelled(ranker.scores(), np.flatnonzero(~shown))
        for row in ranked[: batch_size(len(known))]:
            order.append(row)
            shown[row] = True
            known[row] = int(reveal[row])  # revealed only now, after presenting it
    return order


@dataclass(frozen=True)
class SimulationResult:
    """One simulation run."""

    data: LabelledSet
    priors: tuple[str, ...]
    seed: int
    rows: tuple[int, ...]  # presentation order (row indices)

    @property
    def order(self) -> list[str]:
        """record_ids in presentation order, priors first."""
        return [self.data.ids[r] for r in self.rows]

    @property
    def labels_in_order(self) -> np.ndarray:
        """0/1 labels in presentation order."""
        return self.data.labels[list(self.rows)]

    def as_dict(self) -> dict[str, object]:
        """The JSON ``registry screen simulate --json`` prints."""
        y = self.labels_in_order
        n = len(y)
        stop = first_stop(y, n, target=TARGET)
        heur = first_heuristic_stop(y, CONSECUTIVE_EXCLUDES)
        total = int(y.sum())

        def at(k: int | None) -> dict[str, object] | None:
            if k is None:
                return None
            return {"screened": k, "recall": round(float(y[:k].sum()) / total, 4),
                    "work_saved": round(1 - k / n, 4)}

        return {
            "file": self.data.path,
            "seed": self.seed,
            "priors": list(self.priors),
            "classifier": DEFAULT_CLASSIFIER,
            "metrics": order_metrics(y, len(self.priors)).as_dict(),
            "stopping": {
                "target": TARGET,
                "statistical": at(stop),
                f"{CONSECUTIVE_EXCLUDES}_excludes_in_a_row": at(heur),
            },
            "order": self.order,
        }


def simulate(
    path: str | Path, priors: Sequence[str], *, seed: int = 0, classifier: str = DEFAULT_CLASSIFIER
) -> SimulationResult:
    """Run the model over a labelled CSV from ``priors`` (record_ids, ≥ 1 of each class)."""
    data = read_labelled(path)
    if not priors:
        raise InputError("give at least one --prior include and one --prior exclude")
    dup = sorted({p for p in priors if list(priors).count(p) > 1})
    if dup:
        raise InputError(f"--prior {dup[0]} given twice")
    rows = [data.row_of(str(p).strip()) for p in priors]
    classes = {int(data.labels[r]) for r in rows}
    if classes != {0, 1}:
        kind = "included" if classes == {1} else "excluded"
        raise InputError(
            f"{data.path}: the priors ({', '.join(priors)}) are all {kind}; "
            "give at least one included and one excluded record"
        )
    features = Features.fit(data.texts)
    order = simulate_order(features, data.labels, rows, seed=seed, classifier=classifier)
    return SimulationResult(data, tuple(str(p) for p in priors), seed, tuple(order))


def recall_curve_svg(result: SimulationResult, out: str | Path) -> Path:
    """Draw records screened vs includes found, with the random-order line (as ASReview)."""
    # matplotlib is imported here, not at module level: only --plot needs it (start-up time).
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    y = result.labels_in_order
    found = np.concatenate([[0], np.cumsum(y)])
    screened = np.arange(len(found))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(screened, found, label="ranking model", color="#1f77b4")
    ax.plot([0, len(y)], [0, int(y.sum())], "--", color="grey", label="random order")
    ax.set_xlabel("records screened")
    ax.set_ylabel("includes found")
    ax.set_title(Path(result.data.path).name, fontsize=10)
    ax.legend(loc="lower right")
    out = Path(out)
    try:
        fig.savefig(out, format="svg", metadata={"Date": None})  # same input, same file
    except OSError as exc:
        raise InputError(f"{out}: cannot write the plot: {exc.strerror or exc}") from exc
    finally:
        plt.close(fig)
    return out


def simulation_report(
    path: str | Path, priors: Sequence[str], *, seed: int = 0, plot: str | Path | None = None
) -> dict[str, object]:
    """``registry screen simulate``: run the simulation, draw the plot if asked, return
    the JSON object (``order`` lists every record_id once, priors first)."""
    result = simulate(path, priors, seed=seed)
    if plot is not None:
        recall_curve_svg(result, plot)
    return result.as_dict()
