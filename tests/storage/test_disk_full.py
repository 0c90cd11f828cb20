"""The data folder's disk full: the write is refused in plain words, the store stays intact
and verifiable, and works again once there is space.

The disk is a real one: a 4 MiB tmpfs mounted for the test (we run as root), filled with a
file until the kernel answers ENOSPC. SQLite then meets the same "database or disk is full"
as on a full production disk, through the same code path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.audit.verify import verify_store
from adapters.settings import Settings
from adapters.store import StorageError, open_engine
from domain.commands.catalogue import parse_command
from domain.values import Stage
from tests.conftest import TODAY
from tests.storage.helpers import fill, kringloop, make_store, sqlite_counts, steps_file


@pytest.fixture
def settings(small_disk: Path) -> Settings:
    made = Settings(home=small_disk / "data")
    make_store(made, Stage.EXPERT_SCAN)
    return made


def test_the_cli_on_a_full_disk_refuses_plainly_and_the_store_still_verifies(
    settings: Settings, small_disk: Path, tmp_path: Path
) -> None:
    steps = steps_file(tmp_path)
    before = sqlite_counts(settings.events_path)
    filler = fill(small_disk)

    refused = kringloop(settings, "apply", str(steps))
    assert refused.returncode == 1
    assert "the disk holding the event store" in refused.stderr
    assert "is full" in refused.stderr
    assert "Traceback" not in refused.stderr
    as_json = kringloop(settings, "apply", str(steps), "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["error"] == "storage"

    filler.unlink()
    assert sqlite_counts(settings.events_path) == before
    assert kringloop(settings, "audit", "verify").returncode == 0


def test_a_running_engine_meets_a_full_disk_and_carries_on_once_space_is_free(
    settings: Settings, small_disk: Path
) -> None:
    engine = open_engine(settings)  # open before the disk fills, as a long-running API is
    engine.clock = lambda: TODAY
    option = parse_command(
        {
            "command": "record-option",
            "initiative_id": "timber",
            "option": "panels",
            "description": "cross-laminated panels",
            "circularity_level": "R3",
            "expert": "TNO",
            "actor": "broker-anna",
            "reason": "expert session",
            "effective": "2016-02-01",
        }
    )
    try:
        version = engine.initiative("timber").version
        filler = fill(small_disk)
        with pytest.raises(StorageError, match="is full"):
            engine.execute(option)
        assert engine.initiative("timber").version == version
        filler.unlink()
        assert engine.execute(option).version == version + 1
        report, _ = verify_store(engine.recorder, settings.home)
        assert report.ok, report.problems
    finally:
        engine.close()
