"""Figure 4, ``catch_up_events_per_s_sqlite`` and the rebuild figures: feeding the read models.
(Each with ``_postgres`` in place of ``_sqlite`` on PostgreSQL: ``--backend``.)

The event store: one store of the backend (an SQLite file, or a schema in the run's fresh
PostgreSQL database; ``adapters.store.engine_env``, as ``kringloop`` opens it)
holding the ``workload`` programme and then initiatives taken through their whole 20-step
lifecycle, 50 side by side (``workload.interleaved``), recorded with ``Engine.execute_batch``
in batches of ``BATCH_SIZE`` commands with the engine's clock fixed at ``CLOCK``, one event
per command (small: 200,007 events, large: 1,000,007; ``--events N``: N rounded up to whole
lifecycles). Generating it is slow (~8,000 events/s on SQLite) and not timed; it is made
once per run and backend and shared by every figure below and by ``audit.py``.

The baseline for every figure is the *bare pass* over the same events: ``select_notifications
(start=pos, limit=5000, inclusive_of_start=False)`` on the engine's recorder,
``engine.mapper.to_domain_event`` for each, and a plain ``executemany`` upsert
(``INSERT ... ON CONFLICT(notification_id) DO UPDATE``) of the same decision-log rows the
projector writes (the columns of ``projections.tables.DecisionRow``, with the same value
encodings), one transaction per batch, into a fresh table with the read store's own DDL for
``decisions`` (its indexes included): on SQLite with ``sqlite3`` into a fresh file (WAL,
``synchronous=NORMAL``), on PostgreSQL with ``psycopg`` into a fresh schema of the same
database as the read models.
The only state it keeps is which programme or initiative each aggregate id belongs to. After
the catch-up, its table is checked to hold exactly the runner's ``decisions`` rows.

* ``catch_up_events_per_s_sqlite``: ``Runner(engine, ReadStore(url)).catch_up()`` with the
  default batch size, from position 0 on a fresh read store (tables created, not
  timed), in process, vs the bare pass in process. Events/s; ``ratio = value / baseline``.
  Goals: >= 50,000 events/s and ratio >= 0.5. The median over ``REPEATS`` rounds (each on
  fresh read stores, the bare pass first in odd rounds and last in even ones) is reported.
* ``rebuild_peak_memory_mb_sqlite``: peak resident set after the work (interpreter and
  imports included) of a fresh process that opens the engine and the read store the
  catch-up filled and runs ``Runner.rebuild()`` (fresh tables, catch up into them, swap them
  in, dropping the old ones), vs that of a fresh process doing the bare pass over the same
  events. The peak is ``VmHWM``, not ``ru_maxrss``: on Linux the latter would also count
  this benchmark process's own size when it spawned the child (see ``peak_rss_mb``). MB;
  lower is better, ``ratio = baseline / value``. Goal: under 300 MB at 1,000,000 events
  (the large size).
* ``rebuild_events_per_s_sqlite``: events/s of that rebuild (its ``rebuild()`` call alone),
  vs the bare pass's events/s in its own process. ``ratio = value / baseline``.

``--profile`` profiles the in-process catch-up (not the subprocesses).
"""

from __future__ import annotations

import json
import re
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date
from functools import cache
from itertools import chain
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any, Literal

from figure import figure, note, stopwatch
from workload import (
    STEPS_PER_INITIATIVE,
    interleaved,
    numbered,
    programme_commands,
    record_in_batches,
)

from domain.engine import Engine

if TYPE_CHECKING:
    from backend import Backend

# Only the parent imports adapters.* and projections.* (inside functions): the bare pass's
# process must not pay for SQLAlchemy and SQLModel in its resident memory.

EVENTS = {"small": 200_000, "large": 1_000_000}  # at least this many events in the store
REPEATS = {"small": 2, "large": 1}  # in-process catch-up rounds; medians are reported
BATCH_SIZE = 500  # commands per execute_batch while generating the store
BARE_BATCH = 5000  # notifications per select in the bare pass (the runner's default)
CLOCK = date(2030, 1, 1)  # the engine's "today": after every generated effective date
PROGRESS_EVERY = 100_000

BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "decision", "originator_topic"}
COLUMNS = (
    "notification_id, subject_kind, subject_id, programme_id, version, event, step, actor, "
    "reason, evidence, effective, recorded_at, command_id, details"
)
DECISIONS_DDL = [  # the read store's own DDL for `decisions` on SQLite (checked in `run`)
    """CREATE TABLE decisions (
        notification_id INTEGER NOT NULL,
        subject_kind VARCHAR NOT NULL,
        subject_id VARCHAR NOT NULL,
        programme_id VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        event VARCHAR NOT NULL,
        step VARCHAR NOT NULL,
        actor VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        evidence VARCHAR NOT NULL,
        effective DATE NOT NULL,
        recorded_at DATETIME NOT NULL,
        command_id VARCHAR NOT NULL,
        details VARCHAR NOT NULL,
        PRIMARY KEY (notification_id)
    )""",
    "CREATE INDEX ix_decisions_subject_id ON decisions (subject_id)",
    "CREATE INDEX ix_decisions_programme_id ON decisions (programme_id)",
    "CREATE INDEX ix_decisions_event ON decisions (event)",
    "CREATE INDEX ix_decisions_actor ON decisions (actor)",
    "CREATE INDEX ix_decisions_effective ON decisions (effective)",
]
UPSERT = (
    f"INSERT INTO decisions ({COLUMNS}) VALUES ({', '.join(['?'] * 14)}) "
    "ON CONFLICT(notification_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS.split(", ")[1:])
)
ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)  # as the read store encodes JSON
Target = dict[str, Any]  # a read store or bare table: {"url", "schema"} (+ "ddl" on PostgreSQL)


# -- the event store ---------------------------------------------------------------------


def commands(target: int) -> Iterator[dict[str, Any]]:
    """The programme, then enough whole initiative lifecycles for ``target`` events."""
    setup = programme_commands()
    initiatives = -(-(target - len(setup)) // STEPS_PER_INITIATIVE)  # round up
    return numbered(chain(setup, interleaved(initiatives)), "catch-up")


def generate(env: dict[str, str], target: int) -> int:
    """Record the workload with execute_batch; returns the number of events."""
    engine = Engine(env=env, clock=lambda: CLOCK)
    try:
        return record_in_batches(engine, commands(target), BATCH_SIZE, PROGRESS_EVERY, "")
    finally:
        engine.close()


_GENERATED: dict[tuple[str, int], tuple[dict[str, str], int]] = {}


def generated(backend: Backend, target: int) -> tuple[dict[str, str], int]:
    """A store of at least ``target`` events on the backend, generated once per run (not
    timed); returns its environment and its number of events."""
    key = (str(backend.folder), target)
    if key not in _GENERATED:
        env = backend.env(f"generated_{target}")
        note(f"generating a store of at least {target:,} events on {backend.name} (not timed)")
        begun = time.perf_counter()
        count = generate(env, target)
        took = time.perf_counter() - begun
        note(f"generated {count:,} events in {took:.1f} s ({count / took:,.0f} events/s)")
        _GENERATED[key] = env, count
    return _GENERATED[key]


# -- the bare pass -----------------------------------------------------------------------


@cache
def step_words(event_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", event_name).lower()


class SQLiteTable:
    """The bare pass's table in a fresh SQLite file."""

    def __init__(self, target: Target) -> None:
        self.conn = sqlite3.connect(target["url"].removeprefix("sqlite:///"))
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        with self.conn:
            for statement in DECISIONS_DDL:
                self.conn.execute(statement)

    @staticmethod
    def values(decision: Any, event: Any) -> tuple[str, str]:
        """effective and recorded_at as SQLite stores them: ISO text, naive UTC."""
        recorded = event.timestamp.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        return decision.effective.isoformat(), recorded

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        with self.conn:  # one transaction per batch
            self.conn.executemany(UPSERT, rows)

    def close(self) -> None:
        self.conn.close()


class PostgresTable:
    """The bare pass's table in a fresh PostgreSQL schema (the read store's DDL)."""

    def __init__(self, target: Target) -> None:
        import psycopg

        self.conn = psycopg.connect(target["url"], autocommit=True)
        self.conn.execute(f'CREATE SCHEMA "{target["schema"]}"')
        self.conn.execute(f'SET search_path TO "{target["schema"]}"')
        for statement in target["ddl"]:
            self.conn.execute(statement)
        self.upsert = UPSERT.replace("?", "%s")

    @staticmethod
    def values(decision: Any, event: Any) -> tuple[Any, Any]:
        """effective and recorded_at as the runner hands them to psycopg."""
        return decision.effective, event.timestamp.astimezone(UTC)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.transaction(), self.conn.cursor() as cursor:
            cursor.executemany(self.upsert, rows)

    def close(self) -> None:
        self.conn.close()


def bare_table(target: Target) -> SQLiteTable | PostgresTable:
    return SQLiteTable(target) if target["url"].startswith("sqlite") else PostgresTable(target)


def bare_pass(env: dict[str, str], target: Target) -> tuple[int, float]:
    """Read every event and upsert its decision-log row; returns (events, seconds)."""
    engine = Engine(env=env)
    table = bare_table(target)
    subjects: dict[Any, tuple[str, str, str]] = {}  # aggregate id -> kind, id, programme
    applied = 0
    try:
        with stopwatch() as elapsed:
            position = 0
            while notifications := engine.recorder.select_notifications(
                start=position, limit=BARE_BATCH, inclusive_of_start=False
            ):
                rows = []
                for notification in notifications:
                    event = engine.mapper.to_domain_event(notification)
                    subject = subjects.get(event.originator_id)
                    if subject is None:
                        kind = type(event).__qualname__
                        if kind == "Programme.Created":
                            subject = ("programme", event.programme_id, event.programme_id)
                        elif kind == "Initiative.Proposed":
                            subject = ("initiative", event.initiative_id, event.programme_id)
                        else:
                            raise AssertionError(f"{kind} before its aggregate was created")
                        subjects[event.originator_id] = subject
                    decision = event.decision
                    name = type(event).__name__
                    effective, recorded = table.values(decision, event)
                    rows.append(
                        (
                            notification.id,
                            *subject,
                            event.originator_version,
                            name,
                            step_words(name),
                            decision.actor,
                            decision.reason,
                            ENCODER.encode(list(decision.evidence)),
                            effective,
                            recorded,
                            decision.command_id,
                            ENCODER.encode(
                                {k: v for k, v in vars(event).items() if k not in BASE_FIELDS}
                            ),
                        )
                    )
                table.write(rows)
                applied += len(rows)
                position = notifications[-1].id
    finally:
        table.close()
        engine.close()
    return applied, elapsed[0]


# -- the runner --------------------------------------------------------------------------


def catch_up(env: dict[str, str], target: Target) -> tuple[int, float]:
    """Runner.catch_up from 0 on a fresh read store; returns (events, seconds)."""
    return _runner_pass(env, target, "catch_up", profile=True)


def rebuild(env: dict[str, str], target: Target) -> tuple[int, float]:
    """Runner.rebuild on the read store at ``target``; returns (events, seconds)."""
    return _runner_pass(env, target, "rebuild", profile=False)


def _runner_pass(
    env: dict[str, str], target: Target, method: Literal["catch_up", "rebuild"], profile: bool
) -> tuple[int, float]:
    """Time the Runner's ``method`` on the read store at ``target``, opened as the CLI opens
    it (store.create: the tables exist already, or are made); returns (events, seconds)."""
    from projections.runner import Runner
    from projections.store import ReadStore

    engine = Engine(env=env)
    store = ReadStore(target["url"], target["schema"])
    try:
        store.create()
        with stopwatch(f"Runner.{method}" if profile else "", profile=profile) as elapsed:
            runner = Runner(engine, store)
            applied = runner.catch_up() if method == "catch_up" else runner.rebuild()
    finally:
        store.close()
        engine.close()
    return applied, elapsed[0]


def check_ddl() -> None:
    """The bare table is the read store's `decisions` table, column for column."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    from projections.store import LIVE_TABLES

    table = LIVE_TABLES["decisions"]
    ours = [" ".join(s.split()) for s in DECISIONS_DDL]
    theirs = [str(CreateTable(table).compile(dialect=sqlite.dialect()))]
    theirs += sorted(str(CreateIndex(i).compile(dialect=sqlite.dialect())) for i in table.indexes)
    theirs = [" ".join(s.split()).replace("( ", "(").replace(" )", ")") for s in theirs]
    ours = [s.replace("( ", "(").replace(" )", ")") for s in ours]
    assert ours[:1] + sorted(ours[1:]) == theirs, (ours, theirs)


def postgres_ddl() -> list[str]:
    """The read store's own DDL for `decisions` on PostgreSQL (unqualified: search_path)."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex, CreateTable

    from projections.store import LIVE_TABLES

    table = LIVE_TABLES["decisions"]
    statements = [str(CreateTable(table).compile(dialect=postgresql.dialect()))]
    statements += [str(CreateIndex(i).compile(dialect=postgresql.dialect())) for i in table.indexes]
    return statements


def bare_target(backend: Backend, label: str) -> Target:
    if backend.database_url is None:
        (backend.folder / label).mkdir(parents=True, exist_ok=True)
        return {"url": f"sqlite:///{backend.folder / label / 'bare.sqlite'}", "schema": None}
    return {"url": backend.database_url, "schema": label, "ddl": postgres_ddl()}


def check_same_rows(bare: Target, read: Target, count: int) -> int:
    """The bare pass wrote exactly the runner's decision-log rows; returns how many of the
    runner's rows carry the offset described below (SQLite).

    ``recorded_at`` is compared without a ``+00:00`` suffix: the bare pass stores naive UTC,
    as ``working_set._utc_naive`` does; a runner whose DateTime converter misses SQLModel's
    ``UTCDateTime`` column type passes the aware value through and stores the offset (``run``
    notes it on stderr).
    """
    if not bare["url"].startswith("sqlite"):
        return _check_same_rows_postgres(bare, read, count)
    columns = COLUMNS.replace("recorded_at", "replace(recorded_at, '+00:00', '')")
    conn = sqlite3.connect(read["url"].removeprefix("sqlite:///"))
    try:
        conn.execute("ATTACH DATABASE ? AS bare", (bare["url"].removeprefix("sqlite:///"),))
        for one, other in (("main", "bare"), ("bare", "main")):
            differ = conn.execute(
                f"SELECT count(*) FROM (SELECT {columns} FROM {one}.decisions "
                f"EXCEPT SELECT {columns} FROM {other}.decisions)"
            ).fetchone()[0]
            assert differ == 0, f"{differ} rows of {one}.decisions are not in {other}.decisions"
        for schema in ("main", "bare"):
            found = conn.execute(f"SELECT count(*) FROM {schema}.decisions").fetchone()[0]
            assert found == count, (schema, found, count)
        aware: int = conn.execute(
            "SELECT count(*) FROM main.decisions WHERE recorded_at LIKE '%+00:00'"
        ).fetchone()[0]
    finally:
        conn.close()
    return aware


def _check_same_rows_postgres(bare: Target, read: Target, count: int) -> int:
    import psycopg

    tables = f'"{bare["schema"]}".decisions', f'"{read["schema"]}".decisions'
    with psycopg.connect(bare["url"]) as conn:
        for one, other in (tables, tables[::-1]):
            differ = conn.execute(
                f"SELECT count(*) FROM (SELECT {COLUMNS} FROM {one} "
                f"EXCEPT SELECT {COLUMNS} FROM {other}) AS d"
            ).fetchone()
            assert differ == (0,), f"{differ} rows of {one} are not in {other}"
        for table in tables:
            found = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert found == (count,), (table, found, count)
    return 0


# -- separate processes, for their peak memory -------------------------------------------


def in_child(mode: str, env: dict[str, str], target: Target) -> dict[str, float]:
    """Run the bare pass or the rebuild in a fresh interpreter; its events, seconds, peak."""
    argv = [sys.executable, __file__, mode, json.dumps(env), json.dumps(target)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} process failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def peak_rss_mb() -> float:
    """This process's peak resident set since it started, in MB.

    ``VmHWM`` from ``/proc/self/status`` where there is one: on Linux ``ru_maxrss`` also
    counts the address space a child was spawned from (``fork``/``vfork`` then ``exec``
    keep the parent's high-water mark), so a child of this grown benchmark process would
    report the parent's peak, not its own. Elsewhere, ``getrusage(RUSAGE_SELF).ru_maxrss``.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS


def child_main(mode: str, env_json: str, target_json: str) -> None:
    work = {"bare": bare_pass, "rebuild": rebuild}[mode]
    events, seconds = work(json.loads(env_json), json.loads(target_json))
    result = {
        "events": events,
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    sys.stdout.write(json.dumps(result) + "\n")


# -- the figures -------------------------------------------------------------------------


def run(size: str, backend: Backend, events: int | None = None) -> list[dict[str, Any]]:
    check_ddl()
    env, count = generated(backend, events or EVENTS[size])
    suffix = backend.suffix

    bare, runner = [], []
    for r in range(1 if events else REPEATS[size]):
        # alternate which goes first, so a change in the machine's load is shared out
        order = ("bare", "runner") if r % 2 == 0 else ("runner", "bare")
        note(f"catch-up, round {r + 1}: {order[0]} first, then {order[1]}")
        bare_at, read_at = bare_target(backend, f"catchup_bare_{r}"), None
        for which in order:
            if which == "bare":
                applied, seconds = bare_pass(env, bare_at)
                bare.append(count / seconds)
            else:
                read_at = backend.read_target(f"catchup_{r}")
                applied, seconds = catch_up(env, read_at)
                runner.append(count / seconds)
            assert applied == count, (which, applied, count)
        note(f"catch-up: bare pass {bare[-1]:,.0f} events/s, runner {runner[-1]:,.0f}")
        assert read_at is not None
        aware = check_same_rows(bare_at, read_at, count)
        if aware and not r:
            note(f"catch-up: {aware:,} runner rows store recorded_at with a +00:00 offset")
    rows = [
        figure(f"catch_up_events_per_s{suffix}", median(runner), "events/s", median(bare), "higher")
    ]

    note("rebuild: bare pass in its own process, then Runner.rebuild in another")
    bare_at = bare_target(backend, "rebuild_bare")
    bare_child = in_child("bare", env, bare_at)
    rebuilt_at = backend.read_target("catchup_0")  # filled by round 1
    rebuilt = in_child("rebuild", env, rebuilt_at)
    for result in (bare_child, rebuilt):
        assert result["events"] == count, (result, count)
    note(
        f"rebuild: bare pass {bare_child['peak_mb']:.0f} MB peak, "
        f"{count / bare_child['seconds']:,.0f} events/s; rebuild {rebuilt['peak_mb']:.0f} MB "
        f"peak, {count / rebuilt['seconds']:,.0f} events/s (ru_maxrss, which includes "
        f"this process's size at spawn: {bare_child['ru_maxrss_mb']:.0f} and "
        f"{rebuilt['ru_maxrss_mb']:.0f} MB)"
    )
    check_same_rows(bare_at, rebuilt_at, count)
    rows.append(
        figure(
            f"rebuild_peak_memory_mb{suffix}",
            rebuilt["peak_mb"],
            "MB",
            bare_child["peak_mb"],
            "lower",
        )
    )
    rows.append(
        figure(
            f"rebuild_events_per_s{suffix}",
            count / rebuilt["seconds"],
            "events/s",
            count / bare_child["seconds"],
            "higher",
        )
    )
    return rows


if __name__ == "__main__":  # a child process: python bench/catch_up.py MODE ENV_JSON TARGET_JSON
    child_main(*sys.argv[1:])
