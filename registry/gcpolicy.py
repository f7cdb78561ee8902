"""Garbage-collector policy for bulk work (imports, deduplication).

CPython's cyclic collector runs whenever allocations outnumber deallocations by 700, and
every tenth young collection rescans older generations; a bulk step that keeps hundreds of
thousands of small objects alive (records, match keys, strings) triggers it thousands of
times, and each full pass walks every live object, so the cost grows faster than the
work. The objects made there hold no reference cycles (strings, tuples, frozen
dataclasses), so reference counting frees them; the collector only needs to run now and
then. Measured: 20 % of ``make_keys``' CPU on 20,000 records (bench/bench_dedup.py shows
the whole effect).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young-generation threshold while bulk work runs (default 700): a collection every
# 200,000 net allocations still bounds memory held by any stray cycle.
BULK_THRESHOLD = 200_000


@contextmanager
def bulk_allocations() -> Iterator[None]:
    """Run a block with the cyclic collector triggered rarely; the thresholds are
    restored afterwards."""
    old = gc.get_threshold()
    gc.set_threshold(BULK_THRESHOLD, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)
