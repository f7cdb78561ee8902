"""The inbox step of ``registry update``: export files dropped in
``data/reviews/<review>/imports/<source>/`` are imported once each.

Databases without an API the registry can call (Embase, Web of Science, CENTRAL) are
searched by the team; their exports land in a folder named after the source (any
spelling of the source vocabulary of :mod:`ingest.sources`: ``wos``, ``Web of Science``).
A file already imported for that source (same SHA-256) is skipped, so the folder can keep
every export ever made.
"""

from __future__ import annotations

from pathlib import Path

from ingest.sources import canonical_source
from registry.errors import RegistryError
from registry.intake.files import file_sha256, import_file
from registry.store import Store


def import_inbox(store: Store, inbox: Path, review: str | None) -> list[tuple[str, int]]:
    """Import every new file under ``inbox/<source>/``; (message line, new records) each.

    One bad file (or a folder named after no known source) is reported and skipped: it
    must not stop the monthly cycle.
    """
    done: list[tuple[str, int]] = []
    if not inbox.is_dir():
        return done
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir()):
        try:
            source = canonical_source(folder.name, where=str(folder))
        except RegistryError as exc:
            done.append((f"not imported: {exc}", 0))
            continue
        for f in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            digest = file_sha256(f)
            if store.import_runs_for_file(digest, source):
                continue
            try:
                res = import_file(store, f, source=source, review=review, sha256=digest)
            except RegistryError as exc:
                done.append((f"not imported: {exc}", 0))
                continue
            done.append((f"imported {res.line()}", res.new))
    return done
