"""One intake for every way records arrive: live searches, imported files, the inbox.

Source → fetch → parse → normalise → store:

- fetch: ``ingest/http.py`` (the only network code) under ``ingest/eutils.py`` for a live
  search; a local file (gzip streamed, bounded) for an import;
- parse and normalise: the streaming parsers of ``ingest/`` yield ``Record``,
  ``Deletion`` and ``ParseProblem`` one at a time;
- store: :class:`registry.intake.sink.Sink` writes them through the records verbs in
  bounded batches, counts them, and logs the problems; a file import uses
  :class:`registry.intake.sink.StagedSink`, which writes the batches to a stage that the
  import moves into the registry at the end (all or nothing, memory flat).

``run.py`` is ``registry search``, ``files.py`` is ``registry import`` and ``inbox.py`` the
inbox step of ``registry update``.
"""
