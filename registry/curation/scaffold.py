"""``registry init REVIEW``: a new review folder to start from, valid from its first minute.

Writes ``<reviews>/<review>/protocol.yaml`` (every key commented, placeholders marked TODO
and no invented content: one placeholder outcome the team renames) and empty extraction
sheets (header rows only) under ``extraction/``, then loads the protocol and checks the
sheets with the same rules as ``add-trial``, so what ``init`` writes is known to load.
An existing folder is never touched.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from registry.csvout import write_csv
from registry.errors import InputError
from schemas.protocol import load_protocol, protocol_path, review_slug
from schemas.sheet_format import EXTRACTION_SHEETS, columns_for

from .sheets import read_sheets
from .validate import check_sheets

PROTOCOL_TEMPLATE = """\
# Protocol of the review '{review}' (written by `registry init`; format: docs/review-format.md).
# Every TODO is yours to fill; nothing here is data. Check it with:
#   registry validate --review {review}      (after `registry load-review {review}`)
review: {review}                       # must equal the folder name
title: "TODO: full title of the review"
example: false                         # true only for a worked example, never a real review
# registration: "PROSPERO CRD42..."    # the review's registration, once there is one

question:                              # PICOS, as in the registered protocol
  population: "TODO"
  intervention: "TODO"
  comparison: "TODO"
  outcomes: "TODO"
  study_designs: "RCT"                 # "RCT" alone flags every non-randomised study

# Saved searches. Only source 'pubmed' runs live (NCBI E-utilities); other sources are run
# by the team and their exports dropped into imports/<source>/ or given to `registry import`.
searches: []
#  - source: pubmed
#    query: '"TODO"[tiab] AND randomized controlled trial[pt]'
#  - {{source: embase, query: "TODO", live: false}}

eligibility:
  inclusion: []                        # one sentence per criterion
  exclusion_reasons: []                # full-text exclusions, each a PRISMA box:
#    - {{id: not_rct, label: "Not a randomised controlled trial"}}

screening:
  keywords: []                         # words that rank a record higher for screening
  mesh: []
  dual_review: false                   # true: two reviewers decide each record

# Review-specific columns of the studies sheet (type category | number | text).
characteristics: []
#  - {{id: route, type: category, levels: [oral, iv]}}
#  - {{id: dose_per_kg, type: number, unit: "mg/kg", plausible_range: [0.01, 100]}}

outcomes:                              # at least one; ids become values of outcomes.csv
  - id: primary_outcome                # TODO: rename, and describe the real outcome
    name: "TODO: primary outcome"
    kind: continuous                   # continuous | dichotomous
    unit: points                       # canonical unit (continuous outcomes)
    units: {{points: 1}}                 # accepted units -> factor to the canonical unit
    direction: lower_is_better         # lower_is_better | higher_is_better
    measure: MD                        # MD | SMD (continuous); RR | OR | RD (dichotomous)
    primary: true
#   plausible_range: [0, 100]          # catches unit and decimal-point slips

time_points: []                        # analysis time points; rows match by time_weeks
#  - {{id: 3m, label: "3 months", weeks: 12, window: [10, 16]}}

subgroups: []
#  - {{id: route, label: "Route", by: route}}

analysis:
  preset: revman5                      # revman5 | cochrane2025
  rct_only_sensitivity: true
  low_rob_sensitivity: true
"""


@dataclass(frozen=True)
class InitResult:
    """What ``registry init`` wrote."""

    review: str
    folder: Path
    files: tuple[Path, ...]

    def __str__(self) -> str:
        lines = [f"{self.review}: new review folder {self.folder} (protocol and sheets valid)"]
        lines += [f"  wrote {p}" for p in self.files]
        lines.append(f"next: fill the TODOs in {self.folder / 'protocol.yaml'}")
        return "\n".join(lines)


def init_review(review: str) -> InitResult:
    """Write a commented protocol and empty extraction sheets for a new ``review``.

    Raises InputError when the name is not a slug or the folder exists; the written files
    are checked at once, and removed again if they do not load (a bug, never left behind).
    """
    folder = protocol_path(review_slug(review)).parent
    if folder.exists():
        raise InputError(f"{folder}: already exists; `registry init` never overwrites a review")
    xdir = folder / "extraction"
    xdir.mkdir(parents=True)
    try:
        files = [folder / "protocol.yaml"]
        files[0].write_text(PROTOCOL_TEMPLATE.format(review=review), encoding="utf-8")
        protocol = load_protocol(review)
        for sheet in EXTRACTION_SHEETS:
            path = xdir / f"{sheet}.csv"
            write_csv(path, list(columns_for(sheet, protocol)), [])
            files.append(path)
        check_sheets(read_sheets(xdir), protocol).raise_if_failed(str(xdir))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return InitResult(review, folder, tuple(files))
