"""Shared fixtures: a fixed clock, engines on memory, SQLite and a fresh PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
import structlog

from adapters.store import chained
from domain.commands.catalogue import Outcome, parse_command
from domain.engine import Engine

TODAY = date(2024, 6, 3)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN = os.environ.get("KRINGLOOP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True, scope="session")
def _loggers_not_cached() -> Iterator[None]:
    """Loggers stay uncached in the tests. ``configure_logging`` caches each logger at first
    use, which fixes it to that configuration for the rest of the process: a later test's
    ``structlog.testing.capture_logs`` in the same pytest worker would then capture nothing,
    depending on which files that worker ran before it."""
    configure = structlog.configure

    def uncached(*args: Any, **kwargs: Any) -> None:
        configure(*args, **{**kwargs, "cache_logger_on_first_use": False})

    structlog.configure = uncached  # type: ignore[assignment]
    yield
    structlog.configure = configure


def missing_part(reason: str) -> None:
    """Skip for want of a real part on a user's machine; under CI that is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    name = f"kringloop_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        missing_part(f"no PostgreSQL at {PG_ADMIN} ({error})")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_env(url: str, schema: str) -> dict[str, str]:
    from adapters.store import postgres_env as env_for

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return chained(env_for(url, schema))


@pytest.fixture
def memory_engine() -> Iterator[Engine]:
    engine = Engine(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    yield engine
    engine.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The eventsourcing environment of a fresh store, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return chained(
            {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
                "SQLITE_LOCK_TIMEOUT": "10",
                "AGGREGATE_CACHE_MAXSIZE": "100",  # as the CLI runs: decisions on cached copies
            }
        )
    url = request.getfixturevalue("postgres_url")
    return {**postgres_env(url, f"s_{uuid.uuid4().hex[:12]}"), "AGGREGATE_CACHE_MAXSIZE": "100"}


@pytest.fixture
def stored_engine(store_env: dict[str, str]) -> Iterator[Engine]:
    engine = Engine(env=store_env, clock=lambda: TODAY)
    yield engine
    engine.close()


Run = Callable[..., Outcome]


def runner(engine: Engine) -> Run:
    """Execute a command given as keyword fields, with defaults for actor and reason."""

    def run(command: str, **fields: Any) -> Outcome:
        fields.setdefault("actor", "broker-anna")
        fields.setdefault("reason", "decided in the broker team meeting")
        return engine.execute(parse_command({"command": command, **fields}))

    return run


@pytest.fixture
def run(memory_engine: Engine) -> Run:
    return runner(memory_engine)


@pytest.fixture
def read_store(store_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """A read store on the same kind of database as ``store_env``."""
    from projections.store import ReadStore

    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        store = ReadStore(f"sqlite:///{tmp_path / 'read.sqlite'}")
    else:
        url = (
            f"postgresql://{store_env['POSTGRES_USER']}@{store_env['POSTGRES_HOST']}:"
            f"{store_env['POSTGRES_PORT']}/{store_env['POSTGRES_DBNAME']}"
        )
        store = ReadStore(url, schema=f"read_{store_env['POSTGRES_SCHEMA']}")
    store.create()
    yield store
    store.close()


@pytest.fixture
def read_runner(stored_engine: Engine, read_store: Any) -> Any:
    from projections.runner import Runner

    return Runner(stored_engine, read_store, batch_size=50)
