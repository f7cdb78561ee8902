"""Benchmark: import + dedup of synthetic efetch XML and RIS exports with known duplicates.

Works are synthesised from the real fixture records in ../shared/fixtures/pubmed: each work
takes a real record as template and gets a title of its own (about 40 % of its significant
words swapped for words from the fixtures' vocabulary, a third with a subtitle), a year,
PMID, DOI and pages. PubMed copies are written as an efetch XML file, Embase and Web of
Science copies as RIS files; every file goes through ``registry.intake.files.import_file`` (the
real import path) into a fresh store, then ``deduplicate`` runs once.

About 15 % of the records are planted duplicates of a work, copied into another database
the way databases copy: title case or punctuation changed, a typo, diacritics, the title
cut short, the subtitle dropped; DOI missing, in upper case or as a resolver URL; PMID kept
or not; pages as "349-69", "349-369" or the start page only; year +- 1; authors as
"Surname, I. I.", "Surname, Forename" or missing; the journal's other spelling. About 1 %
of the works have a companion paper ("Part 1" / "Part 2", same authors, journal and year)
that must stay apart. Precision and recall count the pairs inside the clusters dedup built
automatically against the planted pairs (a companion pair merged is a false pair).

Each size runs in a child process (files written first, then a fresh process imports and
deduplicates), so the CPU time and peak RSS printed are those of import + dedup alone. The
anchor is the bare parse of the same files (``ingest.detect.parse_file``, nothing stored)
in that child. Targets (issue 11): 200k <= 60 s CPU, growth exponent <= 1.10 from 50k to
200k, peak RSS <= 1.5 GB, precision >= 0.999, recall >= 0.98.

    .venv/bin/python bench/bench_dedup.py                 # 50k and 200k
    .venv/bin/python bench/bench_dedup.py --n 1000000     # adds a million-record run
    .venv/bin/python bench/bench_dedup.py --sizes 5000    # a quick look
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ingest.detect import parse_file  # noqa: E402
from ingest.records import Record  # noqa: E402
from ingest.sources import canonical_source  # noqa: E402
from registry.dedup import STOPWORDS  # noqa: E402

SHARED = Path(os.environ.get("REGISTRY_SHARED", REPO.parent / "shared"))
FIXTURES = SHARED / "fixtures" / "pubmed"
TARGET_CPU_200K = 60.0
SOURCES = ("pubmed", "embase", "wos")
ACCENT = str.maketrans({"e": "é", "a": "à", "o": "ö", "u": "ü", "i": "ï"})
SUBTITLES = (
    "a randomized controlled trial", "a prospective multicentre cohort study",
    "results from a nationwide registry", "a systematic review and meta-analysis",
    "a pilot study in primary care", "a retrospective analysis of hospital records",
    "the {w} experience", "lessons from the {w} programme", "evidence from {w} hospitals",
)
Key = tuple[str, str]


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


# -- works and their copies -------------------------------------------------------------------
def fresh_title(rng: random.Random, title: str, vocab: list[str]) -> str:
    """A new title on the template's pattern, a third of them with a subtitle."""
    words = title.rstrip(".").split(":")[0].split()
    for i, w in enumerate(words):
        if w.lower() not in STOPWORDS and rng.random() < 0.4:
            words[i] = rng.choice(vocab)
    main = " ".join(words)
    if rng.random() < 0.33:
        main += ": " + rng.choice(SUBTITLES).format(w=rng.choice(vocab))
    return main + "."


def perturb_title(rng: random.Random, title: str, ops: int = 7) -> str:
    """One or two changes a database or a typist makes to a title (the first ``ops`` kinds:
    a companion paper's copy keeps its "Part 1", or nothing could tell it from Part 2)."""
    t = title
    for _ in range(rng.randint(1, 2)):
        op = rng.randrange(ops)
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
            long_ = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
            if long_:
                i = rng.choice(long_)
                w = words[i]
                j = rng.randrange(1, len(w) - 2)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
                t = " ".join(words)
        elif op == 4 and ":" in t:
            t = t.split(":")[0]  # subtitle dropped
        elif op == 5 and len(t) > 70:
            t = t[: rng.randint(int(len(t) * 0.65), len(t) - 5)]  # cut short
        else:
            t = t.rstrip(".")
    return t


def author_variant(rng: random.Random, name: str) -> str:
    """"Smith JA" as another database writes it."""
    parts = name.rsplit(" ", 1)
    if len(parts) != 2 or not parts[1].isupper():
        return name
    surname, initials = parts
    form = rng.randrange(3)
    if form == 0:
        return f"{surname}, {'. '.join(initials)}."
    if form == 1:
        return f"{surname}, {initials}"
    return f"{surname}, {initials[0]}{'abcdefghij'[len(surname) % 10:][:5]}"


def page_variant(rng: random.Random, first: int, last: int) -> tuple[str, str | None]:
    """(SP, EP) as RIS carries them, in one of the formats databases use."""
    form = rng.randrange(3)
    if form == 0:
        return str(first), str(last)
    if form == 1:
        return f"{first}-{str(last)[-2:]}", None
    return str(first), None


def make_work(rng: random.Random, i: int, t: Record, vocab: list[str]) -> dict:
    first = rng.randint(1, 2000)
    return {
        "work": i, "title": fresh_title(rng, t.title, vocab),
        "authors": list(t.authors[:6]) if rng.random() < 0.5 else
        [f"{rng.choice(vocab).title()} {rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}"]
        + list(t.authors[1:6]),
        "journal": t.journal, "abbrev": t.journal_abbrev or t.journal, "issn": t.issn,
        "volume": str(rng.randint(1, 120)), "issue": str(rng.randint(1, 12)),
        "first": first, "last": first + rng.randint(3, 15), "year": rng.randint(1975, 2025),
        "abstract": t.abstract, "pmid": str(40_000_000 + i), "doi": f"10.9999/bench.{i}",
    }


def companion(rng: random.Random, w: dict, i: int) -> tuple[dict, dict]:
    """Part 1 and Part 2 of one study: same authors, journal, year; own pages and ids."""
    base = w["title"].split(":")[0].rstrip(".")
    style = rng.randrange(3)
    labels = [("Part 1", "Part 2"), ("Part I", "Part II"), ("part one", "part two")][style]
    one = dict(w, title=f"{base}: {labels[0]}.", companion=True)
    two = dict(w, work=i, companion=True, title=f"{base}: {labels[1]}.", pmid=str(40_000_000 + i),
               doi=f"10.9999/bench.{i}", first=w["last"] + 1, last=w["last"] + 12)
    return one, two


def copy_of(rng: random.Random, w: dict, target: str, j: int) -> dict:
    """A planted duplicate of work ``w`` in database ``target``."""
    c = dict(w, source=target, authors=list(w["pubmed_authors"]))
    if target != "pubmed":
        c["authors"] = [author_variant(rng, a) for a in w["pubmed_authors"]]
    c["source_id"] = f"D{target[:1].upper()}{j}"
    kind = rng.randrange(3)
    if kind == 0:  # the other database lists the PMID and the DOI as a resolver URL
        c["doi"] = "https://doi.org/" + w["doi"].upper()
    elif kind == 1:  # DOI only
        c["pmid"] = None
    else:  # no identifier at all: the fuzzy step must find it
        c["pmid"] = c["doi"] = None
    if rng.random() < 0.85:
        c["title"] = perturb_title(rng, w["title"], 4 if w.get("companion") else 7)
    if rng.random() < 0.1:
        c["year"] = w["year"] + rng.choice((-1, 1))
    if rng.random() < 0.05:
        c["authors"] = []
    if rng.random() < 0.5:
        c["journal"] = w["abbrev"]
    c["pages"] = page_variant(rng, w["first"], w["last"])
    return c


def synthesise(n: int, seed: int) -> tuple[dict[str, list[dict]], set[frozenset[Key]]]:
    """Records per source and the planted duplicate pairs as {(source, source_id), ...}."""
    rng = random.Random(seed)
    templates = load_templates()
    vocab = sorted({w for t in templates for w in re.findall(r"[A-Za-z]{4,}", t.title)
                    if w.lower() not in STOPWORDS})
    n_dup = int(n * 0.15)
    works: list[dict] = []
    i = 0
    while len(works) < n - n_dup:
        w = make_work(rng, i, templates[i % len(templates)], vocab)
        i += 1
        if rng.random() < 0.01:
            one, two = companion(rng, w, i)
            i += 1
            works += [one, two]
        else:
            works.append(w)
    by_source: dict[str, list[dict]] = {s: [] for s in SOURCES}
    for w in works:
        w["source"] = rng.choices(SOURCES, weights=(5, 3, 2))[0]
        w["source_id"] = w["pmid"] if w["source"] == "pubmed" else f"{w['source'][0]}{w['work']}"
        if w["source"] != "pubmed" and rng.random() < 0.7:
            w["pmid"] = None
        w["pages"] = (f"{w['first']}-{w['last']}", None)
        w["pubmed_authors"] = w["authors"]
        if w["source"] != "pubmed":
            w["authors"] = [author_variant(rng, a) for a in w["authors"]]
        by_source[w["source"]].append(w)
    groups: dict[int, set[Key]] = {}
    in_pubmed = {w["pmid"] for w in by_source["pubmed"]}
    for j in range(n_dup):
        w = rng.choice(works)
        targets = [s for s in SOURCES if s != w["source"]]
        if w["pmid"] in in_pubmed and "pubmed" in targets:
            targets.remove("pubmed")  # PubMed holds one citation per PMID
        target = rng.choice(targets)
        c = copy_of(rng, w, target, j)
        if target == "pubmed":
            # A PubMed copy carries the work's PMID (as Embase listed it) or its own.
            c["pmid"] = c["source_id"] = w["pmid"] or str(60_000_000 + j)
            in_pubmed.add(c["pmid"])
        by_source[target].append(c)
        groups.setdefault(w["work"], {(w["source"], w["source_id"])}).add(
            (target, c["source_id"]))
    truth: set[frozenset[Key]] = set()
    for members in groups.values():
        ms = sorted(members)
        truth.update(frozenset({a, b}) for k, a in enumerate(ms) for b in ms[k + 1:])
    return by_source, truth


# -- files ------------------------------------------------------------------------------------
def xml_article(r: dict) -> str:
    """One efetch PubmedArticle."""
    authors = "".join(
        f"<Author ValidYN=\"Y\"><LastName>{escape(a.rsplit(' ', 1)[0])}</LastName>"
        f"<Initials>{escape(a.rsplit(' ', 1)[-1])}</Initials></Author>" for a in r["authors"])
    sp, ep = r["pages"]
    doi = f'<ELocationID EIdType="doi" ValidYN="Y">{escape(r["doi"])}</ELocationID>' \
        if r["doi"] else ""
    pmid = r["pmid"] or r["source_id"]
    return (
        f"<PubmedArticle><MedlineCitation Status=\"MEDLINE\" Owner=\"NLM\">"
        f"<PMID Version=\"1\">{pmid}</PMID><Article PubModel=\"Print\"><Journal>"
        f"<ISSN IssnType=\"Print\">{escape(r['issn'] or '')}</ISSN>"
        f"<JournalIssue CitedMedium=\"Print\"><Volume>{r['volume']}</Volume>"
        f"<Issue>{r['issue']}</Issue><PubDate><Year>{r['year']}</Year></PubDate></JournalIssue>"
        f"<Title>{escape(r['journal'] or '')}</Title>"
        f"<ISOAbbreviation>{escape(r['abbrev'] or '')}</ISOAbbreviation></Journal>"
        f"<ArticleTitle>{escape(r['title'])}</ArticleTitle>"
        f"<Pagination><MedlinePgn>{sp}{'-' + ep if ep else ''}</MedlinePgn></Pagination>{doi}"
        f"<Abstract><AbstractText>{escape(r['abstract'] or '')}</AbstractText></Abstract>"
        f"<AuthorList CompleteYN=\"Y\">{authors}</AuthorList><Language>eng</Language>"
        f"<PublicationTypeList><PublicationType UI=\"D016428\">Journal Article"
        f"</PublicationType></PublicationTypeList></Article></MedlineCitation>"
        f"<PubmedData><ArticleIdList><ArticleId IdType=\"pubmed\">{pmid}</ArticleId>"
        + (f"<ArticleId IdType=\"doi\">{escape(r['doi'])}</ArticleId>" if r["doi"] else "")
        + "</ArticleIdList></PubmedData></PubmedArticle>\n"
    )


def ris_entry(r: dict) -> str:
    """One RIS record as Embase / Web of Science export it."""
    sp, ep = r["pages"]
    lines = ["TY  - JOUR", f"TI  - {r['title']}"]
    lines += [f"AU  - {a}" for a in r["authors"]]
    lines += [f"PY  - {r['year']}", f"T2  - {r['journal'] or ''}", f"VL  - {r['volume']}",
              f"IS  - {r['issue']}", f"SP  - {sp}", f"AN  - {r['source_id']}"]
    if ep:
        lines.append(f"EP  - {ep}")
    if r["doi"]:
        lines.append(f"DO  - {r['doi']}")
    if r["pmid"]:
        lines.append(f"N1  - PMID: {r['pmid']}")
    if r["abstract"]:
        lines.append(f"AB  - {r['abstract']}")
    lines += ["ER  - ", ""]
    return "\n".join(lines) + "\n"


def write_files(folder: Path, by_source: dict[str, list[dict]]) -> list[tuple[Path, str]]:
    files = []
    for source, recs in by_source.items():
        if source == "pubmed":
            path = folder / "pubmed_efetch.xml"
            with path.open("w", encoding="utf-8") as fh:
                fh.write('<?xml version="1.0" ?>\n<PubmedArticleSet>\n')
                fh.writelines(xml_article(r) for r in recs)
                fh.write("</PubmedArticleSet>\n")
        else:
            path = folder / f"{source}.ris"
            with path.open("w", encoding="utf-8") as fh:
                fh.writelines(ris_entry(r) for r in recs)
        files.append((path, source))
    return files


# -- the measured child -----------------------------------------------------------------------
def cluster_pairs(store: object) -> set[frozenset[Key]]:
    groups: dict[int, list[Key]] = {}
    for source, sid, _rid, cid, _primary, size, _deleted in store.dedup_cluster_rows():
        if size > 1:
            groups.setdefault(cid, []).append((source, sid))
    return {frozenset({a, b}) for ms in groups.values()
            for k, a in enumerate(ms) for b in ms[k + 1:]}


def status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (Linux), in MB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def reset_peak_rss() -> float | None:
    """Reset this process's peak RSS (Linux: clear_refs 5) so the dedup step's own peak
    can be read afterwards (VmHWM); returns the RSS now."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return None
    return status_mb("VmRSS")


def run_child(folder: Path) -> dict:
    """Import every file, deduplicate, measure; precision/recall after the measurement."""
    from registry.dedup import deduplicate
    from registry.intake.files import import_file
    from registry.store import Store

    files = [(Path(p), s) for p, s in json.loads((folder / "files.json").read_text())]
    # Linux keeps ru_maxrss across fork and exec: this child would report the parent's
    # peak (the parent synthesised the records: 1.66 GB at a million) as its own. Peaks
    # are read from VmHWM, reset here and again before the dedup step.
    reset_peak_rss()
    c0 = time.process_time()
    n_parsed = sum(1 for p, s in files for _ in parse_file(p, source_name=s))
    c_anchor = time.process_time() - c0
    store = Store(folder / "bench.duckdb")
    c0, w0 = time.process_time(), time.perf_counter()
    for path, source in files:
        import_file(store, path, source=source, review="bench")
    c_import = time.process_time() - c0
    rss_import = status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_before = reset_peak_rss()
    c1 = time.process_time()
    res = deduplicate(store)
    c_dedup = time.process_time() - c1
    wall = time.perf_counter() - w0
    rss_dedup = status_mb("VmHWM")
    rss_mb = max(rss_import, rss_dedup or 0.0)  # the process's peak: the larger step's
    found = cluster_pairs(store)
    # The store names sources canonically ("wos" is stored as "web_of_science").
    truth = {frozenset((canonical_source(s), i) for s, i in pair)
             for pair in pickle.loads((folder / "truth.pickle").read_bytes())}
    tp = len(found & truth)
    store.close()
    return {
        "records": n_parsed, "anchor_cpu": c_anchor, "import_cpu": c_import,
        "dedup_cpu": c_dedup, "wall": wall, "peak_rss_mb": rss_mb, "stages": res.stages,
        "import_rss_mb": rss_import, "rss_before_dedup_mb": rss_before,
        "dedup_rss_mb": rss_dedup,
        "candidates": res.candidates, "windowed_blocks": res.windowed_blocks,
        "hard": res.hard_links, "fuzzy": res.fuzzy_links, "queued": res.queued,
        "precision": tp / len(found) if found else 1.0,
        "recall": tp / len(truth) if truth else 1.0, "extra": len(found) - tp,
        "missed": len(truth) - tp, "truth": len(truth),
    }


def one_size(n: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        by_source, truth = synthesise(n, seed)
        files = write_files(folder, by_source)
        (folder / "files.json").write_text(json.dumps([(str(p), s) for p, s in files]))
        (folder / "truth.pickle").write_bytes(pickle.dumps(truth))
        del by_source, truth
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(folder)], check=True,
            capture_output=True, text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def report(n: int, r: dict) -> None:
    cpu = r["import_cpu"] + r["dedup_cpu"]
    print(f"{n:>9,} records: import {r['import_cpu']:6.1f} s CPU + dedup {r['dedup_cpu']:6.1f} s "
          f"CPU = {cpu:6.1f} s CPU ({r['wall']:.1f} s wall); {cpu / r['anchor_cpu']:.1f} x the "
          f"anchor (bare parse of the same files, {r['anchor_cpu']:.1f} s CPU); peak RSS "
          f"{r['peak_rss_mb']:,.0f} MB")
    if r.get("dedup_rss_mb") is not None:
        print(f"{'':>18}peak RSS: import {r['import_rss_mb']:,.0f} MB; dedup step "
              f"{r['dedup_rss_mb']:,.0f} MB (process RSS {r['rss_before_dedup_mb']:,.0f} MB "
              "when it started)")
    print(f"{'':>18}precision {r['precision']:.4f}, recall {r['recall']:.4f} ({r['missed']} of "
          f"{r['truth']} planted pairs missed, {r['extra']} extra); links {r['hard']} hard, "
          f"{r['fuzzy']} fuzzy; {r['queued']} queued; {r['candidates']:,} candidate pairs; "
          f"{r['windowed_blocks']} oversized block(s) by sorted neighbourhood")
    print(f"{'':>18}dedup stages (s CPU): {r['stages']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[50_000, 200_000])
    ap.add_argument("--n", type=int, default=None, help="one more run at this size")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(run_child(args.child)))
        return
    sizes = list(args.sizes) + ([args.n] if args.n else [])
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at start "
          f"({'under load' if load > 0.5 else 'idle'}); CPU time counts every thread",
          flush=True)
    results = {}
    for n in sizes:
        results[n] = one_size(n, args.seed)
        report(n, results[n])
        sys.stdout.flush()
    if 50_000 in results and 200_000 in results:
        def cpu(n: int, what: str = "both") -> float:
            r = results[n]
            return r["dedup_cpu"] if what == "dedup" else r["import_cpu"] + r["dedup_cpu"]
        k_all = math.log(cpu(200_000) / cpu(50_000)) / math.log(4)
        k_dedup = math.log(cpu(200_000, "dedup") / cpu(50_000, "dedup")) / math.log(4)
        print(f"growth exponent 50k -> 200k: import + dedup {k_all:.2f}, dedup alone "
              f"{k_dedup:.2f} (target <= 1.10); 200k = {cpu(200_000) / TARGET_CPU_200K:.2f} x "
              f"the 60 s CPU target")


if __name__ == "__main__":
    main()
