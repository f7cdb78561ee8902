"""The one door to the database: connection, transactions and schema migrations.

Only modules in ``registry.store`` import duckdb. Area mixins (records, dedup,
curation, screening, analyses) subclass :class:`StoreCore` and expose verbs; they
run SQL only through the helpers below, and every write verb wraps its work in
``with self.transaction():`` so that a failure leaves the file as it was.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from registry.errors import StoreError

MIGRATIONS_PACKAGE = "registry.store.migrations"


def _migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every ``NNNN_name.sql`` shipped with the package, sorted."""
    out: list[tuple[int, str, str]] = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        head, _, rest = name.partition("_")
        if not head.isdigit():
            raise StoreError(f"migration file {name!r} must be named NNNN_description.sql")
        out.append((int(head), rest[: -len(".sql")], entry.read_text(encoding="utf-8")))
    out.sort()
    versions = [v for v, _, _ in out]
    if len(versions) != len(set(versions)):
        raise StoreError(f"two migration files share a version number: {versions}")
    return out


class StoreCore:
    """A DuckDB registry file with its schema brought up to date on open."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except (duckdb.Error, OSError) as exc:
            raise StoreError(f"cannot open registry database {self.path}: {exc}") from exc
        if not read_only:
            self._migrate()

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection (idempotent)."""
        con = getattr(self, "_con", None)
        if con is not None:
            con.close()
            self._con = None  # type: ignore[assignment]

    def __enter__(self) -> StoreCore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing block; nested blocks join the outermost transaction."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._con.execute("BEGIN TRANSACTION")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._con.execute("ROLLBACK")
                raise
            else:
                self._depth -= 1
                if outer:
                    self._con.execute("COMMIT")

    # -- SQL helpers for the mixins -------------------------------------------------
    def _exec(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
        self._con.execute(sql, params or [])

    def _execmany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._con.executemany(sql, rows)

    def _rows(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        return self._con.execute(sql, params or []).fetchall()

    def _dicts(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        cur = self._con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def _scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        rows = self._con.execute(sql, params or []).fetchall()  # fetchall: no open result
        return rows[0][0] if rows else None

    def _df(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """Query result as a pandas DataFrame."""
        return self._con.execute(sql, params or []).df()

    def _register_df(self, name: str, df: Any) -> None:
        """Expose a DataFrame as a view for bulk inserts (``INSERT ... SELECT FROM name``)."""
        self._con.register(name, df)

    def _unregister(self, name: str) -> None:
        self._con.unregister(name)

    # -- schema ----------------------------------------------------------------------
    def _migrate(self) -> None:
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        done = {r[0] for r in self._rows("SELECT version FROM schema_migrations")}
        files = _migration_files()
        known = files[-1][0] if files else 0
        if done and max(done) > known:
            raise StoreError(
                f"{self.path} was written by a newer registry (schema {max(done)}, this one "
                f"knows up to {known}); upgrade the registry before opening it"
            )
        for version, name, sql in files:
            if version in done:
                continue
            try:
                with self.transaction():
                    self._con.execute(sql)
                    self._exec(
                        "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                        [version, name, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
                    )
            except duckdb.Error as exc:
                raise StoreError(f"migration {version:04d}_{name} failed: {exc}") from exc

    def schema_version(self) -> int:
        """Highest applied migration number."""
        return int(self._scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def tables(self) -> list[str]:
        """User tables in the database, sorted."""
        return [
            r[0]
            for r in self._rows(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, sorted: lets tests prove a failed write changed nothing."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        for t in self.tables():
            rows = self._rows(f'SELECT * FROM "{t}"')
            out[t] = sorted(rows, key=repr)
        return out
