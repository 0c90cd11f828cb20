"""The command line starts lean: `--help` and the reads the read models answer import no
SQLAlchemy, no PostgreSQL driver or recorder, no engine and no Prefect (each command runs in
a fresh interpreter, and the modules it loaded are listed when it ends)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

# Runs the CLI as `kringloop` does, then writes the names of every module loaded to a file.
LISTING = """
import json, sys
listing = sys.argv.pop(1)
from adapters.cli.app import main
try:
    main()
except SystemExit as stop:
    code = stop.code
else:
    code = 0
with open(listing, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "psycopg",
    "psycopg_pool",
    "adapters.recorders",
    "adapters.store",
    "adapters.bootstrap",
    "projections.store",
    "projections.tables",
    "projections.runner",
    "domain.engine",
    "eventsourcing.application",
    "prefect",
)
INITIATIVE = "roadside-grass-insulation"
DEMO = [sys.executable, "-m", "adapters.cli"]


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("KRINGLOOP_")}


def run(home: Path, tmp_path: Path, *args: str) -> tuple[str, set[str]]:
    """The command's output and the modules it imported."""
    listing = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", LISTING, str(listing), "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(listing.read_text())
    assert found["code"] in (0, None), done.stderr
    return done.stdout, set(found["modules"])


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m in HEAVY or m.startswith(tuple(f"{h}." for h in HEAVY)))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite home holding the first-steps scenario, its read models caught up."""
    found = tmp_path_factory.mktemp("lean") / "home"
    done = subprocess.run(
        [*DEMO, "--home", str(found), "demo", "--fresh", "--scenario", "first-steps"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return found


def test_help_lists_every_command_without_the_stores_or_the_engine(
    home: Path, tmp_path: Path
) -> None:
    output, modules = run(home, tmp_path, "--help")
    assert {"initiative", "pipeline", "projections"} <= set(output.split())
    assert heavy(modules) == []
    assert not {"rich.progress", "domain.commands.catalogue", "projections.queries"} & modules


@pytest.mark.parametrize(
    "args",
    [
        ("initiative", "list", "--json"),
        ("initiative", "list", "--stream", "biomass"),
        ("pipeline", "--json"),
        ("pipeline",),
        ("preconditions", "--json"),
    ],
    ids=" ".join,
)
def test_a_read_the_read_models_answer_imports_neither_sqlalchemy_nor_the_engine(
    home: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    output, modules = run(home, tmp_path, *args)
    assert INITIATIVE in output
    assert heavy(modules) == []


def test_initiative_show_reads_its_detail_lean_and_asks_the_engine_only_for_next_steps(
    home: Path, tmp_path: Path
) -> None:
    output, modules = run(home, tmp_path, "initiative", "show", INITIATIVE, "--json")
    shown = json.loads(output)
    assert shown["initiative"]["id"] == INITIATIVE
    assert shown["decisions"]
    assert shown["next_steps"]  # from the initiative itself, through the engine
    assert not {"sqlalchemy", "sqlmodel", "projections.store", "projections.tables"} & modules
    # the engine on an SQLite store: no PostgreSQL driver, recorder or chain, no catalogue
    assert "adapters.recorders" in modules
    assert (
        not {
            "psycopg",
            "eventsourcing.postgres",
            "adapters.recorders.postgres",
            "adapters.audit.chain_postgres",
            "domain.commands.catalogue",
            "prefect",
        }
        & modules
    )


def test_a_read_behind_the_event_store_catches_up_first(home: Path, tmp_path: Path) -> None:
    # Given read models as they stood before the last decision
    earlier = tmp_path / "earlier.sqlite"
    with sqlite3.connect(home / "read.sqlite") as live, sqlite3.connect(earlier) as copy:
        live.backup(copy)
    decision = {
        "command": "report-impact",
        "command_id": f"lean-{tmp_path.name}",
        "actor": "broker-anna",
        "reason": "Yearly figures from the consortium",
        "effective": "2020-07-01",
        "period": 2019,
        "jobs_fte": 14,
        "initiative_id": "diaper-recycling",
    }
    (tmp_path / "one.jsonl").write_text(json.dumps(decision) + "\n")
    run(home, tmp_path, "apply", str(tmp_path / "one.jsonl"))
    with sqlite3.connect(earlier) as copy, sqlite3.connect(home / "read.sqlite") as live:
        copy.backup(live)
    # When a read runs, then it catches them up first (through the engine's runner)
    output, modules = run(home, tmp_path, "initiative", "show", "diaper-recycling", "--json")
    assert {"domain.engine", "projections.runner"} <= modules
    assert json.loads(output)["impact"]["2019"]["jobs_fte"] == 14
    # and the next read is lean again
    _, modules = run(home, tmp_path, "initiative", "list", "--json")
    assert heavy(modules) == []


def test_read_models_not_marked_current_are_read_through_the_read_store_alike(
    home: Path, tmp_path: Path
) -> None:
    """A read-model file not marked as written by this version's tables (an older version
    left it) is read through the read store, which rebuilds outdated tables; what it answers
    is what the lean read answers."""
    lean, _ = run(home, tmp_path, "initiative", "show", INITIATIVE, "--json")
    with sqlite3.connect(home / "read.sqlite") as connection:
        connection.execute("PRAGMA user_version = 0")
    connection.close()
    through_the_store, modules = run(home, tmp_path, "initiative", "show", INITIATIVE, "--json")
    assert {"sqlalchemy", "projections.store"} <= modules
    assert json.loads(through_the_store) == json.loads(lean)
    _, modules = run(home, tmp_path, "pipeline", "--json")
    assert heavy(modules) == []  # the read store marked the file current again
