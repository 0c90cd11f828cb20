"""Eight processes issuing commands to the same initiatives on PostgreSQL at once: every
accepted command is recorded exactly once, a refused one not at all, and a resent command
appends nothing."""

from __future__ import annotations

import random
from collections import Counter
from multiprocessing.synchronize import Barrier

import pytest

from domain.commands.catalogue import parse_command
from domain.engine import Engine
from domain.errors import ConcurrencyConflictError
from domain.values import Stage
from tests.conftest import TODAY, runner
from tests.processes import barrier, spawned
from tests.scenario import STEPS, programme

PROCESSES = 8
INITIATIVES = 50
COMMANDS = 20  # per process


def initiatives(engine: Engine) -> list[str]:
    """INITIATIVES initiatives at "consortium formed", recorded in batches."""
    ids = [f"grass-{n:02d}" for n in range(INITIATIVES)]
    steps = [c for stage, commands in STEPS[:5] for c in commands]
    assert STEPS[4][0] == Stage.CONSORTIUM_FORMED
    for initiative_id in ids:
        engine.execute_batch(
            [
                parse_command(
                    {
                        "command": command,
                        "initiative_id": initiative_id,
                        "actor": "broker-anna",
                        "reason": "set up",
                        "effective": "2016-01-01",
                        **fields,
                    }
                )
                for command, fields in steps
            ]
        )
    return ids


def broker(env: dict[str, str], number: int, ids: list[str], start: Barrier) -> list[str]:
    """One process: COMMANDS impact reports on initiatives picked at random, then the first
    one again. Returns what became of each: 'recorded:<command id>:<initiative>' or
    'conflict:<command id>'."""
    engine = Engine(env={**env, "CREATE_TABLE": "n"}, clock=lambda: TODAY)
    pick = random.Random(number)
    commands = [
        parse_command(
            {
                "command": "report-impact",
                "command_id": f"p{number}-{k:03d}",
                "initiative_id": pick.choice(ids),
                "actor": "broker-anna",
                "reason": f"figures from process {number}",
                "effective": "2020-01-01",
                "period": 2000 + k,
                "jobs_fte": number * 100 + k,
            }
        )
        for k in range(COMMANDS)
    ]
    start.wait()
    outcomes = []
    for command in commands:
        try:
            done = engine.execute(command)
        except ConcurrencyConflictError:
            outcomes.append(f"conflict:{command.command_id}")
            continue
        assert not done.replayed
        outcomes.append(f"recorded:{command.command_id}:{done.id}")
    again = engine.execute(commands[0])
    assert again.replayed, "a resent command id is answered from the record"
    engine.close()
    return outcomes


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("store_env", ["postgres"], indirect=True)
def test_eight_processes_lose_and_double_nothing(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    programme(runner(stored_engine))
    ids = initiatives(stored_engine)
    formed = stored_engine.initiative(ids[0]).version
    setup_head = stored_engine.recorder.max_notification_id()
    start = barrier(PROCESSES)
    with spawned(broker, [(store_env, n, ids, start) for n in range(PROCESSES)]) as returned:
        outcomes = [o for process in returned for o in process]

    recorded = [o.split(":") for o in outcomes if o.startswith("recorded:")]
    assert len(outcomes) == PROCESSES * COMMANDS
    stored = [
        stored_engine.mapper.to_domain_event(n).decision.command_id
        for n in stored_engine.recorder.select_notifications(
            start=setup_head, limit=10 * PROCESSES * COMMANDS, inclusive_of_start=False
        )
    ]
    assert Counter(stored) == Counter(command_id for _, command_id, _ in recorded), (
        "every accepted command is in the store once; nothing else is"
    )
    per_initiative = Counter(initiative_id for _, _, initiative_id in recorded)
    with Engine(env=store_env, clock=lambda: TODAY) as fresh:
        versions = {i: fresh.initiative(i).version - formed for i in ids}
    assert versions == {i: per_initiative[i] for i in ids}
