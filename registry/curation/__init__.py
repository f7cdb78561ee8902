"""Curation: protocols, validated extraction sheets, provenance and audit, inputs for pooling.

Public API (see docs in each module):

- :func:`add_trial` / :func:`load_review` — validate and store sheets, all or nothing, audited
- :func:`validate_registry` — re-check everything stored
- :func:`pooling_inputs` — per outcome x time point, one row per study, for pooling
- :func:`gaps` — what still needs extraction
- :func:`published_results` / :func:`check_published` — published estimates and their checks
- :func:`history`, :func:`compare_sheets`, :func:`write_template`, :func:`export_review`
- :func:`init_review` — a new review folder (commented protocol, empty sheets), validated
"""

from __future__ import annotations

from .audit import format_history, history, history_text
from .compare import Disagreement, compare_sheets, format_disagreements
from .export import export_review
from .gaps import gaps, review_gaps
from .inputs import PoolingInput, combine_groups, pooling_inputs, review_protocol, rob_overall
from .load import LoadSummary, add_trial, load_review
from .published import Finding, check_published, check_result, parse_p, published_results
from .recheck import RegistryCheck, validate_registry
from .scaffold import InitResult, init_review
from .sheets import SheetSet, read_sheets
from .template import write_template
from .validate import CheckResult, Problem, check_sheets

__all__ = [
    "CheckResult", "Disagreement", "Finding", "InitResult", "LoadSummary", "PoolingInput",
    "Problem", "RegistryCheck", "SheetSet", "add_trial", "check_published", "check_result",
    "check_sheets", "combine_groups", "compare_sheets", "export_review", "format_disagreements",
    "format_history", "gaps", "history", "history_text", "init_review", "load_review",
    "parse_p", "pooling_inputs", "published_results", "read_sheets", "review_gaps",
    "review_protocol", "rob_overall", "validate_registry", "write_template",
]  # fmt: skip
