"""Many writers at once, in threads sharing one engine (as the API's worker threads do) and
in several processes: every command lands exactly once, a retry with the same command id
replays, a contested step has one winner; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

from domain.commands.base import Outcome
from domain.engine import Engine
from domain.errors import ConcurrencyConflictError, KringloopError
from tests.conftest import TODAY, runner
from tests.faults.invariants import command_ids
from tests.processes import barrier, spawned
from tests.scenario import grass_formed

REPORTS = 6  # each writer's own reports
RETRIES = 4  # commands every writer sends, with the same ids: retries of one request
PATIENCE = 20


def write(engine: Engine, writer: int, wait: Callable[[], Any]) -> Counter[str]:
    """One writer: a contested step, its own impact reports, and retried shared commands."""
    seen: Counter[str] = Counter()
    once = runner(engine)

    def run(command: str, **fields: Any) -> Outcome:
        """As a client does: after a conflict (the engine's own retries all lost to other
        processes), send the same command again, with the same id."""
        for _ in range(PATIENCE):
            try:
                return once(command, **fields)
            except ConcurrencyConflictError:
                seen["conflict"] += 1
        raise AssertionError(f"{command} lost {PATIENCE} times in a row")

    wait()
    try:
        done = run(
            "withdraw-board",
            initiative_id="grass",
            handover_note=f"handed over by writer {writer}",
            command_id=f"withdraw:{writer}",
        )
        seen["withdrew"] += 1
    except KringloopError as error:
        seen[f"refused:{error.code}"] += 1
    for i in range(REPORTS):
        done = run(
            "report-impact",
            initiative_id="grass",
            period=2000 + writer * REPORTS + i,
            jobs_fte=i,
            command_id=f"report:{writer}:{i}",
        )
        seen["replayed" if done.replayed else "recorded"] += 1
        shared = i % RETRIES
        done = run(
            "report-impact",
            initiative_id="grass",
            period=2100 - shared,
            jobs_fte=shared,
            command_id=f"retried:{shared}",
        )
        seen["retry replayed" if done.replayed else "retry recorded"] += 1
    return seen


def in_threads(engine: Engine, first: int, threads: int, start: Callable[[], Any]) -> Counter[str]:
    """Writers ``first``.. in threads on one engine; errors other than refusals fail."""
    seen: Counter[str] = Counter()
    failures: list[BaseException] = []
    lock = threading.Lock()

    def one(writer: int) -> None:
        try:
            counted = write(engine, writer, start)
        except BaseException as error:  # a stray library error: the test must see it
            failures.append(error)
            raise
        with lock:
            seen.update(counted)

    workers = [threading.Thread(target=one, args=(first + t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert failures == [], failures
    return seen


def writer_process(env: dict[str, str], first: int, threads: int, start: Barrier) -> Counter[str]:
    engine = Engine(env={**env, "CREATE_TABLE": "n"}, clock=lambda: TODAY)
    gate = threading.Barrier(threads)
    started = threading.Lock()  # the first thread in this process meets the others' processes

    def wait() -> None:
        if started.acquire(blocking=False):
            start.wait()
        gate.wait()

    try:
        return in_threads(engine, first, threads, wait)
    finally:
        engine.close()


def check(
    engine: Engine, env: dict[str, str], before: int, writers: int, seen: Counter[str]
) -> None:
    assert (seen["withdrew"], seen["refused:wrong_stage"]) == (1, writers - 1), seen
    assert (seen["recorded"], seen["replayed"]) == (writers * REPORTS, 0), seen
    assert seen["retry recorded"] == RETRIES, f"each retried command recorded once: {seen}"
    assert seen["retry replayed"] == writers * REPORTS - RETRIES
    stored = command_ids(engine)
    assert max(stored.values()) == 1, "no command id twice"
    with Engine(env=env, clock=lambda: TODAY) as fresh:  # nothing cached: the store's word
        grass = fresh.initiative("grass")
        assert grass.version == before + 1 + writers * REPORTS + RETRIES
        assert len(grass.impact) == writers * REPORTS + RETRIES


def test_threads_sharing_one_engine_record_each_command_once(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    before = grass_formed(stored_engine)
    writers = 8
    gate = threading.Barrier(writers)
    seen = in_threads(stored_engine, 0, writers, gate.wait)
    check(stored_engine, store_env, before, writers, seen)


@pytest.mark.slow
def test_processes_of_threads_record_each_command_once(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    before = grass_formed(stored_engine)
    processes, threads = 2, 4
    start = barrier(processes)
    arguments = [(store_env, p * threads, threads, start) for p in range(processes)]
    with spawned(writer_process, arguments) as counted:
        seen: Counter[str] = sum(counted, Counter())
    check(stored_engine, store_env, before, processes * threads, seen)
