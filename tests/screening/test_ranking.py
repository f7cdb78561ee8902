"""The transparent ranking score, on hand-made records whose score parts are worked out
by hand from the weights documented in registry/screening/ranking.py:
RCT publication type +3, each protocol MeSH descriptor matched +2, each protocol keyword
found in title/abstract +1, a trial registry id +1, retracted -5."""

from __future__ import annotations

from registry.screening import ScreeningConfig, score_record, screening_queue
from registry.store import Store

from .screening_helpers import REVIEW, rec

CONFIG = ScreeningConfig(
    review=REVIEW,
    keywords=("mesenchymal", "cirrhosis", "randomi"),
    mesh=("Mesenchymal Stem Cell Transplantation", "Liver Cirrhosis"),
)


def test_ranking_order_and_parts(store: Store, reviews, search) -> None:
    records = [
        # R4 "nothing": no signal at all                                  -> 0
        rec("4", "Hepatology practice survey", abstract="A questionnaire."),
        # R1: RCT +3; MeSH both (major-topic star and qualifier stripped) +2+2;
        # keywords mesenchymal, cirrhosis, randomi +1+1+1; NCT id +1      -> 11
        rec(
            "1",
            "Randomized trial of mesenchymal stem cells in cirrhosis",
            publication_types=["Journal Article", "Randomized Controlled Trial"],
            mesh_terms=["*Mesenchymal Stem Cell Transplantation", "Liver Cirrhosis/therapy"],
            registry_ids=["NCT01877759"],
        ),
        # R2: MeSH Liver Cirrhosis +2; keyword cirrhosis (title, any case) +1   -> 3
        rec("2", "CIRRHOSIS outcomes in a cohort", mesh_terms=["Liver Cirrhosis", "Humans"]),
        # R3: RCT +3; keywords randomi ("randomised"), cirrhosis +1+1; retracted -5 -> 0
        rec(
            "3",
            "A randomised study in cirrhosis",
            publication_types=["Randomized Controlled Trial"],
            retracted=True,
        ),
        # R5: keyword mesenchymal found in the abstract only +1                -> 1
        rec("5", "Cell therapy report", abstract="Bone marrow mesenchymal cells were given."),
    ]
    ids = search(store, records)
    queue = screening_queue(store, REVIEW)
    got = [(it.record["source_id"], it.score.total) for it in queue]
    # R3 and R4 tie at 0: the tie breaks on record_id, and R4 was stored first.
    assert got == [("1", 11), ("2", 3), ("5", 1), ("4", 0), ("3", 0)]
    assert ids["4"] < ids["3"]
    parts = {it.record["source_id"]: it.score for it in queue}
    assert parts["1"].explain() == (
        "RCT (publication type) +3; "
        "MeSH (Mesenchymal Stem Cell Transplantation, Liver Cirrhosis) +4; "
        "keywords (mesenchymal, cirrhosis, randomi) +3; registry id (NCT01877759) +1"
    )
    assert parts["3"].retracted and parts["3"].explain().endswith("RETRACTED -5")
    assert parts["4"].explain() == "no signal"


def test_keyword_and_mesh_matching_is_exact_per_descriptor() -> None:
    # "Liver Cirrhosis, Experimental" is a different descriptor: no MeSH points.
    # No keyword occurs in title or abstract (journal names are not searched).
    r = {
        "record_id": 1,
        "title": "Stem cells in rats",
        "abstract": None,
        "journal": "Cirrhosis Journal",
        "mesh_terms": ["Liver Cirrhosis, Experimental"],
        "publication_types": ["Clinical Trial"],
        "registry_ids": [],
        "retracted": False,
    }
    assert score_record(r, CONFIG).total == 0
