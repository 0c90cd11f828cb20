"""What every flow shares: this process's Kringloop, wired by adapters.bootstrap as every door
is and made on first use; decisions through its logged execute; command ids derived from the
flow run; and retries only for failures that may pass."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import structlog
from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from adapters.bootstrap import Kringloop, bootstrap
from adapters.commanding import Tally
from adapters.failures import is_transient
from adapters.logs import get_logger

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State, TaskRun

    from adapters.settings import Settings
    from domain.commands.base import Command, Outcome
    from domain.engine import Engine
    from projections.runner import Runner
    from projections.store import ReadStore

SCHEDULER = "scheduler:phase-3-check"  # service identities: the programme grants them
DEADLINES = "scheduler:deadlines"  # a mandate on 'all' streams
log = get_logger("kringloop.flows")
P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def wired() -> Kringloop:
    """This process's Kringloop: a served process runs many flows, on stores opened once."""
    return bootstrap(logs="prefect")


def execute(command: Command) -> Outcome:
    return wired().execute(command)


def execute_many(commands: Sequence[Command]) -> Tally:
    """Refusals are noted in the tally, and the run goes on past them."""
    return wired().execute_many(commands, carry_on=True)


def engine() -> Engine:
    return wired().engine


def read_store() -> ReadStore:
    return wired().read_store


def runner() -> Runner:
    return wired().runner


def settings() -> Settings:
    return wired().settings


def close() -> None:
    """Close this process's stores and forget them (tests switch data folders)."""
    if wired.cache_info().currsize:
        wired().close()
        wired.cache_clear()


def transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Every task's ``retry_condition_fn``: try again after a conflict with another writer or
    a storage failure; never after a refusal, which the rules would repeat (nor a bug)."""
    failure = state.result(raise_on_failure=False)
    return isinstance(failure, BaseException) and is_transient(failure)


def retried(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task that writes: tried up to three times, a second apart, after a failure that may
    pass (``transient``); never cached, for the event store says what was done."""
    return task(
        name=name,
        retries=2,
        retry_delay_seconds=1,
        retry_condition_fn=transient,
        cache_policy=NO_CACHE,
    )


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
