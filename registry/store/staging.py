"""Staged file imports: a file's records leave Python batch by batch, and reach the
registry all at once.

``registry import`` writes each batch of records to a Parquet file in a spool folder
beside the database (``<db>.stage/stage-<id>/``); withdrawn PMIDs and parse problems go to
the small ``import_staging_deletions`` / ``import_staging_problems`` tables. Memory holds
one batch whatever the file size. :meth:`StagingMixin.commit_stage` then moves the stage
into ``records`` in the caller's transaction, so a file that fails half-way leaves the
registry exactly as it was.

Why Parquet files and not a staging table: a row committed to a DuckDB table is written
to the write-ahead log, then compressed into the table at a checkpoint, then read back,
moved into ``records`` and compressed again. A Parquet file is written once, with cheap
compression, and read back by the final move column by column (the key columns alone for
the counts). This halved the cost of staging (bench/bench_parse.py --imports).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.records import ParseProblem, Record
from registry.errors import StoreError
from registry.store.records import _TYPED, RecordsMixin, _batch_counter, _frame, _now

# DuckDB buffer memory while a file is imported (see StagingMixin.import_mode): the final
# move holds the file's rows until it commits, and what does not fit is compressed out to
# a temporary file and read back. 144 MB keeps a 200 MB export's import under its 300 MB
# target (about 265 MiB = 278 MB peak, bench/bench_parse.py --imports) and spills less
# than 128 MB did.
IMPORT_MEMORY = "144MB"
_STAGE_TABLES = ("import_staging_deletions", "import_staging_problems")


@dataclass(frozen=True, slots=True)
class StageResult:
    """What moving one import's stage into the registry did."""

    new: int
    updated: int
    unchanged: int
    repeated: int  # extra copies of a (source, source id) within the file
    deleted: int  # records flagged as withdrawn (DeleteCitation)

    @property
    def seen(self) -> int:
        """Distinct records in the file."""
        return self.new + self.updated + self.unchanged


def _sql_path(path: Path) -> str:
    """A file path as an SQL string literal (COPY ... TO takes no parameter)."""
    return "'" + str(path).replace("'", "''") + "'"


class StagingMixin(RecordsMixin):
    """Verbs for staged file imports (begin, stage batches, commit or drop)."""

    @contextmanager
    def import_mode(self) -> Iterator[None]:
        """One DuckDB thread and capped buffer memory for a file import, then restored.

        DuckDB keeps the pages it writes cached up to its limit (80 % of RAM by default),
        so without a cap the final move's rows stay resident; with it they spill to
        temporary files and peak memory stays flat in the file size. One thread: the
        batches are small, and a second thread doubled the CPU time of the writes
        (measured with bench/bench_parse.py --imports) without making them faster.
        """
        # pandas_analyze_sample=0: DuckDB takes every NumPy object column as text instead
        # of sampling a thousand values per column and batch to guess a type; the
        # batch's SELECT casts each column to its type anyway (a tenth of a MEDLINE
        # import's CPU time went to the guessing).
        with self.settings(memory_limit=IMPORT_MEMORY, threads=1, pandas_analyze_sample=0):
            yield

    # -- the spool ---------------------------------------------------------------------
    def _spool_root(self) -> Path:
        return self.path.with_name(self.path.name + ".stage")

    def _spool(self, stage: int) -> Path:
        return self._spool_root() / f"stage-{int(stage)}"

    def _stages_open(self) -> dict[int, list[Path]]:
        """Stages this connection's imports are filling, with their record files in file
        order (begin_stage's cleanup keeps them)."""
        return self.__dict__.setdefault("_open_stages", {})

    def _parts(self, stage: int) -> list[Path]:
        try:
            return self._stages_open()[stage]
        except KeyError:
            raise StoreError(f"import stage {stage} is not open here") from None

    # -- verbs -------------------------------------------------------------------------
    def begin_stage(self) -> int:
        """A fresh stage id for a file import; stages a killed import left are deleted.

        Staged batches are written as they fill (memory stays flat in the file size) but
        are no part of the registry until :meth:`commit_stage` moves them in.
        """
        open_here = self._stages_open()
        with self.transaction():
            keep = sorted(open_here) or [-1]
            marks = ", ".join("?" for _ in keep)
            for table in _STAGE_TABLES:
                self._exec(f"DELETE FROM {table} WHERE stage NOT IN ({marks})", keep)
        root = self._spool_root()
        if root.is_dir():
            mine = {self._spool(s).name for s in open_here}
            for left in root.iterdir():
                if left.name not in mine:
                    shutil.rmtree(left, ignore_errors=True)
        stage = int(self._scalar("SELECT nextval('import_stage_seq')"))
        try:
            self._spool(stage).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the import spool {self._spool(stage)}: "
                             f"{exc.strerror or exc}") from exc
        open_here[stage] = []
        return stage

    def stage_items(
        self, stage: int, first_ord: int, records: Sequence[Record],
        deletions: Sequence[tuple[int, str]] = (), problems: Sequence[ParseProblem] = (),
        *, file: str | None = None,
    ) -> None:
        """Stage one batch of an import: records (numbered from ``first_ord`` in file
        order) to a Parquet file of their own, withdrawn PMIDs (with their position) and
        problems to the stage tables."""
        parts = self._parts(stage)
        if records:
            path = self._spool(stage) / f"part-{len(parts):06d}.parquet"
            view = f"_stage_batch_{next(_batch_counter)}"
            self._register_df(view, _frame(records))
            try:
                self._exec(
                    f"COPY (SELECT b.ord::BIGINT + {int(first_ord)} AS ord, {_TYPED} "
                    f"FROM {view} b) TO {_sql_path(path)} (FORMAT parquet)"
                )
            except duckdb.IOException as exc:  # disk full, spool folder gone
                raise StoreError(f"cannot write the import spool {path}: "
                                 f"{str(exc).splitlines()[0]}") from exc
            finally:
                self._unregister(view)
            parts.append(path)
        if deletions or problems:
            with self.transaction():
                self._execmany("INSERT INTO import_staging_deletions VALUES (?, ?, ?)",
                               [(stage, o, pmid) for o, pmid in deletions])
                now = _now()
                self._execmany(
                    "INSERT INTO import_staging_problems VALUES (?, ?, ?, ?, ?)",
                    [(stage, p.file or file, p.where, p.message, now) for p in problems],
                )

    def commit_stage(self, stage: int, run_id: int, source: str) -> StageResult:
        """Move a stage into the registry as ``run_id``'s records, withdrawals and problems.

        Joins the caller's transaction (the import's run log is written in the same one);
        the stage is emptied in it too. Of several copies of one (source, source id) the
        last in the file wins; a withdrawal counts unless the record comes again later.
        """
        parts = self._parts(stage)
        with self.transaction():
            given = distinct = before = updated = 0
            later = ""  # a withdrawal is void if its record comes again later in the file
            if parts:
                files = "read_parquet([" + ", ".join(_sql_path(p) for p in parts) + "])"
                given = int(self._scalar(f"SELECT count(*) FROM {files}"))
                distinct = int(self._scalar(
                    f"SELECT count(*) FROM (SELECT 1 FROM {files} GROUP BY source, source_id)"))
                # the last copy of each key: the key columns are all this reads
                batch = (f"(SELECT * FROM {files} WHERE ord IN (SELECT max(ord) FROM {files} "
                         "GROUP BY source, source_id))")
                before, updated = self._merge(batch, run_id, _now())
                later = (f"AND NOT EXISTS (SELECT 1 FROM {files} s WHERE s.source_id = d.pmid "
                         "AND s.ord >= d.ord)")
            now = _now()
            withdrawn = f"SELECT d.pmid FROM import_staging_deletions d WHERE d.stage = ? {later}"
            cond = f"source = ? AND NOT deleted AND source_id IN ({withdrawn})"
            deleted = int(self._scalar(
                f"SELECT count(*) FROM records WHERE {cond}", [source, stage]))
            if deleted:
                self._exec(f"UPDATE records SET deleted = TRUE, updated_at = ? WHERE {cond}",
                           [now, source, stage])
            self._exec(
                "INSERT INTO parse_problems SELECT ?, file, location, message, logged_at "
                "FROM import_staging_problems WHERE stage = ? ORDER BY logged_at",
                [run_id, stage],
            )
            self._drop_stage(stage)
        return StageResult(
            new=distinct - before, updated=updated, unchanged=before - updated,
            repeated=given - distinct, deleted=deleted,
        )

    def drop_stage(self, stage: int) -> None:
        """Forget a failed import's stage: the registry is left as it was before it."""
        with self.transaction():
            self._drop_stage(stage)

    def _drop_stage(self, stage: int) -> None:
        for table in _STAGE_TABLES:
            self._exec(f"DELETE FROM {table} WHERE stage = ?", [stage])
        self._stages_open().pop(stage, None)
        shutil.rmtree(self._spool(stage), ignore_errors=True)
        try:
            self._spool_root().rmdir()  # only when no other stage is open
        except OSError:
            pass

    def staged_items(self) -> int:
        """Records, withdrawn PMIDs and problems waiting in any stage, this connection's
        or one a killed import left (tests use it to prove a stage is gone)."""
        n = sum(int(self._scalar(f"SELECT count(*) FROM {t}")) for t in _STAGE_TABLES)
        root = self._spool_root()
        if root.is_dir() and any(root.glob("*/*.parquet")):
            pattern = _sql_path(root / "*" / "*.parquet")
            n += int(self._scalar(f"SELECT count(*) FROM read_parquet({pattern})"))
        return n
