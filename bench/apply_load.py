"""Figure 2, ``apply_events_per_s_sqlite`` (and ``_postgres``): bulk loading a JSON-lines
file of commands.

The file holds a programme (streams, sub-streams, mandates) and then initiatives taken
through their 20-step lifecycle, 50 side by side (see ``workload.interleaved``); every
command appends exactly one event, so commands/s = events/s (checked against the store's
last notification id).

* ``apply_events_per_s_sqlite``: in-process ``adapters.commanding.apply_lines`` (batches of
  500, one transaction each), reading and parsing the file as ``kringloop apply`` does, on a
  fresh store wired by ``adapters.bootstrap`` as the CLI wires it (an SQLite file, or a schema
  in the run's PostgreSQL database: see ``backend.py``). Opening is not timed.
* ``apply_events_per_s_sqlite_cli`` (``_postgres_cli``): the real ``kringloop apply FILE
  --json``
  process, wall time from spawn to exit (interpreter start, imports, the line count, the
  load and whatever else the command does before it exits, such as bringing read models up
  to date), always on the small workload, once per run.

Baseline for both: the bare library (plain ``Aggregate`` subclass on a plain
``Application``, same eventsourcing environment) saving the same number of events for the
same aggregates, in the same order and batches of the same size: per batch, each aggregate
is created or taken from ``repository.get`` once, gets one ``@event`` call per command and
the batch is saved in one ``save``. No parsing, no rules. The goal is >= 10,000 events/s.
For the in-process figure, each round runs the baseline and then ``apply_lines`` on fresh
stores and the medians over the rounds are reported (small: 3 rounds, large: 1;
``--events N``: about N commands, 1 round).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from statistics import median
from typing import Any
from uuid import UUID

from backend import Backend
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from figure import figure, note, stopwatch
from workload import STEPS_PER_INITIATIVE, interleaved, numbered, programme_commands

from adapters.bootstrap import bootstrap
from adapters.commanding import apply_lines
from adapters.settings import Settings
from domain.commands.catalogue import Command, parse_command

COMMANDS = {"quick": 10_000, "small": 20_000, "large": 200_000}
REPEATS = {"quick": 1, "small": 3, "large": 1}  # rounds, each on fresh stores; medians are reported
BATCH_SIZE = 500  # what `kringloop apply` uses (apply_lines' default)
CREATES = ("init-authority", "create-programme", "propose-initiative")


class Record(Aggregate):
    """The baseline's aggregate: it counts the steps it was told about."""

    @event("Started")
    def __init__(self, key: str) -> None:
        self.key = key
        self.steps: list[str] = []

    @event("Stepped")
    def step(self, command: str) -> None:
        self.steps.append(command)


class BareApplication(Application[UUID]):
    name = "BareBench"


def workload(target: int) -> list[dict[str, Any]]:
    """About ``target`` valid commands: the programme, then whole initiative lifecycles."""
    setup = programme_commands()
    initiatives = max(1, (target - len(setup)) // STEPS_PER_INITIATIVE)
    return list(numbered(iter(setup + list(interleaved(initiatives))), "bench"))


def write_jsonl(commands: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for command in commands:
            handle.write(json.dumps(command) + "\n")


def numbered_lines(path: Path) -> Iterator[tuple[int, Callable[[], Command]]]:
    """The file's lines as ``kringloop apply`` hands them to apply_lines: parse on demand."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            yield number, (lambda raw=raw: parse_command(json.loads(raw)))


def in_process_rate(path: Path, count: int, settings: Settings) -> float:
    wired = bootstrap(settings)  # logs as the CLI's: stderr, at the settings' level (warning)
    try:
        with stopwatch("apply_lines", profile=True) as elapsed:
            report = apply_lines(wired.engine, numbered_lines(path), batch_size=BATCH_SIZE)
        assert report.stopped is None, f"apply stopped: {report.stopped}"
        assert report.applied == count, (report.applied, count)
        assert wired.engine.recorder.max_notification_id() == count, "one event per command"
    finally:
        wired.close()
    return count / elapsed[0]


def cli_rate(path: Path, count: int, env: dict[str, str]) -> float:
    kringloop = Path(sys.executable).with_name("kringloop")
    argv = [str(kringloop), "apply", str(path), "--json"]
    with stopwatch() as elapsed:
        done = subprocess.run(
            argv, capture_output=True, text=True, check=False, env={**os.environ, **env}
        )
    if done.returncode != 0:
        raise RuntimeError(f"kringloop apply failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    assert summary["applied"] == count, (summary, count)
    return count / elapsed[0]


def bare_rate(commands: list[dict[str, Any]], env: dict[str, str]) -> float:
    plan = [
        (
            c.get("initiative_id") or c.get("programme_id", "authority"),
            c["command"] in CREATES,
            c["command"],
        )
        for c in commands
    ]
    env.pop("APPLICATION_RECORDER_TOPIC", None)  # the bare library: no hash chain
    app = BareApplication(env=env)
    try:
        ids: dict[str, UUID] = {}
        with stopwatch() as elapsed:
            for start in range(0, len(plan), BATCH_SIZE):
                batch: dict[UUID, Record] = {}
                for key, creates, command in plan[start : start + BATCH_SIZE]:
                    if creates:
                        record = Record(key=key)
                        ids[key] = record.id
                    else:
                        record = batch.get(ids[key]) or app.repository.get(ids[key])
                        record.step(command)
                    batch[record.id] = record
                app.save(*batch.values())
        assert app.recorder.max_notification_id() == len(plan), "one event per command"
    finally:
        app.close()
    return len(plan) / elapsed[0]


def run(size: str, backend: Backend, events: int | None = None) -> list[dict[str, Any]]:
    rows = []
    name = f"apply_events_per_s{backend.suffix}"
    with tempfile.TemporaryDirectory(prefix="kringloop-bench-") as tmp:
        folder = Path(tmp)
        commands = workload(events or COMMANDS[size])
        path = folder / "commands.jsonl"
        write_jsonl(commands, path)
        count = len(commands)
        bare, engine = [], []
        for r in range(1 if events else REPEATS[size]):
            note(f"apply, round {r + 1}: {count:,} commands, bare library then apply_lines")
            bare.append(bare_rate(commands, backend.env(f"apply_bare_{r}")))
            engine.append(in_process_rate(path, count, backend.settings(f"apply_engine_{r}")))
            note(f"apply: bare library {bare[-1]:,.0f} events/s, apply_lines {engine[-1]:,.0f}")
        rows.append(figure(name, median(engine), "events/s", median(bare), "higher"))

        if events or size == "large":  # the CLI figure loads the small file (quick: its own)
            commands = workload(COMMANDS["small"])
            path = folder / "small.jsonl"
            write_jsonl(commands, path)
            bare = [bare_rate(commands, backend.env("apply_bare_small"))]
        note(f"apply: `kringloop apply` process on {len(commands):,} commands")
        cli = cli_rate(path, len(commands), backend.cli_env("apply_cli"))
        note(f"apply: kringloop apply {cli:,.0f} events/s")
        rows.append(figure(f"{name}_cli", cli, "events/s", median(bare), "higher"))
    return rows
