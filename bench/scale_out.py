"""Scale-out on PostgreSQL: several processes issuing broker commands to 1,000 initiatives at
once, as Prefect workers, API workers and CLI users on several hosts would.

* ``commands_per_s_postgres_8_processes``: ``PROCESSES`` worker processes, each with its own
  ``Engine`` on the same store (opened with ``adapters.store.engine_env``, so with the
  aggregate cache and the hash-chained recorder, as ``kringloop`` runs). Each parses its
  share of ``report-impact`` commands (not timed), says it is ready, and on the start signal
  executes them one at a time with ``Engine.execute``, each on an initiative drawn at random
  (seeded per process) from ``INITIATIVES`` at "consortium formed" (set up beforehand with
  ``execute_batch``, not timed). Two processes deciding on one initiative at once conflict:
  the engine decides again on the new state (up to its ``ATTEMPTS``); a command that still
  conflicts is refused and counted (noted on stderr). Value: commands recorded / seconds from
  the start signal to the last worker's end. Afterwards the store is checked: one event per
  recorded command, every command id once (nothing lost, nothing doubled).
* ``commands_per_s_postgres_1_process``: the same with one worker (run first, on the same
  store), for the ratio between them.

Baseline for each: the bare library in the same run, with as many processes, on its own
schema: a plain ``Application`` (the same environment without Kringloop's recorder) and a
plain ``Aggregate`` per initiative (ids derived from the names, so every process knows
them), the same random choice of aggregate per command, and ``repository.get`` + one
``@event`` call + ``save``; on the library's ``IntegrityError`` (another process got there
first) it drops the cached copy and tries again, up to the same number of attempts.

Sizes (commands per worker): small 1,000, large 10,000; ``--events N``: N commands in all
(N / 8 per worker in the 8-process run, as many again in the 1-process run). PostgreSQL
only: SQLite takes one writer at a time by design, and scale-out is what PostgreSQL is for.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

sys.path.insert(0, str(Path(__file__).parent))  # as a worker: python bench/scale_out.py

import engine_commands
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError
from figure import figure, note

PROCESSES = 8
INITIATIVES = 1000
PER_WORKER = {"small": 1000, "large": 10_000}
ATTEMPTS = 5  # as domain.engine.ATTEMPTS
SETUP_BATCH = 500
DEADLINE = 3600.0


class Meter(engine_commands.Meter):
    """engine_commands' baseline aggregate, its id derived from its name so that every
    process finds it without a lookup."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"bench-meter/{name}")


class BareApplication(Application[UUID]):
    name = "BareScale"


def initiative(i: int) -> str:
    return f"initiative-{i:06d}"  # as workload.lifecycle names them


def plan(number: int, count: int) -> list[tuple[int, int]]:
    """Worker ``number``'s commands: (k, initiative index), the same for both sides."""
    pick = random.Random(number)
    return [(k, pick.randrange(INITIATIVES)) for k in range(count)]


# -- the workers -----------------------------------------------------------------------------


def engine_worker(env: dict[str, str], number: int, count: int, run: str) -> dict[str, Any]:
    from workload import BROKERS

    from domain.commands.catalogue import parse_command
    from domain.engine import Engine
    from domain.errors import ConcurrencyConflictError

    engine = Engine(env={**env, "CREATE_TABLE": "n"})
    brokers = list(BROKERS)
    commands = [
        parse_command(
            {
                "command": "report-impact",
                "command_id": f"scale-{run}-{number}-{k:07d}",
                "initiative_id": initiative(i),
                "actor": brokers[i % len(brokers)],
                "reason": "Yearly figures from the consortium",
                "effective": "2020-01-01",
                "period": 2000 + k % 25,
                "jobs_fte": float(k % 97 + 1),
            }
        )
        for k, i in plan(number, count)
    ]
    recorded = refused = 0
    start = ready()
    for command in commands:
        try:
            engine.execute(command)
            recorded += 1
        except ConcurrencyConflictError:
            refused += 1
    end = time.monotonic()
    engine.close()
    return {"recorded": recorded, "refused": refused, "start": start, "end": end}


def bare_worker(env: dict[str, str], number: int, count: int, run: str) -> dict[str, Any]:
    app = BareApplication(env={**env, "CREATE_TABLE": "n"})
    ids = [Meter.create_id(initiative(i)) for i in range(INITIATIVES)]
    work = plan(number, count)
    recorded = refused = 0
    start = ready()
    for k, i in work:
        for _ in range(ATTEMPTS):
            meter = app.repository.get(ids[i])
            meter.report_impact(2000 + k % 25, {"jobs_fte": float(k % 97 + 1)})
            try:
                app.save(meter)
            except IntegrityError:
                if app.repository.cache is not None:
                    app.repository.cache.get(ids[i], evict=True)
                continue
            recorded += 1
            break
        else:
            refused += 1
    end = time.monotonic()
    app.close()
    return {"recorded": recorded, "refused": refused, "start": start, "end": end}


def ready() -> float:
    """Say so, then wait for the start signal (a line on stdin)."""
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    return time.monotonic()


def worker_main(mode: str, env_json: str, number: str, count: str, run: str) -> None:
    work = engine_worker if mode == "engine" else bare_worker
    result = work(json.loads(env_json), int(number), int(count), run)
    sys.stdout.write(json.dumps(result) + "\n")


def race(mode: str, env: dict[str, str], processes: int, count: int) -> tuple[int, int, float]:
    """Start the workers, let them go at once; (recorded, refused, seconds)."""
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, mode, json.dumps(env), str(n), str(count), str(processes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    try:
        for w in workers:
            assert w.stdout is not None
            if w.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a {mode} worker failed to start ({w.wait()})")
        go = time.monotonic()
        for w in workers:
            assert w.stdin is not None
            w.stdin.write("go\n")
            w.stdin.flush()
        results = []
        for w in workers:
            out, _ = w.communicate(timeout=DEADLINE)
            if w.returncode != 0:
                raise RuntimeError(f"a {mode} worker failed ({w.returncode})")
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    seconds = max(r["end"] for r in results) - go
    return sum(r["recorded"] for r in results), sum(r["refused"] for r in results), seconds


# -- set-up and checks -------------------------------------------------------------------------


def set_up_engine(env: dict[str, str]) -> None:
    """The workload's programme and INITIATIVES initiatives at "consortium formed"."""
    from workload import CONSORTIUM_STEPS, lifecycle, numbered, programme_commands

    from domain.commands.catalogue import parse_command
    from domain.engine import Engine

    setup = programme_commands()
    for i in range(INITIATIVES):
        steps = lifecycle(initiative(i), i)[:CONSORTIUM_STEPS]
        setup += [{**step, "effective": "2016-01-01"} for step in steps]
    engine = Engine(env=env)
    commands = [parse_command(c) for c in numbered(iter(setup), "scale-setup")]
    for start in range(0, len(commands), SETUP_BATCH):
        result = engine.execute_batch(commands[start : start + SETUP_BATCH])
        assert result.refusal is None, result.refusal
    engine.close()


def set_up_bare(env: dict[str, str]) -> None:
    app = BareApplication(env=env)
    app.save(*[Meter(name=initiative(i)) for i in range(INITIATIVES)])
    app.close()


def head(env: dict[str, str], mode: str) -> int:
    """The last notification id (ids may skip: a conflicting insert uses up its ids)."""
    from domain.engine import Engine

    kind = Engine if mode == "engine" else BareApplication
    app = kind(env={**env, "CREATE_TABLE": "n"})
    found = int(app.recorder.max_notification_id() or 0)
    app.close()
    return found


def check_engine_store(env: dict[str, str], after: int, recorded: int) -> None:
    """One event per recorded command, each command id once."""
    from domain.engine import Engine

    engine = Engine(env=env)
    ids: Counter[str] = Counter()
    position = after
    while notifications := engine.recorder.select_notifications(
        start=position, limit=5000, inclusive_of_start=False
    ):
        ids.update(engine.mapper.to_domain_event(n).decision.command_id for n in notifications)
        position = notifications[-1].id
    engine.close()
    doubled = [c for c, n in ids.items() if n > 1]
    assert not doubled, f"recorded twice: {doubled[:5]}"
    assert sum(ids.values()) == recorded, f"{sum(ids.values())} events for {recorded} commands"


def check_bare_store(env: dict[str, str], after: int, recorded: int) -> None:
    app = BareApplication(env=env)
    events, position = 0, after
    while notifications := app.recorder.select_notifications(
        start=position, limit=5000, inclusive_of_start=False
    ):
        events += len(notifications)
        position = notifications[-1].id
    app.close()
    assert events == recorded, f"{events} events for {recorded} commands"


# -- the figures -------------------------------------------------------------------------------


def run(size: str, backend: Any, events: int | None = None) -> list[dict[str, Any]]:
    if backend.name != "postgres":
        note("scale-out: PostgreSQL only (SQLite takes one writer at a time); skipped")
        return []
    per_worker = events // PROCESSES if events else PER_WORKER[size]
    env = backend.env("scale_engine")
    bare_env = {
        k: v for k, v in backend.env("scale_bare").items() if k != "APPLICATION_RECORDER_TOPIC"
    }
    note(f"scale-out: setting up {INITIATIVES:,} initiatives at 'consortium formed' (not timed)")
    set_up_engine(env)
    set_up_bare(bare_env)
    rows = []
    for processes, count in ((1, per_worker), (PROCESSES, per_worker)):
        note(f"scale-out: {processes} process(es) x {count:,} commands, bare library first")
        before = head(bare_env, "bare")
        bare = race("bare", bare_env, processes, count)
        check_bare_store(bare_env, before, bare[0])
        before = head(env, "engine")
        ours = race("engine", env, processes, count)
        check_engine_store(env, before, ours[0])
        for side, (recorded, refused, seconds) in (("bare", bare), ("engine", ours)):
            note(
                f"scale-out {side}: {recorded:,} recorded, {refused} refused after "
                f"{ATTEMPTS} attempts, {seconds:.1f} s, {recorded / seconds:,.0f} commands/s"
            )
        plural = "processes" if processes > 1 else "process"
        rows.append(
            figure(
                f"commands_per_s_postgres_{processes}_{plural}",
                ours[0] / ours[2],
                "commands/s",
                bare[0] / bare[2],
                "higher",
            )
        )
    return rows


if __name__ == "__main__":  # a worker: python bench/scale_out.py MODE ENV NUMBER COUNT RUN
    worker_main(*sys.argv[1:])
