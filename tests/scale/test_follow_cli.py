"""`kringloop projections follow`: a real process that keeps the read models up with what
another process records, and stops cleanly, between batches, on Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from projections.runner import Runner
from tests.conftest import TODAY, runner
from tests.scenario import programme

DEADLINE = 60.0


@pytest.mark.slow
@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_follow_applies_new_events_and_stops_cleanly_on_a_signal(
    tmp_path: Path, stop_with: signal.Signals
) -> None:
    settings = Settings(home=tmp_path, database_url=None)
    kringloop = [sys.executable, "-m", "adapters.cli", "--home", str(tmp_path)]
    follow = subprocess.Popen(
        [*kringloop, "projections", "follow", "--poll", "0.05", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stderr is not None
        announced = follow.stderr.readline()  # once its first catch-up is done
        assert announced.startswith("following read-models at position 0"), announced

        engine = open_engine(settings)
        engine.clock = lambda: TODAY
        programme(runner(engine))
        head = engine.recorder.max_notification_id() or 0
        reads = open_read_store(settings)
        position = Runner(engine, reads).position
        deadline = time.monotonic() + DEADLINE
        while position() < head:
            assert time.monotonic() < deadline, "the follower did not apply the new events"
            assert follow.poll() is None, follow.stderr.read()
            time.sleep(0.05)
        engine.close()
        reads.close()

        follow.send_signal(stop_with)
        out, err = follow.communicate(timeout=DEADLINE)
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.communicate()
    assert follow.returncode == 0, err
    assert "Traceback" not in err
    assert json.loads(out) == {"applied": head, "position": head, "mode": "polling"}
