"""Cold start: how long a fresh ``kringloop`` process takes to answer, each against a bare
process doing the least the same answer needs, timed in the same run.

Every figure is the median wall time, spawn to exit, of ``RUNS`` runs (quick: ``QUICK_RUNS``)
after one untimed warm-up run (so byte-code caches and the page cache are warm, and the read
models the CLI keeps beside the events have caught up: this measures interpreter start,
imports, opening the stores and the read on a store in steady state, not a cold disk or a
first catch-up), on a home holding the ``first-steps`` scenario (loaded beforehand in
process). Durations, so ``ratio = baseline / value``.

* ``cold_start_help_s``: ``kringloop --help``. Baseline: ``python -c "import typer"`` (the
  least any typer command line pays before printing its help). Goal: <= 0.25 s.
* ``cold_start_initiative_show_s``: ``kringloop --home DIR initiative show
  roadside-grass-insulation``. Baseline: ``python -c "import sqlite3; ..."`` reading the
  initiative's row, its preconditions, impact reports and decisions from the same read file.
* ``cold_start_initiative_list_s``: ``kringloop --home DIR initiative list``. Baseline: the
  same bare process reading every initiative row, in id order.
* ``cold_start_pipeline_s``: ``kringloop --home DIR pipeline``. Baseline: the same bare
  process reading the streams and every initiative's stream, stage and status.
  Goal for the three reads: <= 0.4 s on SQLite (issue 16), <= 2 x the bare process.
* ``cold_start_imports_prefect``: 1 if importing ``adapters.cli.app`` and running the show
  path in a fresh interpreter imports prefect (or even tries to: an import hook records
  attempts, so this works whether or not prefect is installed), else 0. Baseline: the same
  check for ``import eventsourcing.application`` (0). For this 0/1 flag, ratio is 1 when the
  value is no worse than the baseline, else 0.

Which modules each read imports (no SQLAlchemy, psycopg, recorder or engine when the read
models answer) is a test, not a figure: tests/e2e/test_cli_imports.py.
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
QUICK_RUNS = 3
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
BARE_HELP = "import typer"

# The bare reads: the same rows from the same read file, with nothing but sqlite3.
BARE_READ = """
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for sql in sys.argv[2:]:
    db.execute(sql, {"id": "INITIATIVE"}).fetchall()
""".replace("INITIATIVE", INITIATIVE)
BARE_QUERIES = {
    "initiative_show": [
        "SELECT * FROM initiatives WHERE initiative_id = :id",
        "SELECT * FROM preconditions WHERE initiative_id = :id",
        "SELECT * FROM impact_reports WHERE initiative_id = :id",
        "SELECT * FROM decisions WHERE subject_id = :id ORDER BY version",
    ],
    "initiative_list": ["SELECT * FROM initiatives ORDER BY initiative_id"],
    "pipeline": [
        "SELECT stream, name, parent FROM streams",
        "SELECT stream, stage, status, initiative_id FROM initiatives ORDER BY initiative_id",
    ],
}


def child_env() -> dict[str, str]:
    """The caller's environment without Kringloop settings, so --home decides the store,
    and without PYTHONDONTWRITEBYTECODE, so the warm-up run leaves the byte-code cache an
    installed command has (without it every run compiled Kringloop's modules anew)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KRINGLOOP_") and k != "PYTHONDONTWRITEBYTECODE"
    }


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
        wired.fresh_reads()  # the read models beside the events, as the CLI leaves them
    finally:
        wired.close()


def median_wall(argv: list[str], runs: int) -> float:
    """Median wall time of a process over ``runs`` runs, after one untimed warm-up."""
    times = []
    for attempt in range(runs + 1):
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
    runs = QUICK_RUNS if size == "quick" else RUNS
    rows = []
    with tempfile.TemporaryDirectory(prefix="kringloop-bench-") as tmp:
        home = Path(tmp) / "home"
        load_scenario(home)
        kringloop = str(Path(sys.executable).with_name("kringloop"))
        python = sys.executable
        note(f"cold start: each command and its bare process, median of {runs}")
        value = median_wall([kringloop, "--help"], runs)
        baseline = median_wall([python, "-c", BARE_HELP], runs)
        note(f"cold start: --help {value:.3f} s, bare `import typer` {baseline:.3f} s")
        rows.append(figure("cold_start_help_s", value, "s", baseline, "lower"))
        reads = {
            "initiative_show": ["initiative", "show", INITIATIVE],
            "initiative_list": ["initiative", "list"],
            "pipeline": ["pipeline"],
        }
        for name, args in reads.items():
            value = median_wall([kringloop, "--home", str(home), *args], runs)
            bare = [python, "-c", BARE_READ, str(home / "read.sqlite"), *BARE_QUERIES[name]]
            baseline = median_wall(bare, runs)
            note(f"cold start: {name} {value:.3f} s, bare sqlite3 read {baseline:.3f} s")
            rows.append(figure(f"cold_start_{name}_s", value, "s", baseline, "lower"))
        show = ["--home", str(home), *reads["initiative_show"]]
        flag = imports_prefect(SHOW_BODY, show)
        bare_flag = imports_prefect(BARE_BODY, [])
    rows.append(
        {
            "name": "cold_start_imports_prefect",
            "value": flag,
            "unit": "bool",
            "baseline": bare_flag,
            "ratio": 1.0 if flag <= bare_flag else 0.0,
        }
    )
    return rows
