"""Figure 3, ``cold_start_initiative_show_s``: how long a fresh CLI process takes to answer.

* ``cold_start_initiative_show_s``: wall time, spawn to exit, of the process
  ``kringloop --home DIR initiative show roadside-grass-insulation`` on a store holding
  the ``first-steps`` scenario (loaded beforehand in process), median of ``RUNS`` runs after
  one untimed warm-up run (so byte-code caches and the page cache are warm, and read
  models the CLI keeps beside the events have caught up: this measures interpreter start,
  imports, opening the stores and the read on a store in steady state, not a cold disk
  or a first catch-up). Baseline:
  the median wall time of ``python -c "import eventsourcing.application"``, measured the
  same way. A duration, so ``ratio = baseline / value``. The goal is a value < 0.5 s.
* ``cold_start_imports_prefect``: 1 if importing ``adapters.cli.app`` and running the same
  show path in a fresh interpreter imports prefect (or even tries to: an import hook
  records attempts, so this works whether or not prefect is installed), else 0. Baseline:
  the same check for ``import eventsourcing.application`` (0). For this 0/1 flag, ratio is
  1 when the value is no worse than the baseline, else 0.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from figure import figure, note, stopwatch

from adapters.bootstrap import bootstrap
from adapters.commanding import apply_lines
from adapters.settings import Settings
from domain.commands.catalogue import parse_command

RUNS = 7
SCENARIO = "first-steps.jsonl"
INITIATIVE = "roadside-grass-insulation"

WATCH_PREFECT = """
import contextlib, importlib.abc, io, json, sys
attempted = []
class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "prefect" or name.startswith("prefect."):
            attempted.append(name)
        return None
sys.meta_path.insert(0, Watch())
BODY
loaded = sorted(m for m in sys.modules if m == "prefect" or m.startswith("prefect."))
print(json.dumps({"attempted": sorted(set(attempted)), "loaded": loaded}))
"""
SHOW_BODY = """
from adapters.cli.app import app
with contextlib.redirect_stdout(io.StringIO()):
    app(args=sys.argv[1:], standalone_mode=False)
"""
BARE_BODY = "import eventsourcing.application"


def child_env() -> dict[str, str]:
    """The caller's environment without Kringloop settings, so --home decides the store."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KRINGLOOP_")}


def load_scenario(home: Path) -> None:
    scenario = Path(str(resources.files("adapters") / "scenarios" / SCENARIO))
    lines = [
        (n, lambda raw=raw: parse_command(json.loads(raw)))
        for n, raw in enumerate(scenario.read_bytes().splitlines(), start=1)
        if raw.strip() and not raw.lstrip().startswith(b"#")
    ]
    wired = bootstrap(Settings(home=home, database_url=None, log_level="warning"))
    try:
        report = apply_lines(wired.engine, lines)
        assert report.stopped is None, f"scenario stopped: {report.stopped}"
    finally:
        wired.close()


def median_wall(argv: list[str]) -> float:
    """Median wall time of a process over RUNS runs, after one untimed warm-up."""
    times = []
    for attempt in range(RUNS + 1):
        with stopwatch() as elapsed:
            done = subprocess.run(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env()
            )
        if done.returncode != 0:
            raise RuntimeError(f"{argv} failed ({done.returncode}): {done.stderr[-2000:]!r}")
        if attempt:
            times.append(elapsed[0])
    return statistics.median(times)


def imports_prefect(body: str, args: list[str]) -> int:
    code = WATCH_PREFECT.replace("BODY", body)
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"prefect check failed ({done.returncode}): {done.stderr[-2000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["attempted"] or found["loaded"]:
        note(f"cold start: prefect imported or attempted: {found}")
    return int(bool(found["attempted"] or found["loaded"]))


def run(size: str) -> list[dict[str, Any]]:
    del size  # a cold start is the same at every size
    with tempfile.TemporaryDirectory(prefix="kringloop-bench-") as tmp:
        home = Path(tmp) / "home"
        load_scenario(home)
        kringloop = str(Path(sys.executable).with_name("kringloop"))
        show = ["--home", str(home), "initiative", "show", INITIATIVE]
        note(f"cold start: `kringloop initiative show`, median of {RUNS}")
        value = median_wall([kringloop, *show])
        baseline = median_wall([sys.executable, "-c", BARE_BODY])
        note(f"cold start: show {value:.3f} s, bare import {baseline:.3f} s")
        flag = imports_prefect(SHOW_BODY, show)
        bare_flag = imports_prefect(BARE_BODY, [])
    flag_row = {
        "name": "cold_start_imports_prefect",
        "value": flag,
        "unit": "bool",
        "baseline": bare_flag,
        "ratio": 1.0 if flag <= bare_flag else 0.0,
    }
    return [figure("cold_start_initiative_show_s", value, "s", baseline, "lower"), flag_row]
