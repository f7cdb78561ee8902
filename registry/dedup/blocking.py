"""Blocking: which pairs of records are compared at all.

Hard keys (PMID, DOI, PMCID) link directly (:func:`hard_key_matches`). For the fuzzy step
every record has a handful of title blocking keys (:func:`registry.dedup.keys.blocking_keys`);
pairs sharing a key with years at most one apart are candidates (:func:`candidate_pairs`).
A block too large to compare all-against-all (a generic title such as "editorial") is not
skipped: its records are sorted by title and each is compared with its
:data:`WINDOW` nearest neighbours (sorted-neighbourhood), and the result says how many
blocks were treated so. Cost is linear in the number of records times the keys per record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from registry.dedup.keys import RecordKey
from registry.dedup.scoring import HIGH, PairScore, title_similarity

# A (block key, year) shared by more records than this is compared by sorted neighbourhood
# instead of all-against-all. Stock phrases make such blocks ("... a randomized controlled
# trial" as the last words): all-against-all there grows with the square of the records.
MAX_BLOCK = 40
_YEARS = 1 << 14  # packing base for (block code, year + 1); years are below 16383
# Neighbours each record of such a block is compared with, after sorting by title.
WINDOW = 25


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs (``pairs``: record_a < record_b) and how many oversized blocks were
    compared by sorted neighbourhood rather than all-against-all."""

    pairs: pd.DataFrame
    windowed_blocks: int = 0


def _block_rows(keys: Iterable[RecordKey]) -> pd.DataFrame:
    """One row per (record, blocking key): record_id, block, year (-1: undated)."""
    ks = list(keys)
    frame = pd.DataFrame({
        "record_id": np.fromiter((k.record_id for k in ks), dtype=np.int64, count=len(ks)),
        "year": np.fromiter((-1 if k.year is None else k.year for k in ks), dtype=np.int64,
                            count=len(ks)),
        "block": [list(k.blocks) for k in ks],
    })
    frame = frame.explode("block", ignore_index=True).dropna(subset=["block"])
    return frame.astype({"record_id": "int64", "year": "int64"})


def _ordered(left: np.ndarray, right: np.ndarray) -> pd.DataFrame:
    """Pairs as record_a < record_b, self-pairs and repeats removed, sorted."""
    keep = left != right
    a, b = left[keep], right[keep]
    out = pd.DataFrame({"record_a": np.minimum(a, b), "record_b": np.maximum(a, b)})
    return out.drop_duplicates().sort_values(["record_a", "record_b"], ignore_index=True)


def _merge_pairs(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """New records' blocks (left) probed against every record's (right), years +-1; an
    undated record on either side matches any year. Blocks are integer codes (``code``)
    and the join key is code and year packed in one int64, so the joins hash integers."""
    def packed(code: pd.Series, year: pd.Series | int) -> np.ndarray:
        years = year if isinstance(year, int) else year.to_numpy(np.int64)
        return code.to_numpy(np.int64) * _YEARS + (years + 1)

    right = pd.DataFrame({"key": packed(right["code"], right["year"]),
                          "code": right["code"].to_numpy(np.int64),
                          "record_id_r": right["record_id"].to_numpy(np.int64)})
    dated = left[left["year"] >= 0]
    undated = left[left["year"] < 0]
    probes = pd.concat(
        [pd.DataFrame({"key": packed(dated["code"], dated["year"] + d),
                       "record_id_l": dated["record_id"].to_numpy(np.int64)})
         for d in (-1, 0, 1)]
        + [pd.DataFrame({"key": packed(dated["code"], -1),
                         "record_id_l": dated["record_id"].to_numpy(np.int64)})],
        ignore_index=True,
    )
    merged = [probes.merge(right[["key", "record_id_r"]], on="key")]
    if not undated.empty:
        merged.append(pd.DataFrame({
            "code": undated["code"].to_numpy(np.int64),
            "record_id_l": undated["record_id"].to_numpy(np.int64),
        }).merge(right[["code", "record_id_r"]], on="code"))
    return pd.concat(merged, ignore_index=True)[["record_id_l", "record_id_r"]]


def _window_pairs(
    rows: pd.DataFrame, keys: Mapping[int, RecordKey], new: set[int], window: int
) -> pd.DataFrame:
    """Sorted-neighbourhood pairs inside oversized blocks: records sorted by title, each
    paired with the next ``window`` records of its block (years +-1, one of them new)."""
    rows = rows.assign(title=[keys[int(r)].title_norm for r in rows["record_id"]])
    rows = rows.sort_values(["code", "title", "record_id"], ignore_index=True)
    ids = rows["record_id"].to_numpy()
    years = rows["year"].to_numpy()
    blocks = rows["code"].to_numpy()
    is_new = np.isin(ids, np.fromiter(new, dtype=np.int64, count=len(new)))
    lefts, rights = [], []
    for off in range(1, min(window, len(ids) - 1) + 1):
        same = blocks[:-off] == blocks[off:]
        ya, yb = years[:-off], years[off:]
        near = (np.abs(ya - yb) <= 1) | (ya < 0) | (yb < 0)
        fresh = is_new[:-off] | is_new[off:]
        hit = np.nonzero(same & near & fresh)[0]
        lefts.append(ids[hit])
        rights.append(ids[hit + off])
    if not lefts:
        return pd.DataFrame({"record_id_l": [], "record_id_r": []}, dtype="int64")
    return pd.DataFrame({"record_id_l": np.concatenate(lefts),
                         "record_id_r": np.concatenate(rights)})


def candidate_pairs(
    keys: Mapping[int, RecordKey],
    new_ids: Iterable[int],
    *,
    max_block: int = MAX_BLOCK,
    window: int = WINDOW,
) -> Candidates:
    """Pairs (record_a < record_b) sharing a blocking key with years at most one apart,
    at least one of them new. Blocks with a (key, year) group larger than ``max_block``
    are compared by sorted neighbourhood (``window`` neighbours), never skipped."""
    new = {i for i in new_ids if i in keys}
    empty = pd.DataFrame({"record_a": pd.Series([], dtype="int64"),
                          "record_b": pd.Series([], dtype="int64")})
    if not new:
        return Candidates(empty)
    left = _block_rows(keys[i] for i in sorted(new))
    right = _block_rows(keys.values())
    # One factorisation gives every block an integer code; codes seen only on the right
    # (blocks no new record is in) cannot yield a pair.
    codes, _ = pd.factorize(pd.concat([left["block"], right["block"]], ignore_index=True))
    left = left.assign(code=codes[: len(left)])
    right = right.assign(code=codes[len(left):])
    right = right[np.isin(right["code"].to_numpy(), left["code"].to_numpy())]
    if right.empty:
        return Candidates(empty)
    packed = right["code"].to_numpy(np.int64) * _YEARS + right["year"].to_numpy(np.int64) + 1
    _, inverse, counts = np.unique(packed, return_inverse=True, return_counts=True)
    big_codes = np.unique(right["code"].to_numpy()[counts[inverse] > max_block])
    in_big_l = np.isin(left["code"].to_numpy(), big_codes)
    in_big_r = np.isin(right["code"].to_numpy(), big_codes)
    parts = [_merge_pairs(left[~in_big_l], right[~in_big_r])]
    if len(big_codes):
        parts.append(_window_pairs(right[in_big_r], keys, new, window))
    pairs = pd.concat(parts, ignore_index=True)
    return Candidates(
        _ordered(pairs["record_id_l"].to_numpy(np.int64), pairs["record_id_r"].to_numpy(np.int64)),
        windowed_blocks=len(big_codes),
    )


def hard_key_matches(
    keys: Mapping[int, RecordKey], new_ids: Iterable[int]
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, PairScore]]]:
    """Links from shared PMID, DOI or PMCID involving at least one new record.

    Returns (links, doubtful): a DOI/PMCID shared by records with different PMIDs, or by a
    notice and an article, is doubtful and goes to the queue instead of linking. A shared
    PMID always links.
    """
    new = set(new_ids)
    links: dict[tuple[int, int], str] = {}
    doubtful: dict[tuple[int, int], PairScore] = {}
    for attr in ("pmid", "doi", "pmcid"):
        wanted = {getattr(keys[i], attr) for i in new if i in keys} - {None, ""}
        if not wanted:
            continue
        groups: dict[str, list[int]] = {}
        for k in keys.values():
            v = getattr(k, attr)
            if v in wanted:
                groups.setdefault(v, []).append(k.record_id)
        for value, members in groups.items():
            if len(members) < 2 or not new.intersection(members):
                continue
            members.sort()
            for i, x in enumerate(members):
                for y in members[i + 1:]:
                    if x not in new and y not in new:
                        continue
                    pair = (x, y)
                    if pair in links:
                        continue
                    ka, kb = keys[x], keys[y]
                    reason = None
                    if attr != "pmid" and ka.pmid and kb.pmid and ka.pmid != kb.pmid:
                        reason = f"same {attr.upper()} {value} but PMIDs {ka.pmid}/{kb.pmid}"
                    elif attr != "pmid" and ka.notice != kb.notice:
                        # One PMID is one PubMed citation whatever the titles say; a DOI
                        # on an erratum and on its article is a database's mistake.
                        reason = (f"same {attr.upper()} {value} but "
                                  f"{ka.notice or 'article'} vs {kb.notice or 'article'}")
                    if reason:
                        sim = title_similarity(ka.title_norm, kb.title_norm)
                        doubtful.setdefault(pair, PairScore(HIGH - 0.01, round(sim, 4), reason))
                    else:
                        links[pair] = attr
                        doubtful.pop(pair, None)
    return (
        [(a, b, r) for (a, b), r in sorted(links.items())],
        [(a, b, s) for (a, b), s in sorted(doubtful.items())],
    )


