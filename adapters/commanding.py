"""Runs catalogue commands on the engine, one or many, with each decision logged in context:
its command, command id, actor and target."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from adapters.logs import get_logger
from domain.commands.base import Command, Outcome
from domain.engine import Engine
from domain.errors import InvalidCommandError, KringloopError, Message
from domain.messages import N_

log = get_logger("kringloop.commands")


def read_json(text: str, refusal: str | Message) -> Any:
    """JSON that a person or a file gave: every way it can fail is a refusal, worded
    ``refusal (why)`` (``refusal`` a message, to be read in any language, or words). Not
    only syntax errors: nesting too deep for the parser, or an integer too long for Python
    to convert, raise other errors."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:  # the parser's own words, in English
        raise InvalidCommandError(N_("{refusal} ({why})"), refusal=refusal, why=error.msg) from None
    except RecursionError:
        raise InvalidCommandError(N_("{refusal} (nested too deeply)"), refusal=refusal) from None
    except ValueError:
        raise InvalidCommandError(
            N_("{refusal} (a number with too many digits)"), refusal=refusal
        ) from None


def _target(command: Command) -> str:
    return str(getattr(command, "initiative_id", None) or getattr(command, "programme_id", ""))


def _context(command: Command) -> dict[str, str]:
    """What every decision's log line names, as ``execute`` binds it."""
    return {
        "command": command.command,
        "command_id": command.command_id,
        "actor": command.actor,
        "target": _target(command),
    }


def execute(engine: Engine, command: Command) -> Outcome:
    """Execute one command; log what was decided or refused."""
    with structlog.contextvars.bound_contextvars(**_context(command)):
        try:
            outcome = engine.execute(command)
        except KringloopError as error:
            log.info("refused", code=error.code, message=str(error))
            raise
        log.info("decided", version=outcome.version, replayed=outcome.replayed)
        return outcome


@dataclass(frozen=True)
class Refusal:
    """A command of a run that the engine refused, and why."""

    index: int  # its place among the commands given
    command: Command
    error: KringloopError

    def __str__(self) -> str:
        return f"{self.command.subject_id}: {self.error}"


@dataclass
class Tally:
    """What a run of commands did."""

    recorded: int = 0
    replayed: int = 0  # recorded before: the same command id
    refusals: list[Refusal] = field(default_factory=list)
    last_notification_id: int | None = None

    def add(self, other: Tally) -> None:
        self.recorded += other.recorded
        self.replayed += other.replayed
        self.refusals += other.refusals
        if other.last_notification_id is not None:
            self.last_notification_id = other.last_notification_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "already_recorded": self.replayed,
            "refused": len(self.refusals),
            "refusals": [str(refusal) for refusal in self.refusals[:20]],
        }


def execute_many(engine: Engine, commands: Sequence[Command], carry_on: bool = True) -> Tally:
    """Execute commands in order, as few transactions as the refusals allow (the engine's
    batch: every decision before a refusal is recorded together), each decision and refusal
    logged as ``execute`` logs it. A refusal is noted and the run goes on after it
    (``carry_on``), or the run stops there."""
    tally = Tally()
    done = 0
    while done < len(commands):
        result = engine.execute_batch(commands[done:])
        for command, outcome in zip(commands[done:], result.outcomes, strict=False):
            if outcome.replayed:
                tally.replayed += 1
            else:
                tally.recorded += 1
                tally.last_notification_id = outcome.notification_id
            log.info(
                "decided", **_context(command), version=outcome.version, replayed=outcome.replayed
            )
        done += len(result.outcomes)
        if result.refusal is None:
            break
        refused = commands[done]
        tally.refusals.append(Refusal(done, refused, result.refusal))
        log.info(
            "refused", **_context(refused), code=result.refusal.code, message=str(result.refusal)
        )
        done += 1
        if not carry_on:
            break
    return tally


@dataclass(frozen=True)
class Stopped:
    """Where applying a file of commands stopped, and why."""

    line: int
    message: str  # in English
    error: KringloopError | None = None  # the refusal itself, for a door to word in its language


@dataclass
class ApplyReport:
    applied: int = 0
    replayed: int = 0
    last_notification_id: int | None = None
    stopped: Stopped | None = None


def apply_lines(
    engine: Engine,
    lines: Iterable[tuple[int, Callable[[], Command]]],
    batch_size: int = 500,
    on_progress: Callable[[int], None] = lambda n: None,
) -> ApplyReport:
    """Apply numbered commands in batches; stop at the first line that cannot be applied.

    Each line comes as a thunk that parses it, so a malformed line stops the run at its
    number with everything before it recorded. A line without a command id gets one from
    its content, so the file run again (after a fix, or after a kill) recognises it too.
    """
    report = ApplyReport()
    for batch in _batches(lines, batch_size):
        commands: list[Command] = []
        numbers: list[int] = []
        parse_error: Stopped | None = None
        for number, parse in batch:
            try:
                commands.append(_resumable(parse()))
                numbers.append(number)
            except KringloopError as error:
                parse_error = Stopped(number, str(error), error)
                break
        tally = execute_many(engine, commands, carry_on=False)
        report.applied += tally.recorded
        report.replayed += tally.replayed
        if tally.last_notification_id is not None:
            report.last_notification_id = tally.last_notification_id
        on_progress(tally.recorded + tally.replayed)
        if tally.refusals:
            refusal = tally.refusals[0]
            report.stopped = Stopped(numbers[refusal.index], str(refusal.error), refusal.error)
            log.info("apply stopped", line=report.stopped.line, message=report.stopped.message)
            return report
        if parse_error is not None:
            report.stopped = parse_error
            log.info("apply stopped", line=parse_error.line, message=parse_error.message)
            return report
    log.info("applied", applied=report.applied, replayed=report.replayed)
    return report


def _resumable(command: Command) -> Command:
    """A random command id, the default, would record the line again on every run."""
    if "command_id" in command.model_fields_set:
        return command
    return command.model_copy(update={"command_id": f"line:{command.digest()}"})


def _batches(
    items: Iterable[tuple[int, Callable[[], Command]]], size: int
) -> Iterator[list[tuple[int, Callable[[], Command]]]]:
    batch: list[tuple[int, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
