"""A follower keeps the read models up with events other processes record, without being
asked: woken by PostgreSQL's NOTIFY, or polling SQLite. Two followers at once apply each
event exactly once, and a follower stops cleanly when told to."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

from domain.engine import Engine
from domain.values import Stage
from projections import queries
from projections.following import Follower
from projections.runner import Runner
from projections.store import ReadStore
from tests.conftest import TODAY, runner
from tests.integration.test_projection_properties import snapshot
from tests.processes import barrier, spawned
from tests.scenario import initiative_at, programme

DEADLINE = 60.0  # generous: the machine is shared; this is no latency check
POLL = 0.05


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE:.0f} s: {what}"
        time.sleep(0.05)


@contextmanager
def following(env: dict[str, str], reads: ReadStore) -> Iterator[tuple[Follower, list[int]]]:
    """A follower on its own engine, in a thread; stopped (and checked stopped) on exit."""
    engine = Engine(env={**env, "CREATE_TABLE": "n"}, clock=lambda: TODAY)
    follower = Follower(Runner(engine, reads, batch_size=20), poll_interval=POLL)
    applied: list[int] = []
    thread = threading.Thread(target=lambda: applied.append(follower.run()), daemon=True)
    thread.start()
    try:
        assert follower.ready.wait(DEADLINE), "the follower never finished its first catch-up"
        yield follower, applied
    finally:
        follower.stop()
        thread.join(timeout=DEADLINE)
        engine.close()
    assert not thread.is_alive(), "the follower did not stop"


def record_initiatives(env: dict[str, str], ids: list[str], start: Barrier | None) -> int:
    """Another process: take initiatives to scale-up; returns the store's head."""
    engine = Engine(env={**env, "CREATE_TABLE": "n"}, clock=lambda: TODAY)
    if start is not None:
        start.wait()
    run = runner(engine)
    for initiative_id in ids:
        initiative_at(run, Stage.SCALED_UP, initiative_id=initiative_id)
    head = engine.recorder.max_notification_id() or 0
    engine.close()
    return int(head)


@pytest.mark.slow
def test_a_follower_applies_what_another_process_records(
    stored_engine: Engine, store_env: dict[str, str], read_store: ReadStore
) -> None:
    programme(runner(stored_engine))
    listening = store_env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    with following(store_env, read_store) as (follower, applied):
        assert follower.mode == ("listening" if listening else "polling")
        assert Runner(stored_engine, read_store).position() == 6, "caught up before following"
        with spawned(record_initiatives, [(store_env, ["late-grass"], None)]) as heads:
            pass
        reads = Runner(stored_engine, read_store)
        eventually(lambda: reads.position() == heads[0], "the read models reach the new head")
        detail = queries.initiative_detail(read_store, "late-grass", TODAY)
        assert detail is not None
        assert detail.initiative.stage == Stage.SCALED_UP.value
    assert applied == [heads[0]], "the follower applied every event, each once"


def follow_until(
    env: dict[str, str], url: str, schema: str | None, start: Barrier, done: Any
) -> int:
    """A follower process: ready, then follow until the recorder is done and all is applied."""
    reads = ReadStore(url, schema)
    with following(env, reads) as (_, applied):
        start.wait()
        runner = Runner(Engine(env={**env, "CREATE_TABLE": "n"}), reads)
        eventually(lambda: done.value > 0 and runner.position() >= done.value, "all events applied")
        runner.engine.close()
    reads.close()
    return applied[0]


def record_then_say_done(env: dict[str, str], start: Barrier, done: Any) -> int:
    head = record_initiatives(env, [f"grass-{n}" for n in range(6)], start)
    done.value = head
    return -head


def child(role: str, *args: Any) -> int:
    work: Callable[..., int] = {"follow": follow_until, "record": record_then_say_done}[role]
    return work(*args)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("store_env", ["postgres"], indirect=True)
def test_two_followers_at_once_apply_each_event_exactly_once(
    stored_engine: Engine, store_env: dict[str, str], read_store: ReadStore
) -> None:
    import multiprocessing

    programme(runner(stored_engine))
    start = barrier(3)
    done = multiprocessing.get_context("spawn").Value("q", 0)
    follower = ("follow", store_env, read_store.url, read_store.schema, start, done)
    arguments = [follower, follower, ("record", store_env, start, done)]
    with spawned(child, arguments) as returned:
        pass
    head = -min(returned)
    applied = [r for r in returned if r >= 0]
    assert sum(applied) == head, f"each event applied once between the two: {applied}"
    kept_up = snapshot(read_store)
    assert len(kept_up["decisions"]) == head
    Runner(stored_engine, read_store).rebuild()
    assert snapshot(read_store) == kept_up, "following gave what a rebuild gives"


@pytest.mark.parametrize("store_env", ["sqlite"], indirect=True)
def test_a_stop_request_ends_an_idle_follower(
    stored_engine: Engine, store_env: dict[str, str], read_store: ReadStore
) -> None:
    programme(runner(stored_engine))
    with following(store_env, read_store) as (follower, applied):
        follower.stop()
    assert applied == [6]


@pytest.mark.postgres
@pytest.mark.parametrize("store_env", ["postgres"], indirect=True)
def test_recording_an_event_on_postgres_notifies_the_channel_followers_listen_on(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    """What wakes a follower: the library's recorder NOTIFYs in each appending transaction
    (a recorder of ours that dropped it would leave followers on their heartbeat)."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    channel = stored_engine.recorder.channel_name  # type: ignore[attr-defined]
    url = (
        f"postgresql://{store_env['POSTGRES_USER']}@{store_env['POSTGRES_HOST']}:"
        f"{store_env['POSTGRES_PORT']}/{store_env['POSTGRES_DBNAME']}"
    )
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(SQL("LISTEN {}").format(Identifier(channel)))
        programme(runner(stored_engine))
        heard = [n.channel for n in listener.notifies(timeout=DEADLINE, stop_after=1)]
    assert heard, "no notification within the deadline"
    assert set(heard) == {channel}
