"""The shared store's tests run on the real PostgreSQL on 127.0.0.1:5432 (trust, user
postgres): each test gets its own database, dropped after."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.incident.postgres import PostgresStore
from tests.incident.conftest import fake_pd, fake_sp, sp_key

__all__ = ["fake_pd", "fake_sp", "sp_key"]

ADMIN_DSN = os.environ.get("COCKPIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin() -> Any:
    import psycopg

    try:
        return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not running at {ADMIN_DSN}: {exc}")
        pytest.skip(f"PostgreSQL is not running at {ADMIN_DSN}")


@pytest.fixture
def pg_db() -> Iterator[str]:
    """The name of a fresh, empty database."""
    name = "cockpit_test_" + uuid.uuid4().hex[:12]
    admin = _admin()
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg_dsn(pg_db: str) -> str:
    base = ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{pg_db}"


@pytest.fixture
def sql(pg_dsn: str) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Run a statement on the test database from outside any cockpit."""
    import psycopg

    conn = psycopg.connect(pg_dsn, autocommit=True)

    def run(statement: str, *params: Any) -> list[tuple[Any, ...]]:
        cur = conn.execute(statement, params or None)
        return list(cur.fetchall()) if cur.description else []

    yield run
    conn.close()


@pytest.fixture
def open_store(pg_dsn: str, tmp_path: Path) -> Iterator[Callable[..., PostgresStore]]:
    """open_store(actor, dsn=..., **options): a started store, closed after the test."""
    opened: list[PostgresStore] = []

    def make(
        actor: str = "alice", dsn: str = "", wait: bool = True, **options: Any
    ) -> PostgresStore:
        options.setdefault("journal_path", tmp_path / f"journal-{actor}-{len(opened)}.sqlite3")
        options.setdefault("presence_interval", 0.3)
        store = PostgresStore(dsn or pg_dsn, actor=actor, **options)
        opened.append(store)
        if wait:
            assert store.wait_ready(10), store.status().header()
        return store

    yield make
    for store in opened:
        store.close()


def until(predicate: Callable[[], Any], timeout: float = 5.0, step: float = 0.005) -> Any:
    """Poll until predicate() is truthy; returns its value or fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(step)
