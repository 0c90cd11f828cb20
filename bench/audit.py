"""Audit figures: as-of reconstruction and the hash-chain verification.

* ``as_of_1000_events_ms``: ``adapters.audit.records.as_of`` of one initiative with 1,000
  events (a lifecycle, then impact reports), at 50 dates spread over its history, by
  effective date (the read model's decision index finds the version, the engine rebuilds
  it from the nearest snapshot): the mean in milliseconds. Baseline: the bare library
  replaying the same aggregate's events up to the same versions without snapshots
  (``repository.get(id, version=N)`` on an Application with snapshotting off, the same
  store). Goal: under 10 ms. ``ratio = baseline / value``.
* ``audit_verify_events_per_s`` and ``audit_verify_s`` (``_postgres`` appended on
  PostgreSQL): ``verify_store`` over every event of the store the catch-up figures use
  (``catch_up.generated``: small 200,007 events, large 1,000,007; ``--events N``). Goal
  (large): under 60 s. Baseline: a bare pass that only reads and decodes the same events
  (``select_notifications`` in pages of 5,000 and ``mapper.to_domain_event``).

* ``audit_verify_anchored_s``: the same verify with 1,000 seals of the whole store (a
  seal a minute for a working day and more: each seal file as big as a real one) and an
  anchor an hour (signed checkpoints, no network), against the same verify without
  anchors (``anchors=False``): what holding the seals to their anchors costs.

* ``progress_as_of_s`` and ``progress_as_of_repeat_s`` (``_postgres`` appended on
  PostgreSQL): ``adapters.audit.records.progress_as_of`` of the workload's programme at a
  day in the store's last month of decisions (the latest effective date less 15 days: the
  month-end checkpoint plus half a month's remainder), given the live read models (caught
  up, not timed) as ``programme progress --as-of`` gives them: the first call (no
  checkpoints yet: it builds them, one per month end) and the same call again. Goal: under
  2 s at 1,000,000 events (the repeated call). Baseline: the bare sandbox pass (today's path
  without the read models: every event decoded, those in effect projected into a fresh
  SQLite sandbox), at the same day.
* ``report_yearly_series_s``: ``progress_by_date`` at 31 December of every year from the
  programme's founding to the last year with decisions (what ``kringloop report`` draws),
  after the as-of calls (the checkpoints up to that day exist; the call builds the last
  month's). Goal: under 10 s at 1,000,000 events. Baseline: the bare sandbox pass for each
  of those days, summed.

These use the catch-up store (``--size quick``: ``QUICK_EVENTS``). The as-of figure does not
grow with the store and runs on SQLite only.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from itertools import islice
from typing import Any

from backend import Backend
from catch_up import EVENTS, generated
from figure import figure, note, stopwatch
from workload import CONSORTIUM_STEPS, interleaved, programme_commands

from domain.commands.catalogue import parse_command
from domain.engine import Engine

CLOCK = date(2030, 1, 1)
QUICK_EVENTS = 30_000  # the store of --size quick: the whole quick run within about 3 minutes
INITIATIVE = "initiative-000000"  # the first of workload.interleaved


def long_history(env: dict[str, str]) -> tuple[Engine, str]:
    """One initiative with 1,000 events: to its consortium, then daily impact reports."""
    engine = Engine(env=env, clock=lambda: CLOCK)
    setup = programme_commands() + list(islice(interleaved(1), CONSORTIUM_STEPS))
    for number, fields in enumerate(setup):
        engine.execute(parse_command({"command_id": f"setup-{number}", **fields}))
    day = date.fromisoformat(setup[-1]["effective"])
    commands = []
    while engine.initiative(INITIATIVE).version + len(commands) < 1000:
        day += timedelta(days=1)
        commands.append(
            parse_command(
                {
                    "command": "report-impact",
                    "initiative_id": INITIATIVE,
                    "actor": "broker-anna",
                    "reason": "benchmark",
                    "effective": day.isoformat(),
                    "period": 2000 + len(commands) % 100,
                    "jobs_fte": len(commands),
                }
            )
        )
    for start in range(0, len(commands), 500):
        engine.execute_batch(commands[start : start + 500])
    return engine, INITIATIVE


def as_of_figure(backend: Backend) -> dict[str, Any]:
    from adapters.audit.records import as_of
    from projections.runner import Runner

    env = backend.env("asof")
    engine, initiative_id = long_history(env)
    reads = backend.read_store("asof")
    Runner(engine, reads).catch_up()
    aggregate = engine.initiative(initiative_id)
    assert aggregate.version == 1000, aggregate.version
    first = date(2016, 1, 1)
    days = [first + timedelta(days=25 * i) for i in range(1, 51)]
    versions = []
    with stopwatch() as elapsed:
        for day in days:
            state = as_of(engine, reads, initiative_id, at=day, by="effective")
            versions.append(state.version if state else 0)
    ours = 1000 * elapsed[0] / len(days)

    class Replaying(Engine):
        """The engine's events and transcodings, without snapshots or cache."""

        snapshotting_intervals = {}

    bare_app = Replaying(env={k: v for k, v in env.items() if k != "AGGREGATE_CACHE_MAXSIZE"})
    start = time.perf_counter()
    for version in versions:
        if version:
            bare_app.repository.get(aggregate.id, version=version)
    bare = 1000 * (time.perf_counter() - start) / len(days)
    note(f"as-of: {ours:.2f} ms per reconstruction, bare replay {bare:.2f} ms")
    return figure("as_of_1000_events_ms", ours, "ms", bare, "lower")


def verify_figures(backend: Backend, size: str, events: int | None) -> list[dict[str, Any]]:
    from adapters.audit.verify import verify_store

    env, count = generated(backend, events or store_size(size))
    engine = Engine(env=env, clock=lambda: CLOCK)
    home = backend.folder / "verify"
    home.mkdir(exist_ok=True)
    with stopwatch("verify", profile=True) as elapsed:
        report, _ = verify_store(engine.recorder, home)
    assert report.ok, report.as_dict()
    assert report.events == count
    ours = elapsed[0]
    start, position, decoded = time.perf_counter(), 0, 0
    while notifications := engine.recorder.select_notifications(
        start=position, limit=5000, inclusive_of_start=False
    ):
        decoded += len([engine.mapper.to_domain_event(n) for n in notifications])
        position = notifications[-1].id
    bare = time.perf_counter() - start
    engine.close()
    note(f"verify: {count:,} events in {ours:.1f} s; bare read+decode {bare:.1f} s")
    suffix = "" if backend.name == "sqlite" else backend.suffix  # the SQLite names came first
    anchored, plain = anchored_verify(engine_env=env, home=home)
    return [
        figure(f"audit_verify_s{suffix}", ours, "s", bare, "lower"),
        figure(
            f"audit_verify_events_per_s{suffix}", count / ours, "events/s", decoded / bare, "higher"
        ),
        figure(f"audit_verify_anchored_s{suffix}", anchored, "s", plain, "lower"),
    ]


ANCHORED_SEALS = 1_000


def anchored_verify(engine_env: dict[str, str], home: Any) -> tuple[float, float]:
    """verify_store with ANCHORED_SEALS seals of the whole store, each anchored (a
    checkpoint signed by the installation's key, no network), against the same verify
    without anchors: what holding the seals to their anchors costs."""
    from datetime import UTC, datetime

    from adapters.audit import merkle
    from adapters.audit.anchoring import Anchor, keep, origin
    from adapters.audit.keys import signing_key
    from adapters.audit.notes import Checkpoint, sign_note
    from adapters.audit.verify import seal, seal_files, verify_store
    from adapters.settings import Settings

    engine = Engine(env=engine_env, clock=lambda: CLOCK)
    report, heads = verify_store(engine.recorder, home, anchors=False)
    first = seal(home, heads, report.names, report.position) or seal_files(home)[-1]
    body = first.read_text()
    for number in range(1, ANCHORED_SEALS):  # a seal per minute: as many files, as big
        (first.parent / f"{first.stem}-{number:05d}.json").write_text(body.replace("{", " {", 1))
    settings = Settings(home=home)
    name, key = origin(settings), signing_key(home)
    leaves = [merkle.leaf_hash(path.read_bytes()) for path in seal_files(home)]
    hourly = range(1, len(leaves) + 1, 60)
    for size in [*hourly, len(leaves)]:  # anchored hourly, and the latest
        checkpoint = Checkpoint(name, size, merkle.root(leaves[:size]))
        keep(
            settings,
            Anchor(sign_note(checkpoint.text(), name, key), None, datetime.now(tz=UTC).isoformat()),
        )
    sealed_kb = first.stat().st_size / 1024
    with stopwatch("verify anchored") as elapsed:
        anchored, _ = verify_store(engine.recorder, home, settings=settings)
    assert anchored.ok, anchored.as_dict()
    assert anchored.anchoring.size == len(leaves), anchored.as_dict()
    start = time.perf_counter()
    verify_store(engine.recorder, home, anchors=False)
    plain = time.perf_counter() - start
    engine.close()
    anchors = len(hourly) + 1
    note(
        f"verify with {len(leaves):,} seals of {sealed_kb:,.0f} KB and {anchors} anchors: "
        f"{elapsed[0]:.2f} s; without anchors {plain:.2f} s"
    )
    return elapsed[0], plain


def in_effect_figures(backend: Backend, size: str, events: int | None) -> list[dict[str, Any]]:
    from sqlmodel import Session, func, select
    from workload import FOUNDED, PROGRAMME

    from adapters.audit.records import progress_as_of, progress_by_date
    from projections.checkpoints import DecisionIndex
    from projections.runner import Runner
    from projections.tables import DecisionRow

    env, count = generated(backend, events or store_size(size))
    engine = Engine(env=env, clock=lambda: CLOCK)
    reads = backend.read_store("in_effect")
    Runner(engine, reads).catch_up()
    folder = backend.folder / "in_effect_checkpoints"
    index = DecisionIndex(reads)
    last = index.month_ends()[-1]
    with Session(reads.engine) as session:
        latest = session.exec(select(func.max(DecisionRow.effective))).one()
    day = (date.fromisoformat(latest) if isinstance(latest, str) else latest) - timedelta(days=15)
    with stopwatch() as bare:
        expected = progress_as_of(engine, PROGRAMME, day)
    with stopwatch("as of, first call", profile=True) as first:
        assert progress_as_of(engine, PROGRAMME, day, reads, folder) == expected
    with stopwatch("as of, again", profile=True) as again:
        assert progress_as_of(engine, PROGRAMME, day, reads, folder) == expected
    ends = [date(year, 12, 31) for year in range(FOUNDED.year, last.year + 1)]
    with stopwatch("yearly series", profile=True) as series:
        found = progress_by_date(engine, PROGRAMME, ends, reads, folder)
    bare_series = 0.0
    for end in ends:
        with stopwatch() as one:
            assert progress_as_of(engine, PROGRAMME, end) == found[end]
        bare_series += one[0]
    engine.close()
    reads.close()
    note(
        f"as of {day} on {count:,} events: first {first[0]:.2f} s, again {again[0]:.2f} s, "
        f"bare {bare[0]:.2f} s; {len(ends)} year ends {series[0]:.2f} s, bare {bare_series:.2f} s"
    )
    suffix = "" if backend.name == "sqlite" else backend.suffix
    return [
        figure(f"progress_as_of_s{suffix}", first[0], "s", bare[0], "lower"),
        figure(f"progress_as_of_repeat_s{suffix}", again[0], "s", bare[0], "lower"),
        figure(f"report_yearly_series_s{suffix}", series[0], "s", bare_series, "lower"),
    ]


def store_size(size: str) -> int:
    return QUICK_EVENTS if size == "quick" else EVENTS[size]


def run(size: str, backend: Backend, events: int | None = None) -> list[dict[str, Any]]:
    as_of = [as_of_figure(backend)] if backend.name == "sqlite" else []
    return [
        *as_of,
        *in_effect_figures(backend, size, events),
        *verify_figures(backend, size, events),
    ]
