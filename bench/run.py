"""Run Kringloop's benchmarks and print one JSON object per figure on stdout, one a line.

Usage: ``.venv/bin/python bench/run.py --size quick|small|large [--backend
sqlite|postgres|both] [--events N] [--only NAME ...] [--profile]``

``--size quick`` (``make bench BENCH_SIZE=quick``) runs only the figures issue 16 set goals
for (``QUICK``: engine commands, apply, cold start, the phase-3 flow, as-of and audit, the
API), each at a size that keeps the whole run within about three minutes on two cores; a
benchmark outside ``QUICK`` asked for with ``--only`` runs at its small size.

Each line is ``{"name", "value", "unit", "baseline", "ratio"}``. ``baseline`` is the same
work done by the bare library (or a bare Python process) in the same run. Convention: the
``ratio`` is oriented so that > 1 always means better than the baseline:

* throughputs (commands/s, events/s): ``ratio = value / baseline``
* durations (seconds) and peak memory (MB): ``ratio = baseline / value``
* the 0/1 flag ``cold_start_imports_prefect``: 1 when no worse than the baseline, else 0

Figures (see each module's docstring for exactly what is compared):

* ``broker_commands_per_s_sqlite`` (engine_commands.py): ``Engine.execute``, one event per
  command, vs the bare library's get-mutate-save loop. Goal: ratio >= 0.8.
* ``apply_events_per_s_sqlite`` and ``apply_events_per_s_sqlite_cli`` (apply_load.py):
  bulk loading a JSON-lines file, in process and through the ``kringloop apply`` process,
  vs the bare library saving as many events in batches of 500. Goal (issue 16): >= 15,000
  events/s and ratio >= 0.6.
* ``cold_start_help_s``, ``cold_start_initiative_show_s``, ``cold_start_initiative_list_s``,
  ``cold_start_pipeline_s`` and ``cold_start_imports_prefect`` (cold_start.py): process wall
  time of ``kringloop --help`` (vs ``python -c "import typer"``; goal <= 0.25 s) and of the
  three reads (vs a bare ``python -c "import sqlite3; ..."`` reading the same rows; goal
  <= 0.4 s), and no prefect import.
* ``catch_up_events_per_s_sqlite`` (catch_up.py): ``Runner.catch_up`` on a fresh read store
  over a generated store (small 200,000 / large 1,000,000 events) vs the bare pass (read
  notifications, map to events, upsert the decision-log rows with plain sqlite3). Goals:
  >= 50,000 events/s and ratio >= 0.5.
* ``rebuild_peak_memory_mb_sqlite`` and ``rebuild_events_per_s_sqlite`` (catch_up.py): peak
  resident memory (MB, lower is better: ``ratio = baseline / value``) and events/s of
  ``Runner.rebuild`` in a fresh process, vs the bare pass in a fresh process. Goal: under
  300 MB at 1,000,000 events.
* ``scale_up_check_s`` and ``scale_up_check_rerun_s`` (prefect_flows.py, ``--only flows``):
  the ``scale_up_check`` flow on a temporary Prefect server over initiatives after board
  withdrawal (small 5,000 / large 100,000), first run and a rerun on the same day that
  records nothing new, vs the flow's task functions called in a plain loop on an identical
  copy of the store. Goals (issue 16): 100,000 initiatives <= 60 s, ratio >= 0.8, a rerun
  <= 1 s per 10,000 (``scale_up_check_rerun_per_10k_s``).
* ``prefect_flow_run_overhead_ms`` and ``prefect_task_run_overhead_ms`` (prefect_flows.py):
  mean wall time of an empty ``@flow`` run, and mean cost per run of an empty ``@task``
  inside a flow, vs calling the same plain function.
* ``as_of_1000_events_ms``, ``audit_verify_s`` and ``audit_verify_events_per_s`` (audit.py):
  as-of reconstruction of a 1,000-event initiative against bare replay (goal < 10 ms), and
  ``audit verify`` against a bare read-and-decode pass (goal at 1M events: < 60 s).
* ``progress_as_of_s``, ``progress_as_of_repeat_s`` and ``report_yearly_series_s``
  (audit.py): ``programme progress --as-of`` and the report's yearly series from the
  month-end checkpoints, vs the bare pass projecting every event in effect (goals at 1M
  events: 2 s and 10 s).
* ``prefect_task_runs_kept_memory`` / ``_redis`` and ``prefect_task_runs_recorded_per_s_*``
  (prefect_messaging.py, ``--only messaging``): a burst of task runs (small 5,000 / large
  20,000) in one flow run on a real Prefect server on PostgreSQL, with Prefect's default
  in-memory messaging and with Redis (``prefect-redis``): the share of task-run records the
  server keeps (baseline 100 %). The slowest benchmark: it waits for the server to record.
* ``api_*`` (api_load.py, ``--only api``): 50 concurrent clients on loopback against the
  initiative page, the pipeline API and a decision POST, with one worker and with two, and
  one idle client, beside a bare FastAPI endpoint (goals: p99 <= 50 ms, throughput ratio
  >= 0.5, idle <= 2 ms).
* ``follow_latency_p50_ms_*`` and ``follow_latency_p99_ms_*`` (follow_latency.py, ``--only
  follow``): from a command's commit to its event in the read models of a follower in
  another process, vs the bare library's own subscription (PostgreSQL) or a bare poll.
* ``commands_per_s_postgres_8_processes`` and ``commands_per_s_postgres_1_process``
  (scale_out.py, ``--only scale_out``): processes issuing commands to 1,000 initiatives at
  once on PostgreSQL, vs the bare library doing the same with as many processes.
* ``privacy_name_person_per_s``, ``privacy_reveal_ms`` and ``privacy_forget_s``
  (privacy.py, ``--only privacy``): naming people (each name sealed with its own key) vs
  granting them roles; revealing every name at once vs the bare key query; erasing one
  person vs a bare VACUUM of the read store.

Store-bound benchmarks (engine_commands, apply_load, catch_up, audit, follow, scale_out) run
once per backend: ``--backend sqlite`` (fresh SQLite files in a temporary folder),
``postgres`` (schemas in a fresh database on the server at ``KRINGLOOP_BENCH_PG``, default
``postgresql://postgres@127.0.0.1:5432/postgres``, dropped afterwards; see backend.py) or
``both`` (the default; PostgreSQL is skipped, with a note, when no server answers). Their
figure names end in ``_sqlite`` or ``_postgres`` (the audit figures on SQLite keep their
first names). ``--events N`` (``10k``, ``100k``, ``1m``) runs them at N events or commands
instead of the size's own counts, one round each (for the size table in
docs/performance.md); the follow latency ignores it.

Progress and diagnostics go to stderr. Every store is fresh and removed afterwards. A
benchmark that fails is reported on stderr, the others still run, and the exit status is 1.
``--profile`` runs the engine's timed regions under cProfile and prints their top costs to
stderr (the figures are then slower than usual).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import api_load
import apply_load
import audit
import catch_up
import cold_start
import engine_commands
import figure
import follow_latency
import prefect_flows
import prefect_messaging
import privacy
import scale_out
from backend import Backend, backend, postgres_reachable

Rows = list[dict[str, Any]]
STORE_BOUND: dict[str, Callable[[str, Backend, int | None], Rows]] = {
    "engine_commands": engine_commands.run,
    "apply_load": apply_load.run,
    "catch_up": catch_up.run,
    "audit": audit.run,
    "follow": follow_latency.run,
    "scale_out": scale_out.run,
}
ONCE: dict[str, Callable[[str], Rows]] = {
    "cold_start": cold_start.run,
    "flows": prefect_flows.run,  # not bench/flows.py: that would shadow the flows package
    "api": lambda size: api_load.run(seconds={"quick": 2.0, "small": 5.0}.get(size, 20.0)),
    "messaging": prefect_messaging.run,  # the slowest: waits for the server to record
    "privacy": privacy.run,
}
ORDER = ["engine_commands", "apply_load", "cold_start", "catch_up", "flows", "audit", "api"]
ORDER += ["follow", "scale_out", "messaging", "privacy"]
BENCHMARKS = set(ORDER)
QUICK = ["engine_commands", "apply_load", "cold_start", "flows", "audit", "api"]
"""What ``--size quick`` runs (the figures issue 16 set goals for), each at a size that keeps
the whole run within about three minutes on two cores."""


def count(text: str) -> int:
    """10k, 100k, 1m, 250000 -> a number of events."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    return int(float(text.rstrip("kKmM")) * scale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["quick", "small", "large"], default="small")
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres", "both"],
        default="both",
        help="where the store-bound benchmarks keep their stores (default: both)",
    )
    parser.add_argument(
        "--events",
        type=count,
        default=None,
        help="store-bound benchmarks at this many events or commands (10k, 100k, 1m)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=ORDER,
        default=None,
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the engine's timed regions; top costs to stderr",
    )
    args = parser.parse_args(argv)
    figure.PROFILE = args.profile
    names = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in names and (why := postgres_reachable()):
        if args.backend == "postgres":
            figure.note(f"cannot run on PostgreSQL: {why}")
            return 1
        figure.note(f"PostgreSQL figures skipped: {why}")
        names.remove("postgres")
    started = time.perf_counter()
    failed = []
    with ExitStack() as stack:
        backends: dict[str, Backend] = {}

        def on(name: str) -> Backend:  # opened when first needed, for the whole run
            if name not in backends:
                backends[name] = stack.enter_context(backend(name))  # type: ignore[arg-type]
            return backends[name]

        for name in args.only or (QUICK if args.size == "quick" else ORDER):
            runs: list[tuple[str, Callable[[], Rows]]]
            size = args.size if args.size != "quick" or name in QUICK else "small"
            if name in STORE_BOUND:
                work = STORE_BOUND[name]
                runs = [
                    (f"{name} on {b}", lambda b=b, w=work, s=size: w(s, on(b), args.events))
                    for b in names
                ]
            else:
                runs = [(name, lambda name=name, size=size: ONCE[name](size))]
            for label, work_once in runs:
                figure.note(f"{label} ({size}{f', {args.events:,} events' if args.events else ''})")
                begun = time.perf_counter()
                try:
                    rows = work_once()
                except Exception:  # one broken benchmark must not hide the others' figures
                    figure.note(f"{label} FAILED:\n{traceback.format_exc()}")
                    failed.append(label)
                    continue
                for row in rows:
                    figure.emit(row)
                figure.note(f"{label} took {time.perf_counter() - begun:.1f} s")
    figure.note(f"all done in {time.perf_counter() - started:.1f} s")
    if failed:
        figure.note(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
