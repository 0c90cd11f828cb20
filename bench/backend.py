"""Where a benchmark keeps its stores: SQLite files in a temporary folder, or schemas in a
PostgreSQL database made fresh for this run and dropped afterwards.

Each store gets a label; the same label always names the same store within a run. On
SQLite a label is a folder holding ``events.sqlite`` and ``read.sqlite`` (as ``kringloop
--home`` lays them out); on PostgreSQL it is a pair of schemas, ``<label>`` for the events
and ``<label>_read`` for the read models, in the run's database
(``kringloop_bench_<random>`` on the server at ``KRINGLOOP_BENCH_PG``, by default
``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from figure import note

from adapters.settings import Settings

Name = Literal["sqlite", "postgres"]
PG_ADMIN = os.environ.get("KRINGLOOP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Backend:
    name: Name
    folder: Path
    database_url: str | None = None  # PostgreSQL: this run's database

    @property
    def suffix(self) -> str:
        return f"_{self.name}"

    def settings(self, label: str) -> Settings:
        """Settings as ``kringloop`` would have them for the store called ``label``."""
        label = _identifier(label)
        if self.database_url is None:
            (self.folder / label).mkdir(parents=True, exist_ok=True)
            return Settings(home=self.folder / label, database_url=None)
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{label}"')
        return Settings(
            home=self.folder / label,
            database_url=self.database_url,
            database_schema=label,
            read_schema=f"{label}_read",
        )

    def env(self, label: str) -> dict[str, str]:
        """The engine's eventsourcing environment for the store called ``label``."""
        from adapters.store import engine_env

        return engine_env(self.settings(label))

    def cli_env(self, label: str) -> dict[str, str]:
        """Environment variables that point a ``kringloop`` process at that store."""
        settings = self.settings(label)
        env = {"KRINGLOOP_HOME": str(settings.home)}
        if settings.database_url:
            env.update(
                KRINGLOOP_DATABASE_URL=settings.database_url,
                KRINGLOOP_DATABASE_SCHEMA=str(settings.database_schema),
                KRINGLOOP_READ_SCHEMA=settings.read_schema,
            )
        return env

    def read_target(self, label: str) -> dict[str, Any]:
        """Where the read models of ``label`` live: ``{"url", "schema"}`` (JSON-ready)."""
        settings = self.settings(label)
        schema = settings.read_schema if settings.database_url else None
        return {"url": settings.read_store_url, "schema": schema}

    def read_store(self, label: str) -> Any:
        """A fresh-or-existing read store for ``label``, its tables created."""
        from projections.store import ReadStore

        store = ReadStore(**self.read_target(label))
        store.create()
        return store


def _identifier(label: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", label):
        raise ValueError(f"store label {label!r}: use a-z, 0-9 and _")
    return label


def postgres_reachable() -> str | None:
    """None if the benchmark's PostgreSQL server answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"no PostgreSQL at {PG_ADMIN} ({str(error).strip()})"


@contextmanager
def backend(name: Name) -> Iterator[Backend]:
    """A temporary folder, and on PostgreSQL a fresh database; both gone afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"kringloop-bench-{name}-") as folder:
        if name == "sqlite":
            yield Backend(name, Path(folder))
            return
        import psycopg

        database = f"kringloop_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        base = PG_ADMIN.rsplit("/", 1)[0]
        note(f"postgres: fresh database {database}")
        try:
            yield Backend(name, Path(folder), f"{base}/{database}")
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            note(f"postgres: dropped {database}")
