"""`registry screen next`: the interactive loop driven by typed input (CliRunner)."""

from __future__ import annotations

from typer.testing import CliRunner

from registry.cli import app
from registry.store import Store

from .screening_helpers import REVIEW, rec


def _run(db: str, args: list[str], keys: str):
    return CliRunner().invoke(
        app, ["screen", "next", *args], input=keys, env={"REGISTRY_DB": db, "COLUMNS": "120"}
    )


def test_interactive_title_abstract_then_full_text(store: Store, reviews, search) -> None:
    ids = search(
        store,
        [
            rec("1", "Randomized MSC trial in cirrhosis", journal="Hepatology", year=2016,
                abstract="Patients were randomised to [bold]MSC[/bold] or control.",
                publication_types=["Randomized Controlled Trial"]),
            rec("2", "Mesenchymal cells in mice", year=2015),
            rec("3", "Editorial", year=2014),
            rec("4", "Letter", year=2013),
        ],
    )  # fmt: skip
    db = str(store.path)
    store.close()
    # Queue order by score: 1 (RCT+keywords), 2 (keyword), then 3, 4 (ties by record_id).
    # "x" is an unknown key (asked again); "e animal study" excludes with a note;
    # "s" skips record 3; "q" quits before record 4.
    res = _run(db, ["--review", REVIEW], "i\nx\ne animal study\ns\nq\n")
    assert res.exit_code == 0, res.output
    out = res.output
    assert "Randomized MSC trial in cirrhosis" in out
    assert "Hepatology · 2016 · PMID 1" in out
    # RCT publication type +3; keywords "cirrhosis" and "randomi" in title/abstract +1 +1.
    assert "score 5: RCT (publication type) +3; keywords (cirrhosis, randomi) +2" in out
    assert "[bold]MSC[/bold]" in out  # record text is shown literally, never as markup
    assert "unknown key 'x'" in out
    assert "(i)nclude (e)xclude (m)aybe (s)kip (q)uit" in out
    assert "2 decided, 1 skipped, 2 still waiting" in out
    with Store(db) as s:
        got = [(d["source_id"], d["decision"], d["note"], d["via"], d["reviewer"])
               for d in s.screening_decisions(REVIEW)]  # fmt: skip
    assert got == [
        ("1", "include", None, "interactive", "tester"),
        ("2", "exclude", "animal study", "interactive", "tester"),
    ]
    # Full text of record 1: exclude asks for a reason from the numbered list; an
    # out-of-range number is asked again; 2 = not_msc (protocol order).
    res = _run(db, ["--review", REVIEW, "--stage", "ft", "--reviewer", "zoe"], "e\n9\n2\n")
    assert res.exit_code == 0, res.output
    assert "1. Not a randomised controlled trial [not_rct]" in res.output
    assert "choose 1-3" in res.output
    with Store(db) as s:
        last = s.screening_decisions(REVIEW, "full_text")[-1]
        assert (last["record_id"], last["decision"], last["reason"], last["reviewer"]) == (
            ids["1"],
            "exclude",
            "not_msc",
            "zoe",
        )
        assert last["reason_label"] == "Intervention is not MSC therapy"


def test_interactive_full_text_include_links_study(store: Store, reviews, search) -> None:
    ids = search(store, [rec("1", "Trial report")])
    from registry.screening import record_decision, screening_summary

    record_decision(store, REVIEW, "ta", ids["1"], "include")
    db = str(store.path)
    store.close()
    res = _run(db, ["--stage", "full_text"], "i\nSuk2016\n")  # review found from the store
    assert res.exit_code == 0, res.output
    with Store(db) as s:
        summary = screening_summary(s, REVIEW)
    assert [i["study_id"] for i in summary["included"]] == ["Suk2016"]


def test_interactive_not_retrieved_only_at_full_text(store: Store, reviews, search) -> None:
    ids = search(store, [rec("1", "Trial report")])
    db = str(store.path)
    store.close()
    res = _run(db, [], "n\ni\n")  # "n" is no key at title/abstract: asked again
    assert "unknown key 'n'" in res.output
    res = _run(db, ["--stage", "ft"], "n\n")
    assert "(n)ot retrieved" in res.output
    with Store(db) as s:
        assert [
            (d["record_id"], d["stage"], d["decision"]) for d in s.screening_decisions(REVIEW)
        ] == [
            (ids["1"], "title_abstract", "include"),
            (ids["1"], "full_text", "not_retrieved"),
        ]


def test_interactive_nothing_to_do_and_input_end(store: Store, reviews, search) -> None:
    search(store, [rec("1", "Only one")])
    db = str(store.path)
    store.close()
    res = _run(db, [], "")  # input ends at once: nothing decided, nothing lost
    assert res.exit_code == 0, res.output
    assert "0 decided, 0 skipped, 1 still waiting" in res.output
    res = _run(db, ["--stage", "ft"], "")
    assert "nothing waiting for tester at full_text" in res.output
