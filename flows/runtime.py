"""What every flow shares: this process's engine and read store, opened once from the
settings; command ids derived from the flow run; and running many commands in batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from adapters.logs import configure_logging, get_logger
from adapters.settings import Settings
from adapters.store import Stores
from domain.commands.base import Command
from domain.engine import Engine
from projections.runner import Runner
from projections.store import ReadStore

SCHEDULER = "scheduler:phase-3-check"  # service identities: the programme grants them
DEADLINES = "scheduler:deadlines"  # a mandate on 'all' streams

_stores: list[Stores] = []  # this process's stores, opened on first use
log = get_logger("kringloop.flows")


def stores() -> Stores:
    if not _stores:
        configure_logging("info", own_handler=False)
        _stores.append(Stores(Settings()))
    return _stores[0]


def settings() -> Settings:
    return stores().settings


def engine() -> Engine:
    return stores().engine


def read_store() -> ReadStore:
    return stores().read_store


def runner() -> Runner:
    return stores().runner


def close() -> None:
    """Forget this process's engine and read store (tests switch data folders)."""
    if _stores:
        _stores.pop().close()


def run_scoped(step: str) -> str:
    """A command id for one step of this flow run: a retry of the run decides the same
    commands again, and the engine records each once."""
    from prefect.runtime import flow_run

    return f"flow-run:{flow_run.id}:{step}"


def bind_run() -> None:
    from prefect.runtime import flow_run

    structlog.contextvars.bind_contextvars(
        flow_run_id=str(flow_run.id), flow=str(flow_run.flow_name)
    )


@dataclass
class Tally:
    """What a batch of commands did."""

    recorded: int = 0
    already: int = 0
    refused: list[str] = field(default_factory=list)
    last_notification_id: int | None = None

    def add(self, other: Tally) -> None:
        self.recorded += other.recorded
        self.already += other.already
        self.refused += other.refused
        if other.last_notification_id is not None:
            self.last_notification_id = other.last_notification_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "already_recorded": self.already,
            "refused": len(self.refused),
            "refusals": self.refused[:20],
        }


def execute_all(commands: Sequence[Command]) -> Tally:
    """Execute commands in batches, noting refusals and carrying on past them."""
    tally = Tally()
    remaining = list(commands)
    while remaining:
        result = engine().execute_batch(remaining)
        for outcome in result.outcomes:
            if outcome.replayed:
                tally.already += 1
            else:
                tally.recorded += 1
                tally.last_notification_id = outcome.notification_id
        done = len(result.outcomes)
        if result.refusal is not None:
            refused = remaining[done]
            tally.refused.append(f"{refused.subject_id}: {result.refusal}")
            log.info("refused", target=refused.subject_id, message=str(result.refusal))
            done += 1
        remaining = remaining[done:]
    return tally
