"""Several processes starting at once on a fresh PostgreSQL database (workers, the API, a
runner) must not trip over each other creating tables."""

from __future__ import annotations

import uuid
from multiprocessing.synchronize import Barrier

import pytest

from tests.processes import barrier, spawned

PROCESSES = 8


def start(url: str, schema: str, read_schema: str, together: Barrier) -> tuple[str, object]:
    from adapters.settings import Settings
    from adapters.store import open_engine, open_read_store

    settings = Settings(database_url=url, database_schema=schema, read_schema=read_schema)
    together.wait()
    try:
        engine = open_engine(settings)
        reads = open_read_store(settings)
        head = engine.recorder.max_notification_id()
        engine.close()
        reads.close()
    except Exception as error:  # report, so the parent can show what went wrong
        return "failed", f"{type(error).__name__}: {error}"
    return "ok", head


@pytest.mark.postgres
@pytest.mark.slow
def test_eight_processes_starting_at_once_all_open_the_stores(postgres_url: str) -> None:
    import psycopg

    tag = uuid.uuid4().hex[:8]
    schema, read_schema = f"race_{tag}", f"race_read_{tag}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    together = barrier(PROCESSES)
    with spawned(start, [(postgres_url, schema, read_schema, together)] * PROCESSES) as outcomes:
        pass
    assert [o for o in outcomes if o[0] != "ok"] == []
