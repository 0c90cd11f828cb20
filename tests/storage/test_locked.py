"""An SQLite event store locked by another process: a short lock is waited out, a long one
ends in a plain refusal with nothing half-written. A real second process holds a real
`BEGIN EXCLUSIVE` on the real file while the CLI runs in a third."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Settings
from tests.processes import barrier, spawned
from tests.storage.helpers import (
    KRINGLOOP,
    cli_env,
    kringloop,
    make_store,
    sqlite_counts,
    steps_file,
)

pytestmark = pytest.mark.slow
WAITING = "locked by another process; waiting"


def hold_write_lock(path: str, locked: Any, release: Any) -> str:
    """Take SQLite's write lock on the file and keep it until told to let go."""
    import sqlite3

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


def apply_under_lock(
    settings: Settings, steps: Path, lock_timeout: str, until_waiting: bool
) -> tuple[int, str, str]:
    """`kringloop apply STEPS` while another process holds the write lock."""
    locked, release = barrier(2), barrier(2)
    env = cli_env(settings, KRINGLOOP_LOCK_TIMEOUT=lock_timeout)
    cli = [*KRINGLOOP, "apply", str(steps)]
    with spawned(
        child,
        [
            ("holder", str(settings.events_path), locked, release),
            ("cli", cli, env, locked, release, until_waiting),
        ],
    ) as results:
        return next(r for r in results if r != "released")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    made = Settings(home=tmp_path / "data")
    make_store(made)
    return made


def test_a_short_lock_is_waited_out_and_the_command_succeeds(
    settings: Settings, tmp_path: Path
) -> None:
    before = sqlite_counts(settings.events_path)
    code, out, err = apply_under_lock(settings, steps_file(tmp_path), "8", until_waiting=True)
    assert code == 0, err
    assert WAITING in err  # it did meet the lock, and said so while it waited
    assert "applied 3 commands" in out
    assert sqlite_counts(settings.events_path) == (before[0] + 3, before[1] + 3)


def test_a_long_lock_ends_in_a_plain_refusal_and_nothing_half_written(
    settings: Settings, tmp_path: Path
) -> None:
    before = sqlite_counts(settings.events_path)
    steps = steps_file(tmp_path)
    code, out, err = apply_under_lock(settings, steps, "2", until_waiting=False)
    assert code == 1
    assert "applied" not in out
    assert "is locked by another process (waited 2 s)" in err
    assert "Nothing was recorded" in err
    assert "Traceback" not in err
    assert sqlite_counts(settings.events_path) == before  # not one of the three decisions
    assert kringloop(settings, "audit", "verify").returncode == 0
    again = kringloop(settings, "apply", str(steps))  # once the lock is gone: all three
    assert again.returncode == 0, again.stderr
    assert sqlite_counts(settings.events_path) == (before[0] + 3, before[1] + 3)
