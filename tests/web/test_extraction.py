"""Extraction forms: the sheet loader's validation at each field; stored only when valid."""

from __future__ import annotations

from .conftest import BUNDLED

ROW = {"sheet": "outcomes", "study_id": "Salama2014", "arm_id": "msc", "outcome": "meld",
       "time_point": "12 weeks", "time_weeks": "12", "value_type": "final", "unit": "points",
       "n": "20", "mean": "14.2", "sd": "3.1",
       "source": "https://doi.org/10.1186/scrt459", "location": "Table 2, page 777"}  # fmt: skip
URL = f"/r/{BUNDLED}/extract"


def _stored(store) -> list[dict]:
    rows = store.curation_rows(BUNDLED, "outcomes", ["Salama2014"])
    return [r for r in rows.to_dict("records") if r["time_point"] == "12 weeks"]


def test_form_is_generated_from_protocol_and_schema(served, as_user) -> None:
    _, client = served
    as_user("ana")
    page = client.get(f"{URL}?sheet=outcomes").text
    for field in ("study_id", "arm_id", "outcome", "time_weeks", "mean", "sd", "source",
                  "location"):  # fmt: skip
        assert f'id="in-{field}"' in page
    assert '<option value="meld"' in page and '<option value="Fang2018"' in page
    assert 'id="in-derivation"' not in page  # filled by the loader, never typed


def test_bad_values_are_shown_at_their_fields_and_nothing_is_stored(served, as_user) -> None:
    store, client = served
    token = as_user("ana")
    before = store.dump()
    resp = client.post(URL, data={**ROW, "csrf": token, "mean": "fourteen", "sd": "-3"})
    assert resp.status_code == 422
    page = resp.text
    mean = page[page.index('id="field-mean"'):page.index('id="field-sd"')]
    assert "must be a number" in mean
    sd = page[page.index('id="field-sd"'):page.index('id="field-se"')]
    assert "field-error" in sd
    assert 'value="fourteen"' in page  # what the person typed stays in the form
    assert store.dump() == before


def test_a_number_without_its_location_is_refused(served, as_user) -> None:
    store, client = served
    token = as_user("ana")
    before = store.dump()
    resp = client.post(URL, data={**ROW, "csrf": token, "location": ""})
    assert resp.status_code == 422
    page = resp.text
    loc = page[page.index('id="field-location"'):]
    assert "table/page" in loc
    assert store.dump() == before


def test_a_valid_form_stores_the_row_with_provenance_and_audit(served, as_user) -> None:
    store, client = served
    token = as_user("ana")
    n_before = len(store.curation_rows(BUNDLED, "outcomes", ["Salama2014"]))
    resp = client.post(URL, data={**ROW, "csrf": token})
    assert resp.status_code == 200 and 'id="saved"' in resp.text
    [row] = _stored(store)
    assert (row["mean"], row["sd"], row["source"], row["location"]) == (
        14.2, 3.1, "https://doi.org/10.1186/scrt459", "Table 2, page 777")
    # the study's other outcome rows are kept
    after = store.curation_rows(BUNDLED, "outcomes", ["Salama2014"])
    assert n_before == 6 and len(after) == 7
    kept = after[(after["outcome"] == "albumin") & (after["arm_id"] == "msc")]
    assert kept["mean"].tolist() == [2.59]  # Salama 2014 Table 1, as bundled
    audit = [a for a in store.curation_history("Salama2014", BUNDLED) if a["column_name"] == "mean"
             and a["new_value"] == "14.2"]  # fmt: skip
    assert audit and audit[0]["curator"] == "ana" and "web-entries" in audit[0]["origin"]


def test_kept_entry_csv_quotes_formula_cells_and_stores_the_text(served, as_user) -> None:
    """OWASP CSV injection: the entry kept beside the database may be opened in a spreadsheet."""
    store, client = served
    token = as_user("ana")
    hostile = "=HYPERLINK(\"http://x\")"
    resp = client.post(URL, data={**ROW, "csrf": token, "location": hostile})
    assert resp.status_code == 200 and 'id="saved"' in resp.text
    [row] = _stored(store)
    assert row["location"] == hostile  # stored as typed ...
    kept = [p for p in store.path.parent.rglob("web-entries/**/outcomes.csv")]
    assert kept and all(hostile not in p.read_text().replace("'" + hostile, "") for p in kept)
    assert any("'" + hostile.replace('"', '""') in p.read_text() for p in kept)  # ... quoted
