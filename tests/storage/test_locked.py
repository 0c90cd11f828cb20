"""An SQLite event store locked by another process: a short lock is waited out, a long one
ends in a plain refusal with nothing half-written. A real second process holds a real
`BEGIN EXCLUSIVE` on the real file while the CLI runs in a third."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.settings import Settings
from tests.processes import barrier, spawned
from tests.storage.children import WAITING, child
from tests.storage.helpers import (
    KRINGLOOP,
    cli_env,
    kringloop,
    make_store,
    sqlite_counts,
    steps_file,
)

pytestmark = pytest.mark.slow


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
