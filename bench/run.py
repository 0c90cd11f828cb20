"""Run Kringloop's benchmarks and print one JSON object per figure on stdout, one a line.

Usage: ``.venv/bin/python bench/run.py --size small|large [--only NAME ...] [--profile]``

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
  vs the bare library saving as many events in batches of 500. Goal: >= 10,000 events/s.
* ``cold_start_initiative_show_s`` and ``cold_start_imports_prefect`` (cold_start.py):
  ``kringloop initiative show`` process wall time vs ``python -c "import
  eventsourcing.application"``. Goal: < 0.5 s, and no prefect import.
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
  copy of the store. Goal: 100,000 initiatives under 5 s.
* ``prefect_flow_run_overhead_ms`` and ``prefect_task_run_overhead_ms`` (prefect_flows.py):
  mean wall time of an empty ``@flow`` run, and mean cost per run of an empty ``@task``
  inside a flow, vs calling the same plain function.
* ``as_of_1000_events_ms``, ``audit_verify_s`` and ``audit_verify_events_per_s`` (audit.py):
  as-of reconstruction of a 1,000-event initiative against bare replay (goal < 10 ms), and
  ``audit verify`` against a bare read-and-decode pass (goal at 1M events: < 60 s).
* ``api_*`` (api_load.py, ``--only api``): 50 concurrent clients on loopback against the
  initiative page and the pipeline API, beside a bare FastAPI endpoint (goal p99 < 50 ms).

Progress and diagnostics go to stderr. Every store is a fresh SQLite file in a temporary
folder, removed afterwards. A benchmark that fails is reported on stderr, the others still
run, and the exit status is 1. ``--profile`` runs the engine's timed regions under cProfile
and prints their top costs to stderr (the figures are then slower than usual).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import api_load
import apply_load
import audit
import catch_up
import cold_start
import engine_commands
import figure
import prefect_flows

BENCHMARKS: dict[str, Callable[[str], list[dict[str, Any]]]] = {
    "engine_commands": engine_commands.run,
    "apply_load": apply_load.run,
    "cold_start": cold_start.run,
    "catch_up": catch_up.run,
    "flows": prefect_flows.run,  # not bench/flows.py: that would shadow the flows package
    "audit": audit.run,
    "api": lambda size: api_load.run(seconds=5.0 if size == "small" else 20.0),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["small", "large"], default="small")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
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
    started = time.perf_counter()
    failed = []
    for name in args.only or list(BENCHMARKS):
        figure.note(f"{name} ({args.size})")
        begun = time.perf_counter()
        try:
            rows = BENCHMARKS[name](args.size)
        except Exception:  # one broken benchmark must not hide the others' figures
            figure.note(f"{name} FAILED:\n{traceback.format_exc()}")
            failed.append(name)
            continue
        for row in rows:
            figure.emit(row)
        figure.note(f"{name} took {time.perf_counter() - begun:.1f} s")
    figure.note(f"all done in {time.perf_counter() - started:.1f} s")
    if failed:
        figure.note(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
