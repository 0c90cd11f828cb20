"""A writer killed with SIGKILL at the worst moments of a command's append, again and again,
then run to the end: nothing acknowledged is lost, nothing is recorded twice, the read
models equal a rebuild and the hash chain verifies; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from domain.engine import Engine
from domain.values import Stage
from projections.store import ReadStore
from tests.conftest import runner
from tests.faults.invariants import assert_whole, command_ids
from tests.faults.killing import child, run_to_end
from tests.scenario import initiative_at, programme

INITIATIVES = ("grass", "textile")
PERIODS = range(2000, 2040)  # 40 reports each: the initiatives pass a snapshot (50 versions)
# in-append: events and chain links written, not committed; committed: on disk, unanswered
MOMENTS = ("in-append", "committed", "in-append", "committed")


def reports() -> list[dict[str, Any]]:
    return [
        {
            "command": "report-impact",
            "command_id": f"report:{name}:{period}",
            "initiative_id": name,
            "period": period,
            "jobs_fte": period - 1999,
            "actor": "broker-anna",
            "reason": "yearly figures from the consortium",
            "effective": "2024-01-01",
        }
        for period in PERIODS
        for name in INITIATIVES
    ]


@pytest.mark.slow
def test_a_writer_killed_at_the_worst_moments_loses_and_doubles_nothing(
    stored_engine: Engine, store_env: dict[str, str], read_store: ReadStore, tmp_path: Path
) -> None:
    run = runner(stored_engine)
    programme(run)
    for name in INITIATIVES:
        initiative_at(run, Stage.CONSORTIUM_FORMED, initiative_id=name)
    commands = reports()
    chance = random.Random(9)  # seeded: the same kill points on every run of the suite
    acknowledged: set[str] = set()

    for attempt, moment in enumerate(MOMENTS):
        marker, acks = tmp_path / f"halt-{attempt}", tmp_path / f"acks-{attempt}"
        nth = chance.randint(1, 15)
        args = {"env": store_env, "commands": commands, "acks": str(acks)}
        with child(
            "decide", {**args, "halt": {"at": moment, "n": nth, "marker": str(marker)}}, tmp_path
        ) as writer:
            writer.reach(marker, f"its append number {nth} ({moment})")
            writer.kill()

        answered = acks.read_text().split()
        acknowledged.update(answered)
        in_flight = commands[len(answered)]["command_id"]  # executed in order, each answered
        stored = command_ids(stored_engine)
        assert acknowledged <= set(stored), "every acknowledged command is recorded"
        assert max(stored.values()) == 1, "no command recorded twice"
        if moment == "in-append":
            assert in_flight not in stored, "an uncommitted append leaves no trace"
        else:
            assert stored[in_flight] == 1, "a committed append stays, answered or not"

    # the client retries everything with the same command ids: each lands once
    acks = tmp_path / "acks-final"
    finished = run_to_end(
        "decide", {"env": store_env, "commands": commands, "acks": str(acks)}, tmp_path
    )
    assert finished["recorded"] + finished["replayed"] == len(commands)
    assert finished["replayed"] >= len(acknowledged)
    stored = command_ids(stored_engine)
    reported = {c["command_id"] for c in commands}
    assert {k: v for k, v in stored.items() if k in reported} == dict.fromkeys(reported, 1)
    assert_whole(stored_engine, read_store, tmp_path, acknowledged | set(acks.read_text().split()))
