"""The store core: migrations apply once, transactions are all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.store import Store
from registry.store.core import _migration_files


def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "r.duckdb"
    with Store(path) as s:
        first = s.schema_version()
        tables = s.tables()
    with Store(path) as s:  # reopening must not re-run anything
        assert s.schema_version() == first
        assert s.tables() == tables
    files = _migration_files()
    assert first == (files[-1][0] if files else 0)


def test_transaction_rolls_back_on_error(store: Store) -> None:
    store._exec("CREATE TABLE t (x INTEGER)")
    before = store.dump()
    with pytest.raises(RuntimeError), store.transaction():
        store._exec("INSERT INTO t VALUES (1)")
        with store.transaction():  # nested joins the outer one
            store._exec("INSERT INTO t VALUES (2)")
        raise RuntimeError("boom")
    assert store.dump() == before
    with store.transaction():
        store._exec("INSERT INTO t VALUES (3)")
    assert store._rows("SELECT x FROM t") == [(3,)]


def test_a_database_from_a_newer_registry_is_refused(tmp_path: Path) -> None:
    from registry.errors import StoreError

    path = tmp_path / "r.duckdb"
    with Store(path) as s:
        s._exec("INSERT INTO schema_migrations VALUES (9999, 'future', now())")
    with pytest.raises(StoreError, match="newer registry"):
        Store(path)


def test_settings_are_given_back_whether_default_or_set_before(store: Store) -> None:
    # import_mode and dedup_memory share Store.settings: a limit set before the block
    # (here by hand) comes back as it was, and a default comes back exactly (RESET).
    def shown() -> tuple[str, str]:
        return store._rows("SELECT current_setting('memory_limit'), "
                           "current_setting('threads')")[0]

    default = shown()
    with store.import_mode():
        assert shown()[1] == 1 and shown()[0] != default[0]
    assert shown() == default
    store._exec("SET memory_limit = '700MB'")
    limited = shown()
    with store.dedup_memory():
        assert shown()[0] != limited[0]
    assert shown() == limited
