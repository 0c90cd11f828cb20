"""What the storage tests share: a small store on disk, the CLI as a real process, and
counting what is stored."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Settings
from adapters.store import open_engine
from tests.conftest import TODAY, runner
from tests.scenario import initiative_at, programme

KRINGLOOP = [sys.executable, "-m", "adapters.cli"]
STEPS = [  # three decisions on a new initiative: one `apply` batch, one transaction
    {
        "command": "propose-initiative",
        "initiative_id": "grass",
        "programme_id": "mra",
        "stream": "roadside-grass",
        "title": "Grass to insulation",
    },
    {"command": "start-expert-scan", "initiative_id": "grass"},
    {
        "command": "record-option",
        "initiative_id": "grass",
        "option": "fibres",
        "description": "insulation mats",
        "circularity_level": "R8",
        "expert": "TNO",
    },
]


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRINGLOOP_")}
    env["KRINGLOOP_HOME"] = str(settings.home)
    if settings.database_url:
        env["KRINGLOOP_DATABASE_URL"] = settings.database_url
    if settings.database_schema:
        env["KRINGLOOP_DATABASE_SCHEMA"] = settings.database_schema
    env["KRINGLOOP_READ_SCHEMA"] = settings.read_schema
    return {**env, **extra}


def kringloop(
    settings: Settings, *args: str, timeout: float = 120, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a person would: a new process on the same data folder or database."""
    return subprocess.run(
        [*KRINGLOOP, *args],
        capture_output=True,
        text=True,
        env=cli_env(settings, **extra),
        timeout=timeout,
        check=False,
    )


def make_store(settings: Settings, stage: Any = None) -> None:
    """A programme (and, if asked, an initiative at a stage) recorded through the engine."""
    engine = open_engine(settings)
    engine.clock = lambda: TODAY
    try:
        run = runner(engine)
        programme(run)
        if stage is not None:
            initiative_at(run, stage, initiative_id="timber")
    finally:
        engine.close()


def steps_file(folder: Path) -> Path:
    path = folder / "steps.jsonl"
    lines = [
        {
            **step,
            "actor": "broker-anna",
            "reason": "decided in the broker team meeting",
            "effective": "2016-01-01",
            "command_id": f"steps-{n}",
        }
        for n, step in enumerate(STEPS)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def sqlite_counts(path: Path) -> tuple[int, int]:
    """Stored events and chain links in an SQLite event store."""
    with closing(sqlite3.connect(path)) as conn:
        events = conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
        links = conn.execute("SELECT COUNT(*) FROM kringloop_chain").fetchone()[0]
    return int(events), int(links)


def fill(disk: Path) -> Path:
    """Write to the disk until the kernel refuses: no space left on device."""
    filler = disk / "filler"
    with filler.open("wb") as handle, pytest.raises(OSError, match="No space left") as full:  # noqa: PT012
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    assert full.value.errno == errno.ENOSPC
    return filler
