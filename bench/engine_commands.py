"""Figure 1, ``broker_commands_per_s_sqlite`` (and ``_postgres``): broker commands per second.

What is compared, on two fresh stores of the backend (two SQLite files in one temporary
folder, or two schemas in the run's fresh PostgreSQL database; see ``backend.py``), with the same
eventsourcing environment (``adapters.store.engine_env``: ``AGGREGATE_CACHE_MAXSIZE`` from
the default settings, WAL journal, the same lock timeout; the baseline without Kringloop's
hash-chained recorder, which the engine pays for):

* the engine: ``Engine.execute(command)`` on pre-parsed ``report-impact`` commands, spread
  round-robin over ``AGGREGATES`` initiatives that stand at "consortium formed" (set up
  beforehand, untimed, through the real lifecycle commands). Each command loads the
  initiative and its programme, checks the broker's mandate and the effective date,
  fingerprints the command, applies one ``ImpactReported`` event and saves it, and the
  engine takes its configured snapshots. Parsing JSON into commands is not timed (the
  apply benchmark covers it).
* the baseline: the bare library, a plain ``eventsourcing.domain.Aggregate`` subclass on a
  plain ``Application`` (no snapshotting), doing the same get-mutate-save loop:
  ``repository.get``, one ``@event`` method with the same period and figures, ``save``;
  one event per save, the same number of commands over the same number of aggregates.

``ratio = engine commands/s / bare commands/s``; the goal is >= 0.8. The size sets the
command count (quick 500, small 3,000, large 20,000; ``--events N`` sets N commands, one
round) and the rounds: each round runs the baseline and then the engine on fresh stores, and
the medians over the rounds are reported.

With history (issue 16: a write path that does not slow with history),
``broker_commands_per_s{suffix}_100``, ``_1000`` and ``_10000``: the same ``report-impact``
commands on ``HISTORY_AGGREGATES`` initiatives that already hold about that many events each
(the history is recorded beforehand with ``Engine.execute_batch``, untimed; the engine takes
its snapshots along the way, as in use), against the bare library on plain aggregates that
already hold as many events each (saved in bulk, untimed). ``..._10000_vs_100`` is the
engine at 10,000 events against the engine at 100 (goal >= 0.9; against bare, >= 0.8). The
size sets the timed commands per history length (quick 300, small 1,500, large 5,000); all
six sides run in turns, a tenth of their commands at a time, so that the load of a shared
machine falls on them alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import median
from typing import Any
from uuid import UUID

from backend import Backend
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from figure import figure, note, stopwatch
from workload import CONSORTIUM_STEPS, lifecycle, numbered, programme_commands

from domain.commands.catalogue import Command, parse_command
from domain.engine import Engine

COMMANDS = {"quick": 500, "small": 3_000, "large": 20_000}
REPEATS = {"quick": 1, "small": 3, "large": 1}  # rounds, each on fresh stores; medians are reported
AGGREGATES = 10
EFFECTIVE = "2020-01-01"
PERIODS = 25  # report-impact cycles over this many years; a later report replaces one


class Meter(Aggregate):
    """The baseline's aggregate: impact figures by period, nothing else."""

    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.impact: dict[str, dict[str, float]] = {}

    @event("ImpactReported")
    def report_impact(self, period: int, figures: dict[str, float]) -> None:
        self.impact[str(period)] = dict(figures)


class BareApplication(Application[UUID]):
    name = "BareBench"


def impact(k: int) -> tuple[int, dict[str, float]]:
    """The k-th report: which year, which figures."""
    period = 2000 + (k // AGGREGATES) % PERIODS
    return period, {"jobs_fte": float(k % 97 + 1), "tonnes_processed_per_year": float(k * 10)}


def setup_engine(engine: Engine) -> list[str]:
    """A programme and AGGREGATES initiatives at "consortium formed"; returns their ids."""
    ids = [f"meter-{i:02d}" for i in range(AGGREGATES)]
    setup: list[dict[str, Any]] = programme_commands()
    for i, initiative in enumerate(ids):
        setup += [
            {**step, "effective": "2016-01-01"}
            for step in lifecycle(initiative, i)[:CONSORTIUM_STEPS]
        ]
    for payload in numbered(iter(setup), "setup"):
        engine.execute(parse_command(payload))
    return ids


def report_commands(ids: list[str], count: int, first: int = 0) -> list[Command]:
    commands = []
    for k in range(first, first + count):
        period, figures = impact(k)
        commands.append(
            parse_command(
                {
                    "command": "report-impact",
                    "command_id": f"impact-{k:07d}",
                    "initiative_id": ids[k % len(ids)],
                    "actor": "broker-anna" if (k % len(ids)) % 2 == 0 else "broker-bas",
                    "reason": "Yearly figures from the consortium",
                    "evidence": [f"annual-report-{period}.pdf"],
                    "effective": EFFECTIVE,
                    "period": period,
                    "jobs_fte": figures["jobs_fte"],
                    "tonnes_processed_per_year": figures["tonnes_processed_per_year"],
                }
            )
        )
    return commands


def engine_rate(env: dict[str, str], count: int) -> float:
    engine = Engine(env=env)
    try:
        ids = setup_engine(engine)
        commands = report_commands(ids, count)
        with stopwatch("Engine.execute loop", profile=True) as elapsed:
            for command in commands:
                engine.execute(command)
        expected = CONSORTIUM_STEPS + count // len(ids)
        versions = {engine.initiative(i).version for i in ids}
        assert versions == {expected}, f"expected version {expected}, got {versions}"
    finally:
        engine.close()
    return count / elapsed[0]


def bare_env(env: dict[str, str]) -> dict[str, str]:
    """The bare library: the same store settings, without Kringloop's hash-chained recorder."""
    return {k: v for k, v in env.items() if k != "APPLICATION_RECORDER_TOPIC"}


def bare_rate(env: dict[str, str], count: int) -> float:
    app = BareApplication(env=bare_env(env))
    try:
        meters = [Meter(name=f"meter-{i:02d}") for i in range(AGGREGATES)]
        app.save(*meters)
        ids = [m.id for m in meters]
        with stopwatch() as elapsed:
            for k in range(count):
                meter = app.repository.get(ids[k % len(ids)])
                period, figures = impact(k)
                meter.report_impact(period, figures)
                app.save(meter)
        versions = {app.repository.get(i).version for i in ids}
        assert versions == {1 + count // len(ids)}, versions
    finally:
        app.close()
    return count / elapsed[0]


HISTORIES = (100, 1_000, 10_000)
HISTORY_AGGREGATES = 2
HISTORY_COMMANDS = {"quick": 300, "small": 1_500, "large": 5_000}
CHUNK = 500  # history recorded this many commands per batch
SLICES = 10  # the timed commands of each side, in this many turns


class Timed:
    """One side of a history figure, its store built beforehand: ``step(k)`` decides the
    k-th timed command; the seconds spent in steps add up in ``elapsed``."""

    def __init__(self, step: Callable[[int], Any], done: Callable[[], None]) -> None:
        self.step, self.done, self.elapsed = step, done, 0.0

    def run(self, ks: range) -> None:
        start = time.perf_counter()
        for k in ks:
            self.step(k)
        self.elapsed += time.perf_counter() - start


def engine_after(env: dict[str, str], history: int, count: int) -> Timed:
    """The engine on initiatives that already hold ``history`` events each."""
    engine = Engine(env=env)
    ids = setup_engine(engine)[:HISTORY_AGGREGATES]
    earlier = (history - CONSORTIUM_STEPS) * len(ids)
    for start in range(0, earlier, CHUNK):
        batch = report_commands(ids, min(CHUNK, earlier - start), first=start)
        assert engine.execute_batch(batch).refusal is None
    commands = report_commands(ids, count, first=earlier)

    def done() -> None:
        expected = history + count // len(ids)
        versions = {engine.initiative(i).version for i in ids}
        engine.close()
        assert versions == {expected}, f"expected version {expected}, got {versions}"

    return Timed(lambda k: engine.execute(commands[k]), done)


def bare_after(env: dict[str, str], history: int, count: int) -> Timed:
    """The bare loop on plain aggregates that already hold ``history`` events each."""
    app = BareApplication(env=bare_env(env))
    meters = [Meter(name=f"meter-{i:02d}") for i in range(HISTORY_AGGREGATES)]
    for k in range(history - 1):
        for meter in meters:
            meter.report_impact(*impact(k))
        if k % CHUNK == CHUNK - 1:
            app.save(*meters)
    app.save(*meters)
    ids = [m.id for m in meters]

    def step(k: int) -> None:
        meter = app.repository.get(ids[k % len(ids)])
        meter.report_impact(*impact(k))
        app.save(meter)

    def done() -> None:
        versions = {app.repository.get(i).version for i in ids}
        app.close()
        assert versions == {history + count // len(ids)}, versions

    return Timed(step, done)


def with_history(size: str, backend: Backend) -> list[dict[str, Any]]:
    """The history figures. All six stores are built first (untimed); then the timed
    commands run in slices, every side taking its turn in each slice (in a rotating order),
    so that a noisy moment on a shared machine falls on all of them alike."""
    count = HISTORY_COMMANDS.get(size, HISTORY_COMMANDS["small"])
    sides: dict[tuple[int, str], Timed] = {}
    for history in HISTORIES:
        note(f"broker commands: building stores with {history:,} events per initiative")
        sides[history, "bare"] = bare_after(backend.env(f"history_{history}_bare"), history, count)
        env = backend.env(f"history_{history}_engine")
        sides[history, "engine"] = engine_after(env, history, count)
    order = list(sides)
    for n, start in enumerate(range(0, count, count // SLICES)):
        ks = range(start, min(start + count // SLICES, count))
        for key in order[n % len(order) :] + order[: n % len(order)]:
            sides[key].run(ks)
    for side in sides.values():
        side.done()
    rate = {key: count / side.elapsed for key, side in sides.items()}
    rows = []
    for history in HISTORIES:
        bare, engine = rate[history, "bare"], rate[history, "engine"]
        note(
            f"broker commands after {history:,} events per initiative: bare library "
            f"{bare:,.0f}/s, engine {engine:,.0f}/s"
        )
        name = f"broker_commands_per_s{backend.suffix}_{history}"
        rows.append(figure(name, engine, "commands/s", bare, "higher"))
    longest, shortest = HISTORIES[-1], HISTORIES[0]
    name = f"broker_commands_per_s{backend.suffix}_{longest}_vs_{shortest}"
    rows.append(
        figure(name, rate[longest, "engine"], "commands/s", rate[shortest, "engine"], "higher")
    )
    return rows


def run(size: str, backend: Backend, events: int | None = None) -> list[dict[str, Any]]:
    count = events or COMMANDS[size]
    bare, engine = [], []
    for r in range(1 if events else REPEATS[size]):
        note(f"broker commands, round {r + 1}: {count:,} commands over {AGGREGATES}")
        bare.append(bare_rate(backend.env(f"commands_bare_{r}"), count))
        engine.append(engine_rate(backend.env(f"commands_engine_{r}"), count))
        note(f"broker commands: bare library {bare[-1]:,.0f}/s, engine {engine[-1]:,.0f}/s")
    name = f"broker_commands_per_s{backend.suffix}"
    rows = [figure(name, median(engine), "commands/s", median(bare), "higher")]
    return rows + with_history(size, backend)
