"""The one door to the database: connection, transactions and schema migrations.

Only modules in ``registry.store`` import duckdb. Area mixins (records, dedup,
curation, screening, analyses) subclass :class:`StoreCore` and expose verbs; they
run SQL only through the helpers below, and every write verb wraps its work in
``with self.transaction():`` so that a failure leaves the file as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from registry.errors import StoreError

MIGRATIONS_PACKAGE = "registry.store.migrations"
OWNER_SUFFIX = ".owner.json"
# Writable opens of each database file by this process: the owner file is written by the
# first and removed by the last (the server renders reports on a second connection).
_OPEN_HERE: dict[Path, int] = {}
_OPEN_LOCK = threading.Lock()


def owner_file(db: Path) -> Path:
    """The file beside ``db`` that names the process holding it (pid, command, url)."""
    return db.with_name(db.name + OWNER_SUFFIX)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_owner(db: Path) -> dict[str, Any] | None:
    """Who holds ``db`` now, from its owner file (None: nobody alive, or no file)."""
    try:
        info = json.loads(owner_file(db).read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if pid != os.getpid() and _alive(pid) else None


def write_owner(db: Path, **extra: Any) -> None:
    """Name this process as the holder of ``db`` (``extra``: e.g. the server's url)."""
    info = {
        "pid": os.getpid(),
        "command": " ".join(["registry", *sys.argv[1:]])[:200],
        "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **extra,
    }
    try:
        owner_file(db).write_text(json.dumps(info), encoding="utf-8")
    except OSError:
        pass  # a read-only folder: the lock message is then less helpful, nothing breaks


def _release_owner(db: Path) -> None:
    with _OPEN_LOCK:
        left = _OPEN_HERE.get(db, 0) - 1
        if left > 0:
            _OPEN_HERE[db] = left
            return
        _OPEN_HERE.pop(db, None)
    f = owner_file(db)
    try:
        if json.loads(f.read_text(encoding="utf-8")).get("pid") == os.getpid():
            f.unlink()
    except (OSError, ValueError):
        pass


def lock_message(db: Path, exc: Exception) -> str:
    """Why ``db`` cannot be opened because another process holds it, and what to do."""
    owner = read_owner(db)
    if owner is None:
        return (
            f"{db} is in use by another registry process ({exc}); wait for it to finish "
            "and try again"
        )
    head = f"{db} is in use by `{owner.get('command', 'registry')}` (pid {owner['pid']}, "
    head += f"since {owner.get('since', '?')})"
    if owner.get("url"):
        return (
            f"{head}: the workspace is served at {owner['url']}; make this change there "
            "(or stop the server first)"
        )
    return f"{head}; wait for it to finish and try again"


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


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
        self._owns = False
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except (duckdb.Error, OSError) as exc:
            if isinstance(exc, duckdb.Error) and _is_lock_error(exc):
                raise StoreError(lock_message(self.path, exc)) from exc
            raise StoreError(f"cannot open registry database {self.path}: {exc}") from exc
        if not read_only:
            self._claim()
            try:
                self._migrate()
            except BaseException:
                self.close()
                raise

    def _claim(self) -> None:
        """Write the owner file so a second process is told who holds the file."""
        key = self.path.resolve()
        with _OPEN_LOCK:
            first = key not in _OPEN_HERE
            _OPEN_HERE[key] = _OPEN_HERE.get(key, 0) + 1
        if first:
            write_owner(self.path)
        self._owns = True

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection (idempotent)."""
        con = getattr(self, "_con", None)
        if con is not None:
            con.close()
            self._con = None  # type: ignore[assignment]
            if self._owns:
                self._owns = False
                _release_owner(self.path.resolve())

    def __enter__(self) -> StoreCore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings ---------------------------------------------------------------------
    @contextmanager
    def settings(self, **values: str | int) -> Iterator[None]:
        """Run a block with DuckDB settings changed (e.g. ``memory_limit="300MB"``,
        ``threads=1``), then give each its earlier value back, whatever it was.

        A setting is reset first and set only if its earlier value was not the default:
        DuckDB shows a memory limit rounded ("18.8 GiB"), so setting the shown value
        back would not give the default's exact bytes."""
        names = list(values)
        before = self._rows(
            "SELECT " + ", ".join(f"current_setting('{n}')" for n in names))[0]
        for name, value in values.items():
            self._exec(f"SET {name} = '{value}'")
        try:
            yield
        finally:
            for name, value in zip(names, before, strict=True):
                self._exec(f"RESET {name}")
                if self._scalar(f"SELECT current_setting('{name}')") != value:
                    self._exec(f"SET {name} = '{value}'")

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
