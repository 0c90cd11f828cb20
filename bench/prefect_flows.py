"""Benchmark ``flows`` (``run.py --only flows``): the phase-3 scale-up check on a real Prefect,
and what Prefect itself costs per flow run and per task run.

This file is not called ``flows.py`` on purpose: ``run.py`` puts ``bench/`` first on
``sys.path``, so a ``bench/flows.py`` would shadow the project's ``flows`` package (and
``from flows import runtime`` inside ``flows.scale_up_check`` would find this module).

Prefect: ``PREFECT_HOME`` is a temporary folder and ``PREFECT_SERVER_ANALYTICS_ENABLED`` is
``false``, both set before prefect is imported; the server is
``prefect.testing.utilities.prefect_test_harness()`` (a temporary server process on its own
SQLite database, as ``tests/flows/conftest.py`` runs it), started once and not timed, with
``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` set to ``None``. Flows run in this process, as a
deployment's flow run runs in its worker. That server records task runs from the event
stream *after* the flow returns (about 40 ms per task run on a 2-core machine), and while it
catches up, the next ``create_flow_run`` call can wait for seconds. So after every flow run
with task runs this benchmark waits, untimed, until the server reports all of that run's task
runs completed (``settle``; the wait is noted on stderr), and every timed flow run starts on
an idle server.

The event store: the ``workload`` programme (streams, broker mandates), a mandate on 'all'
streams for ``runtime.SCHEDULER`` and the programme's scale-up criteria (at least 12 months
since board withdrawal, 10,000 t/yr, 5 FTE, no open risks), then N initiatives (quick and
small 5,000, large 100,000) taken through the ``workload.lifecycle`` steps up to
``withdraw-board``, each followed by one ``report-impact`` (tonnes 0/10,000/20,000/30,000 and
jobs 0..12 by index, so some are ready, some not, a quarter at risk for output stalled at 0
t/yr): 18 events per initiative, 50 initiatives side by side. It is recorded with
``Engine.execute_batch`` in batches of ``BATCH_SIZE`` commands on the very engine the flows
use (``flows.runtime``, with ``KRINGLOOP_HOME`` pointing at a temporary folder), with the
engine's clock fixed at ``CLOCK``; the read models are then caught up
(``runtime.runner().catch_up()``) and the chain heads sealed (``auto_seal``), as a served
deployment has them (its projection catch-up runs every minute and seals), so the check's
first catch-up does not seal the whole generated history. None of this is timed (about
5,000 events/s). The baseline gets a *second, identical store*: both SQLite files (events
and read models) copied with ``sqlite3``'s backup API after the catch-up, and the audit
folder (signing key, seals), so both sides decide the very same commands with the very same
command ids and seal the same tail.

Before each timed call, ``flows.runtime`` is closed and reopened on that side's folder
(engine and read store open, as a served process has them; the aggregate cache empty; the
clock fixed at ``CLOCK``). The check's day is ``DAY`` on both sides.

* ``scale_up_check_s``: wall time of the call ``scale_up_check(programme_id, today=DAY)``
  on the first store: catch up, one ``check a page`` task per page of ``PAGE`` candidates
  (find the page, assess those not yet assessed today, record them with
  ``runtime.execute_many``), one more that finds no page, catch up again. It records one
  ``ScaleUpAssessed`` per initiative. Baseline: the same work without Prefect, on the
  second store, in a plain loop of the flow's own task functions called as plain functions
  (``.fn``): ``catch_up``, ``check_page`` until a page comes back empty, ``catch_up``.
  Seconds; ``ratio = baseline / value``. The issue's goals: 100,000 initiatives within 60
  s, and the flow at least 0.8 of the loop. Both sides' results must be equal.
* ``scale_up_check_rerun_s``: the same flow run again on the same store and day: it records
  nothing new, and decides nothing: the read models show every candidate assessed today by
  the check's own command, so each page is skipped without loading an initiative (the
  result says ``skipped``); vs the baseline loop run again on its store. A rerun changes
  nothing, so it is repeated: the median over ``RERUNS`` rounds (quick 1, small 3, large
  1; the flow first in odd rounds, the loop first in even ones). Seconds; ``ratio =
  baseline / value``.
* ``scale_up_check_rerun_per_10k_s``: the same medians per 10,000 initiatives (the goal: at
  most 1 s per 10,000). Seconds; ``ratio = baseline / value``.
* ``prefect_flow_run_overhead_ms``: mean wall time of ``EMPTY_FLOW_RUNS`` calls of an empty
  ``@flow`` (it returns 1) on the running server, after one untimed warm-up call, vs the
  mean time of calling the same plain function (timed as one loop of as many calls).
  Milliseconds; ``ratio = baseline / value``.
* ``prefect_task_run_overhead_ms``: a flow calling an empty ``@task`` (``NO_CACHE``, as the
  project's tasks) ``TASK_RUNS`` times (quick 50, else 200), run ``TASK_FLOW_RUNS`` times
  (quick 1, else 3) after a warm-up: (its mean wall time - the empty flow's mean) /
  ``TASK_RUNS``, vs the plain function called ``TASK_RUNS`` times (per call).
  Milliseconds; ``ratio = baseline / value``.

The order is: flow, baseline, then the rerun rounds (``runtime`` reopened on the right
folder before each call, untimed, so each starts with an empty aggregate cache); the overhead
figures go before them and warm Prefect's client up. The first flow run goes first, so any
one-off warm-up in this process falls on the flow's side. The machine's load average before
and after is noted on stderr: on a shared 2-core machine, other work moves these figures.
Size ``quick`` (for ``make bench BENCH_SIZE=quick``) is ``small``'s 5,000 initiatives with
one rerun round and fewer overhead runs: about a minute on two cores, most of it building
the store and starting the server. ``--profile`` profiles the first ``scale_up_check`` call
(this thread only: Prefect's API client and event threads are not in it).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from datetime import date, timedelta
from itertools import chain
from pathlib import Path
from statistics import mean, median
from typing import Any
from uuid import UUID

from figure import figure, note, stopwatch
from workload import (
    FIRST_DAY,
    PROGRAMME,
    STEP_DAYS,
    lifecycle,
    numbered,
    programme_commands,
    record_in_batches,
)

INITIATIVES = {"quick": 5_000, "small": 5_000, "large": 100_000}
RERUNS = {"quick": 1, "small": 3, "large": 1}  # rounds of reruns, alternating; medians
BATCH_SIZE = 500  # commands per execute_batch while generating the store
WAVE = 50  # initiatives advancing side by side
WITHDRAWN_STEPS = [s["command"] for s in lifecycle("x", 0)].index("withdraw-board") + 1
STEPS = WITHDRAWN_STEPS + 1  # and one impact report
CLOCK = date(2030, 1, 1)  # the engine's "today": after every generated effective date
DAY = CLOCK  # the day the check runs for (its command ids carry it)
PROGRESS_EVERY = 50_000  # events
EMPTY_FLOW_RUNS = 20
TASK_RUNS = {"quick": 50, "small": 200, "large": 200}
TASK_FLOW_RUNS = {"quick": 1, "small": 3, "large": 3}
PER = 10_000  # initiatives: the rerun goal is stated per this many
SETTLE_TIMEOUT = 600.0  # seconds to wait for the server to record a run's task runs
ENV_KEYS = (
    "PREFECT_HOME",
    "PREFECT_SERVER_ANALYTICS_ENABLED",
    "KRINGLOOP_HOME",
    "KRINGLOOP_DATABASE_URL",
)


# -- the event store ---------------------------------------------------------------------


def setup_commands() -> list[dict[str, Any]]:
    """The workload programme, a mandate on every stream for the scheduler, and criteria."""
    from flows import runtime

    return [
        *programme_commands(),
        {
            "command": "grant-mandate",
            "programme_id": PROGRAMME,
            "broker": runtime.SCHEDULER,
            "streams": ["all"],
            "actor": "board",
            "reason": "The weekly phase-3 check assesses every stream",
            "effective": "2015-03-01",
        },
        {
            "command": "set-scale-up-criteria",
            "programme_id": PROGRAMME,
            "min_months_operating": 12,
            "min_tonnes_per_year": 10_000,
            "min_jobs_fte": 5,
            "actor": "board",
            "reason": "Phase-3 criteria",
            "effective": "2015-03-01",
        },
    ]


def withdrawn_path(index: int) -> list[dict[str, Any]]:
    """Proposal to board withdrawal, then one impact report (its period set later)."""
    steps = lifecycle(f"initiative-{index:06d}", index)[:WITHDRAWN_STEPS]
    first = steps[0]
    steps.append(
        {
            "command": "report-impact",
            "initiative_id": first["initiative_id"],
            "tonnes_processed_per_year": 10_000.0 * (index % 4),
            "jobs_fte": 2.0 * (index % 7),
            "evidence": [],
            "actor": first["actor"],
            "reason": "Step: report-impact",
        }
    )
    return steps


def initiative_commands(count: int) -> Iterator[dict[str, Any]]:
    """``count`` initiatives to board withdrawal and a report, ``WAVE`` side by side."""
    for start in range(0, count, WAVE):
        members = range(start, min(start + WAVE, count))
        paths = {i: withdrawn_path(i) for i in members}
        first = FIRST_DAY + timedelta(days=start // WAVE)
        for step in range(STEPS):
            effective = first + timedelta(days=step * STEP_DAYS)
            for i in members:
                command = {**paths[i][step], "effective": effective.isoformat()}
                if command["command"] == "report-impact":
                    command["period"] = effective.year
                yield command


def open_home(home: Path) -> None:
    """Point ``flows.runtime`` at ``home``: engine (clock fixed) and read store open."""
    from flows import runtime

    runtime.close()
    os.environ["KRINGLOOP_HOME"] = str(home)
    runtime.engine().clock = lambda: CLOCK
    runtime.read_store()


def generate(home: Path, count: int) -> int:
    """Record the store through the flows' own engine and catch the read models up."""
    from flows import runtime

    open_home(home)
    engine = runtime.engine()
    stream = numbered(chain(setup_commands(), initiative_commands(count)), "flows")
    begun = time.perf_counter()
    recorded = record_in_batches(engine, stream, BATCH_SIZE, PROGRESS_EVERY, "flows: ")
    took = time.perf_counter() - begun
    note(f"flows: {recorded:,} events in {took:.1f} s ({recorded / took:,.0f} events/s)")
    with stopwatch() as elapsed:
        applied = runtime.runner().catch_up()
    note(f"flows: read models caught up over {applied:,} events in {elapsed[0]:.1f} s")
    from adapters.audit.sealing import auto_seal

    with stopwatch() as elapsed:
        sealed = auto_seal(engine, runtime.settings(), force=True)
    note(f"flows: chain heads sealed in {elapsed[0]:.1f} s ({sealed})")
    runtime.close()
    return recorded


def copy_store(source: Path, target: Path) -> None:
    """A second, identical store: both SQLite files copied with the backup API, and the
    audit folder (signing key and seals) as it is."""
    target.mkdir(parents=True)
    for name in ("events.sqlite", "read.sqlite"):
        with (
            closing(sqlite3.connect(source / name)) as src,
            closing(sqlite3.connect(target / name)) as dst,
        ):
            src.backup(dst)
    shutil.copytree(source / "audit", target / "audit")


# -- Prefect -----------------------------------------------------------------------------


def settle(flow_run_id: UUID, task_runs: int) -> float:
    """Wait (untimed) until the server reports ``task_runs`` completed task runs of this
    flow run; returns the seconds waited."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    of_run = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    completed = TaskRunFilter(
        state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.COMPLETED]))
    )
    begun = time.perf_counter()
    with get_client(sync_client=True) as client:
        while True:
            found = 0
            while page := client.read_task_runs(
                flow_run_filter=of_run, task_run_filter=completed, limit=200, offset=found
            ):
                found += len(page)
            if found >= task_runs:
                break
            if time.perf_counter() - begun > SETTLE_TIMEOUT:
                note(f"flows: the server recorded only {found} of {task_runs} task runs")
                break
            time.sleep(0.1)
    return time.perf_counter() - begun


def one() -> int:
    return 1


def per_call_ms(function: Callable[[], Any], calls: int) -> float:
    """Mean milliseconds per call of a plain function, timed as one loop."""
    begun = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - begun) * 1000 / calls


def overhead_figures(size: str) -> list[dict[str, Any]]:
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    task_count, task_flow_runs = TASK_RUNS[size], TASK_FLOW_RUNS[size]
    empty_flow = flow(name="bench-empty-flow")(one)
    empty_task = task(name="bench-empty-task", cache_policy=NO_CACHE)(one)

    @flow(name="bench-task-runs")
    def task_runs() -> int:
        return sum(empty_task() for _ in range(task_count))

    empty_flow()  # warm-up: registers the flow
    flow_ms = []
    for _ in range(EMPTY_FLOW_RUNS):
        with stopwatch() as elapsed:
            empty_flow()
        flow_ms.append(elapsed[0] * 1000)
    plain_flow_ms = per_call_ms(one, EMPTY_FLOW_RUNS)
    note(
        f"flows: empty flow run {mean(flow_ms):.1f} ms mean ({min(flow_ms):.1f} to "
        f"{max(flow_ms):.1f}); the plain call {plain_flow_ms * 1e6:.0f} ns"
    )

    state = task_runs(return_state=True)  # warm-up: registers the flow and the task
    settle(state.state_details.flow_run_id, task_count)
    runs_ms = []
    for _ in range(task_flow_runs):
        with stopwatch() as elapsed:
            state = task_runs(return_state=True)
        runs_ms.append(elapsed[0] * 1000)
        waited = settle(state.state_details.flow_run_id, task_count)
        note(
            f"flows: a flow of {task_count} task runs took {runs_ms[-1]:,.0f} ms; the server "
            f"then took {waited:.1f} s more to record its task runs"
        )
    task_ms = (mean(runs_ms) - mean(flow_ms)) / task_count
    plain_task_ms = per_call_ms(one, task_count)
    note(f"flows: {task_ms:.2f} ms per task run; the plain call {plain_task_ms * 1e6:.0f} ns")
    return [
        figure("prefect_flow_run_overhead_ms", mean(flow_ms), "ms", plain_flow_ms, "lower"),
        figure("prefect_task_run_overhead_ms", task_ms, "ms", plain_task_ms, "lower"),
    ]


# -- the scale-up check ------------------------------------------------------------------


def plain_check(programme_id: str, day: date) -> dict[str, Any]:
    """The flow's body without Prefect: its task functions called as plain functions."""
    from adapters.commanding import Tally
    from flows import runtime
    from flows.projection_catch_up import catch_up
    from flows.scale_up_check import PAGE, check_page

    catch_up.fn()
    totals = Tally()
    after, candidates, skipped = "", 0, 0
    while (checked := check_page.fn(programme_id, day, after, PAGE)).last is not None:
        totals.add(checked.tally)
        candidates += checked.candidates
        skipped += checked.skipped
        after = checked.last
    catch_up.fn()
    result = {
        "candidates": candidates,
        **totals.as_dict(),
        "already_recorded": totals.replayed + skipped,
        "skipped": skipped,
    }
    runtime.log.info("phase-3 check done", **result)
    return result


def scale_up_figures(
    flow_home: Path, plain_home: Path, count: int, size: str
) -> list[dict[str, Any]]:
    from flows.scale_up_check import PAGE, scale_up_check

    task_runs = 2 + -(-count // PAGE) + 1  # two catch-ups, a task per page and one finding none

    def flow_check(label: str, profile: bool) -> tuple[dict[str, Any], float]:
        with stopwatch(label, profile=profile) as elapsed:
            state = scale_up_check(programme_id=PROGRAMME, today=DAY, return_state=True)
        result: dict[str, Any] = state.result()
        waited = settle(state.state_details.flow_run_id, task_runs)
        note(
            f"flows: {label} {elapsed[0]:.2f} s, {result['recorded']:,} recorded, "
            f"{result['already_recorded']:,} already ({result['skipped']:,} skipped); the "
            f"server then took {waited:.1f} s more to record its task runs"
        )
        return result, elapsed[0]

    def plain(label: str) -> tuple[dict[str, Any], float]:
        with stopwatch() as elapsed:
            result = plain_check(PROGRAMME, DAY)
        note(f"flows: {label} {elapsed[0]:.2f} s")
        return result, elapsed[0]

    # Interleaved, each side on its own store, so a change in the machine's load is shared.
    note(f"flows: load average before timing {os.getloadavg()[0]:.2f}")
    open_home(flow_home)
    first, flow_s = flow_check("scale_up_check flow", profile=True)
    open_home(plain_home)
    plain_first, plain_s = plain("plain loop")
    flow_again_s: list[float] = []
    plain_again_s: list[float] = []
    for r in range(RERUNS[size]):
        for side in ("flow", "plain") if r % 2 == 0 else ("plain", "flow"):
            if side == "flow":
                open_home(flow_home)
                again, seconds = flow_check(f"scale_up_check flow, rerun {r + 1}", False)
                flow_again_s.append(seconds)
            else:
                open_home(plain_home)
                again, seconds = plain(f"plain loop, rerun {r + 1}")
                plain_again_s.append(seconds)
            assert (again["recorded"], again["already_recorded"]) == (0, count), (side, again)
            assert again["skipped"] == count, (side, again)
    note(f"flows: load average after timing {os.getloadavg()[0]:.2f}")

    assert (first["candidates"], first["recorded"], first["refused"]) == (count, count, 0), first
    assert plain_first == first, (plain_first, first)
    return [
        figure("scale_up_check_s", flow_s, "s", plain_s, "lower"),
        figure("scale_up_check_rerun_s", median(flow_again_s), "s", median(plain_again_s), "lower"),
        figure(
            "scale_up_check_rerun_per_10k_s",
            median(flow_again_s) * PER / count,
            "s",
            median(plain_again_s) * PER / count,
            "lower",
        ),
    ]


# -- the figures -------------------------------------------------------------------------


def measure(folder: Path, size: str) -> list[dict[str, Any]]:
    flow_home, plain_home = folder / "flow", folder / "plain"
    count = INITIATIVES[size]
    note(f"flows: generating {count:,} initiatives after board withdrawal (not timed)")
    generate(flow_home, count)
    copy_store(flow_home, plain_home)

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    note("flows: starting Prefect's temporary server (not timed)")
    with ExitStack() as stack:
        stack.enter_context(prefect_test_harness(server_startup_timeout=120))
        stack.enter_context(temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}))
        rows = overhead_figures(size)
        return scale_up_figures(flow_home, plain_home, INITIATIVES[size], size) + rows


def run(size: str) -> list[dict[str, Any]]:
    saved = {key: os.environ.get(key) for key in ENV_KEYS}
    if "prefect" in sys.modules:
        note("flows: prefect was imported before this benchmark set PREFECT_HOME")
    try:
        with tempfile.TemporaryDirectory(prefix="kringloop-bench-") as tmp:
            folder = Path(tmp)
            (folder / "prefect").mkdir()
            os.environ["PREFECT_HOME"] = str(folder / "prefect")
            os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
            os.environ.pop("KRINGLOOP_DATABASE_URL", None)
            try:
                return measure(folder, size)
            finally:
                from flows import runtime

                runtime.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
