"""Child processes of the lock tests: kept free of heavy imports, since each spawned child
imports this module before it runs."""

from __future__ import annotations

import sqlite3
import subprocess
from typing import Any

WAITING = "locked by another process; waiting"


def hold_write_lock(path: str, locked: Any, release: Any) -> str:
    """Take SQLite's write lock on the file and keep it until told to let go."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    locked.wait()
    release.wait()
    conn.execute("ROLLBACK")
    conn.close()
    return "released"


def run_cli(
    args: list[str], env: dict[str, str], locked: Any, release: Any, until_waiting: bool
) -> tuple[int, str, str]:
    """Start the CLI once the lock is held. With ``until_waiting``, let the lock go as soon
    as the CLI says it is waiting for it; else only after the CLI has given up."""
    locked.wait()
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen = []
    if until_waiting:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            if WAITING in line:
                break
        release.wait()
    out, err = process.communicate(timeout=120)
    if not until_waiting:
        release.wait()
    return process.returncode, out, "".join(seen) + err


def child(role: str, *args: Any) -> Any:
    return hold_write_lock(*args) if role == "holder" else run_cli(*args)
