"""Benchmark: 100,000 records imported through the store verb and deduplicated.

Records are synthesised from the real fixture records in ../shared/fixtures/pubmed (every
file the parsers read): each *work* takes a real record as template and gets a title of
its own (about 40 % of its significant words swapped for words from the fixtures'
vocabulary, so works made from one template are near misses of each other), a random year,
fresh PMID and DOI. About 10 % of the records are planted duplicates of another work in a
different source (pubmed / embase / wos): a third share the PMID, a third share the DOI
(upper case, resolver prefix), a third share no identifier and carry title perturbations
(case, punctuation, diacritics, a typo, a dropped word), "Surname, I." authors and the
journal's other spelling.

Prints time for import and dedup against the named baseline "2-minute target" (issue 2),
precision/recall of the clusters against the planted duplicates, and incremental runs.

    .venv/bin/python bench/bench_dedup.py [--n 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ingest.detect import parse_file  # noqa: E402
from ingest.records import Record  # noqa: E402
from registry.dedup import STOPWORDS, deduplicate  # noqa: E402
from registry.store import Store  # noqa: E402

SHARED = Path(os.environ.get("REGISTRY_SHARED", REPO.parent / "shared"))
FIXTURES = SHARED / "fixtures" / "pubmed"
TARGET_SECONDS = 120.0  # issue 2: "100,000 records imported and deduplicated in under 2 minutes"
SOURCES = ("pubmed", "embase", "wos")
ACCENT = str.maketrans({"e": "é", "a": "à", "o": "ö", "u": "ü", "i": "ï"})


def load_templates() -> list[Record]:
    """Every parsable record in the fixtures that has a title and at least one author."""
    out: list[Record] = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.name in ("SOURCES.md", "SHA256SUMS", ".gitattributes"):
            continue
        if re.match(r"(esearch|einfo|esummary|elink|epost|espell)", path.name):
            continue
        try:
            for item in parse_file(path):
                if isinstance(item, Record) and item.title and item.authors:
                    out.append(item)
        except Exception:  # noqa: BLE001 - a file the parsers reject is simply not a template
            continue
    return out


def fresh_title(rng: random.Random, title: str, vocab: list[str]) -> str:
    words = title.rstrip(".").split()
    for i, w in enumerate(words):
        if w.lower() not in STOPWORDS and rng.random() < 0.4:
            words[i] = rng.choice(vocab)
    return " ".join(words) + "."


def perturb(rng: random.Random, title: str) -> str:
    """One to three changes a database or a typist makes to a title."""
    t = title
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        words = t.split()
        if op == 0:
            t = t.upper() if rng.random() < 0.5 else t.lower()
        elif op == 1:
            t = re.sub(r"[:;,.()\-]", " ", t)
        elif op == 2:
            i = rng.randrange(len(words))
            words[i] = words[i].translate(ACCENT)
            t = " ".join(words)
        elif op == 3:
            long_ = [i for i, w in enumerate(words) if len(w) > 5]
            if long_:
                i = rng.choice(long_)
                w = words[i]
                j = rng.randrange(1, len(w) - 2)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
                t = " ".join(words)
        elif op == 4 and len(words) > 8:
            del words[rng.randrange(1, len(words))]
            t = " ".join(words)
        else:
            t = t.rstrip(".")
    return t


def ris_author(name: str) -> str:
    parts = name.rsplit(" ", 1)
    if len(parts) == 2 and parts[1].isupper():
        return f"{parts[0]}, {'. '.join(parts[1])}."
    return name


def synthesise(n: int, seed: int) -> tuple[dict[str, list[Record]], set[frozenset[tuple]]]:
    """Records per source and the planted duplicate pairs as {(source, source_id), ...}."""
    rng = random.Random(seed)
    templates = load_templates()
    vocab = sorted({
        w for t in templates for w in re.findall(r"[A-Za-z]{4,}", t.title)
        if w.lower() not in STOPWORDS
    })
    n_dup = n // 10
    n_work = n - n_dup
    by_source: dict[str, list[Record]] = {s: [] for s in SOURCES}
    works: list[tuple[str, Record]] = []
    for i in range(n_work):
        t = templates[i % len(templates)]
        source = rng.choices(SOURCES, weights=(5, 3, 2))[0]
        year = rng.randint(1975, 2025)
        rec = Record(
            source=source,
            source_id=None,
            title=fresh_title(rng, t.title, vocab),
            authors=list(t.authors[:6]) if rng.random() < 0.5 else
            [rng.choice(templates).authors[0]] + list(t.authors[1:6]),
            journal=t.journal,
            journal_abbrev=t.journal_abbrev if source == "pubmed" else None,
            issn=t.issn,
            volume=str(rng.randint(1, 120)),
            issue=str(rng.randint(1, 12)),
            pages=f"{rng.randint(1, 2000)}-{rng.randint(2001, 2100)}",
            year=year,
            abstract=t.abstract,
            publication_types=list(t.publication_types) if source == "pubmed" else [],
            mesh_terms=list(t.mesh_terms),
            languages=list(t.languages),
        )
        if source == "pubmed":
            rec.pmid = str(40_000_000 + i)
            rec.source_id = rec.pmid
        else:
            rec.source_id = f"{source[:1].upper()}{10_000_000 + i}"
            if rng.random() < 0.3:
                rec.pmid = str(40_000_000 + i)  # Embase/WoS often list the PMID
        if rng.random() < 0.8:
            rec.doi = f"10.9999/bench.{i}"
        by_source[source].append(rec)
        works.append((source, rec))
    groups: dict[tuple, set[tuple]] = {}
    for j in range(n_dup):
        source, orig = rng.choice(works)
        target = rng.choice([s for s in SOURCES if s != source])
        kind = rng.randrange(3)
        dup = Record(
            source=target,
            source_id=f"D{target[:1].upper()}{j}",
            title=orig.title,
            authors=[ris_author(a) for a in orig.authors],
            journal=orig.journal_abbrev if (orig.journal_abbrev and rng.random() < 0.5)
            else orig.journal,
            issn=orig.issn if rng.random() < 0.5 else None,
            volume=orig.volume,
            pages=orig.pages,
            year=orig.year,
            abstract=orig.abstract if rng.random() < 0.7 else None,
            languages=list(orig.languages),
        )
        if target == "pubmed":
            # A second PubMed copy of a work from another source: it has a PMID of its own
            # only if the original had none (otherwise it is the same citation).
            dup.pmid = orig.pmid or str(60_000_000 + j)
            dup.source_id = dup.pmid if not orig.pmid else f"DP{j}"
        if kind == 0 and orig.pmid:
            dup.pmid = orig.pmid
        elif kind == 1 and orig.doi:
            dup.doi = "https://doi.org/" + orig.doi.upper()
        else:
            dup.doi = None
            dup.title = perturb(rng, orig.title)
            if rng.random() < 0.1 and dup.year:
                dup.year += rng.choice((-1, 1))
            if rng.random() < 0.05:
                dup.authors = []
        if target == "pubmed" and orig.pmid and dup.pmid == orig.pmid:
            dup.source_id = f"DP{j}"
        by_source[target].append(dup)
        groups.setdefault((source, orig.source_id), {(source, orig.source_id)}).add(
            (target, dup.source_id))
    # A work copied twice gives three true pairs (the copies are duplicates of each other).
    truth: set[frozenset[tuple]] = set()
    for members in groups.values():
        ms = sorted(members)
        truth.update(frozenset({a, b}) for i, a in enumerate(ms) for b in ms[i + 1:])
    return by_source, truth


def cluster_pairs(store: Store) -> set[frozenset[tuple]]:
    rows = store._rows(
        "SELECT c.cluster_id, r.source, r.source_id FROM v_record_cluster c "
        "JOIN records r USING (record_id) WHERE c.cluster_id IN "
        "(SELECT cluster_id FROM v_record_cluster GROUP BY 1 HAVING count(*) > 1)"
    )
    groups: dict[int, list[tuple]] = {}
    for cid, s, sid in rows:
        groups.setdefault(cid, []).append((s, sid))
    out: set[frozenset[tuple]] = set()
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                out.add(frozenset({a, b}))
    return out


def import_all(store: Store, by_source: dict[str, list[Record]], batch: int = 20_000) -> None:
    for source, recs in by_source.items():
        run = store.record_search_run(source=source, kind="import", tool_version="bench",
                                      review="bench")
        for i in range(0, len(recs), batch):
            store.add_records(recs[i:i + batch], run_id=run)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    t = time.perf_counter()
    by_source, truth = synthesise(args.n, args.seed)
    n = sum(len(v) for v in by_source.values())
    print(f"synthesised {n} records ({', '.join(f'{s} {len(v)}' for s, v in by_source.items())})"
          f", {len(truth)} planted duplicate pairs, in {time.perf_counter() - t:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        t0, c0 = time.perf_counter(), time.process_time()
        import_all(store, by_source)
        t_import, c_import = time.perf_counter() - t0, time.process_time() - c0
        t1, c1 = time.perf_counter(), time.process_time()
        res = deduplicate(store)
        t_dedup, c_dedup = time.perf_counter() - t1, time.process_time() - c1
        total = t_import + t_dedup
        load = os.getloadavg()[0]
        print(f"import (store verb add_records): {t_import:6.1f} s wall, {c_import:6.1f} s CPU")
        print(f"dedup:                           {t_dedup:6.1f} s wall, {c_dedup:6.1f} s CPU"
              f"  stages {res.stages}")
        print(f"import + dedup:                  {total:6.1f} s wall = "
              f"{total / TARGET_SECONDS:.2f} x the 2-minute target (baseline: "
              f"{TARGET_SECONDS:.0f} s; < 1 passes); CPU {c_import + c_dedup:.1f} s; "
              f"load average {load:.1f} on {os.cpu_count()} cores")
        print(f"links: {res.hard_links} hard-key, {res.fuzzy_links} fuzzy; {res.queued} queued;"
              f" {res.candidates} fuzzy candidate pairs scored")

        found = cluster_pairs(store)
        tp = len(found & truth)
        precision = tp / len(found) if found else 1.0
        recall = tp / len(truth) if truth else 1.0
        print(f"auto clusters vs planted pairs: precision {precision:.4f}, recall {recall:.4f} "
              f"({tp} of {len(truth)} planted found, {len(found) - tp} extra pair(s))")
        pending = store.dedup_pending()
        queued = {frozenset({(p["source_a"], p["source_id_a"]), (p["source_b"], p["source_id_b"])})
                  for p in pending}
        qtp = len(queued & truth)
        print(f"uncertain queue: {len(queued)} pair(s), {qtp} of them planted duplicates; "
              f"recall counting queued as found: {(tp + qtp) / len(truth):.4f}")

        # Incremental: 1 % more records, a tenth of them duplicates of stored works.
        more, more_truth = synthesise(args.n // 100, args.seed + 1)
        for recs in more.values():
            for r in recs:
                r.source_id = "inc-" + str(r.source_id)
                if r.pmid:
                    r.pmid = "9" + r.pmid
        import_all(store, more)
        t2, c2 = time.perf_counter(), time.process_time()
        res2 = deduplicate(store)
        print(f"incremental: {sum(len(v) for v in more.values())} new records deduplicated "
              f"against {n} in {time.perf_counter() - t2:.1f} s wall, "
              f"{time.process_time() - c2:.1f} s CPU (examined {res2.examined}, "
              f"{res2.candidates} candidate pairs) stages {res2.stages}")
        t3 = time.perf_counter()
        res3 = deduplicate(store)
        print(f"re-run with nothing new: {time.perf_counter() - t3:.2f} s, "
              f"changed={res3.changed}, examined {res3.examined}")
        store.close()


if __name__ == "__main__":
    main()
