"""PostgreSQL connections dropped under a running engine and runner: the next command,
catch-up and audit succeed on new connections, and a write cut off mid-transaction is
retried and recorded once. The backends are ended for real, with pg_terminate_backend."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from adapters.audit.verify import verify_store
from adapters.settings import Settings
from adapters.store import Stores
from domain.commands.base import Outcome
from domain.commands.catalogue import parse_command
from domain.values import Stage
from tests.conftest import TODAY, runner
from tests.scenario import initiative_at, programme

pytestmark = pytest.mark.postgres


@pytest.fixture
def stores(postgres_url: str) -> Iterator[Stores]:
    suffix = uuid.uuid4().hex[:10]
    opened = Stores(
        Settings(
            database_url=postgres_url, database_schema=f"ev_{suffix}", read_schema=f"rd_{suffix}"
        )
    )
    opened.engine.clock = lambda: TODAY
    programme(runner(opened.engine))
    opened.fresh_reads()
    yield opened
    opened.close()


def terminate(url: str, where: str = "true") -> int:
    """End every backend of the test database but our own; return how many."""
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = %s AND pid <> pg_backend_pid() AND {where}",
            (database,),
        ).fetchall()
    return len(rows)


def test_commands_catch_up_and_audit_carry_on_after_the_connections_are_dropped(
    stores: Stores, postgres_url: str
) -> None:
    assert terminate(postgres_url) > 0  # the engine's and the read store's pooled connections
    initiative_at(runner(stores.engine), Stage.EXPERT_SCAN)

    assert terminate(postgres_url) > 0
    assert stores.runner.catch_up() > 0
    assert stores.runner.position() == stores.runner.head()

    assert terminate(postgres_url) > 0
    report, _ = verify_store(stores.engine.recorder, stores.settings.home)
    assert report.ok, report.problems


def test_a_write_cut_off_mid_transaction_is_retried_and_recorded_once(
    stores: Stores, postgres_url: str
) -> None:
    engine = stores.engine
    run = runner(engine)
    initiative_at(run, Stage.PROPOSED)
    version = engine.initiative("grass").version
    table = f'"{stores.settings.database_schema}"."{engine.recorder.events_table_name}"'
    step = parse_command(
        {
            "command": "start-expert-scan",
            "initiative_id": "grass",
            "actor": "broker-anna",
            "reason": "kick-off",
            "effective": "2016-01-02",
            "command_id": "scan-once",
        }
    )
    outcome: list[Outcome | BaseException] = []

    def write() -> None:
        try:
            outcome.append(engine.execute(step))
        except BaseException as error:  # handed to the test thread
            outcome.append(error)

    with psycopg.connect(postgres_url) as holder:
        # the engine's insert takes this same lock first thing in its transaction; its reads
        # (ACCESS SHARE) pass, so the writer is stopped inside the write itself
        holder.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        ended = wait_for(lambda: terminate(postgres_url, "wait_event_type = 'Lock'"))
        assert ended == 1
        holder.commit()  # the lock goes; the library's retry, on a new connection, gets it
    writer.join(timeout=60)

    assert len(outcome) == 1
    assert isinstance(outcome[0], Outcome), outcome[0]
    assert outcome[0].version == version + 1
    with psycopg.connect(postgres_url) as conn:
        stored = conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE originator_id = %s",
            (engine.initiative("grass").id,),
        ).fetchone()
    assert stored == (version + 1,)
    report, _ = verify_store(engine.recorder, stores.settings.home)
    assert report.ok, report.problems


def wait_for(found: Any, limit: float = 30.0) -> Any:
    """Poll until ``found()`` is truthy (the writer has reached the lock)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"nothing found in {limit:.0f} s")
