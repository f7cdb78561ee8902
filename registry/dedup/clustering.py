"""Clustering: linked records form clusters (connected components, union-find).

"Not duplicate" decisions are cannot-link constraints: a union that would put two records a
person kept apart is refused. Each cluster has one primary record: PubMed first, then the
most complete, then the oldest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

import pandas as pd


class Member(Protocol):
    """What choosing a cluster's primary looks at (a RecordKey has both)."""

    @property
    def source(self) -> str: ...

    @property
    def completeness(self) -> int: ...


class UnionFind:
    """Union-find with cannot-link constraints ("not duplicate" decisions)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.cannot: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        """The root of ``x``'s set (paths compressed on the way)."""
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def forbid(self, a: int, b: int) -> None:
        """Never join the sets of ``a`` and ``b`` (a "not duplicate" decision)."""
        self.cannot.setdefault(self.find(a), set()).add(b)
        self.cannot.setdefault(self.find(b), set()).add(a)

    def forbidden(self, a: int, b: int) -> bool:
        """True when joining a and b would join two records a person kept apart."""
        ra, rb = self.find(a), self.find(b)
        ca, cb = self.cannot.get(ra, set()), self.cannot.get(rb, set())
        return any(self.find(x) == rb for x in ca) or any(self.find(x) == ra for x in cb)

    def union(self, a: int, b: int) -> bool:
        """Join the sets of ``a`` and ``b`` unless forbidden; False when refused. The
        smaller root wins, so a cluster's id is its smallest record id."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.forbidden(ra, rb):
            return False
        ca, cb = self.cannot.get(ra, set()), self.cannot.get(rb, set())
        if ra > rb:
            ra, rb = rb, ra
            ca, cb = cb, ca
        self.parent[rb] = ra
        if cb:
            self.cannot[ra] = ca | cb
            self.cannot.pop(rb, None)
        return True


def build_clusters(
    keys: Mapping[int, Member],
    links: Iterable[tuple[int, int, str, float | None]],
    decisions: Iterable[tuple[int, int, str]],
) -> pd.DataFrame:
    """Clusters of two or more records: (record_id, cluster_id, is_primary).

    Unions are made strongest first (duplicate decisions, PMID, DOI, PMCID, then fuzzy
    links by score) and never join two records a person called "not duplicate".
    cluster_id is the smallest record id (stable as a cluster grows); the primary is
    PubMed first, then the most complete record, then the oldest.
    """
    uf = UnionFind()
    edges: list[tuple[int, float, int, int]] = []
    for a, b, decision in decisions:
        if a in keys and b in keys:
            if decision == "not_duplicate":
                uf.forbid(a, b)
            else:
                edges.append((0, 0.0, a, b))
    rank = {"pmid": 1, "doi": 2, "pmcid": 3}
    for a, b, reason, score in links:
        if a in keys and b in keys:
            s = 0.0 if score is None or score != score else -float(score)
            edges.append((rank.get(reason, 4), s, a, b))
    edges.sort()
    for _, _, a, b in edges:
        uf.union(a, b)
    members: dict[int, set[int]] = {}
    for x in list(uf.parent):
        root = uf.find(x)
        members.setdefault(root, {root}).add(x)
    rows: list[tuple[int, int, bool]] = []
    for found in members.values():
        group = sorted(found)
        cid = group[0]
        primary = min(
            group, key=lambda r: (keys[r].source != "pubmed", -keys[r].completeness, r)
        )
        rows.extend((r, cid, r == primary) for r in group)
    rows.sort()
    return pd.DataFrame(
        {
            "record_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "cluster_id": pd.Series([r[1] for r in rows], dtype="int64"),
            "is_primary": pd.Series([r[2] for r in rows], dtype="bool"),
        }
    )



def same_clusters(new: pd.DataFrame, old: pd.DataFrame) -> bool:
    """True when two cluster frames (record_id, cluster_id, is_primary) hold the same rows."""
    if len(new) != len(old):
        return False
    a = set(zip(new["record_id"].astype(int), new["cluster_id"].astype(int),
                new["is_primary"].astype(bool), strict=True))
    b = set(zip(old["record_id"].astype(int), old["cluster_id"].astype(int),
                old["is_primary"].astype(bool), strict=True))
    return a == b
