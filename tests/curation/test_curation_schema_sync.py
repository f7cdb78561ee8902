"""The curation tables hold exactly the columns the sheet format defines.

The store reads its column lists from its own tables (it imports nothing from ``schemas``);
this test is what keeps those tables and the validated sheet format in step.
"""

from __future__ import annotations

from registry.store import Store
from registry.store.curation import CURATION_TABLES
from schemas.sheet_format import PUBLISHED, SHEETS


def test_tables_match_the_format(db: Store) -> None:
    for sheet, table in CURATION_TABLES.items():
        spec = PUBLISHED if sheet == "published_results" else SHEETS[sheet]
        cols = [r[0] for r in db._rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [table])]  # fmt: skip
        assert cols == ["review", *spec, "extra", "updated_at"], table
        numeric = {c for c, k in spec.items() if k in ("num", "int")}
        assert {c for c, n in db._sheet_columns(sheet).items() if n} == numeric, sheet
