"""The catalogue: every command the engine accepts, by name. It drives every front door."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from domain.commands import archive, authority, correction, initiative, procurement, programme
from domain.commands.base import Command, Outcome
from domain.commands.initiative import InitiativeCommand, ProposeInitiative
from domain.commands.programme import CreateProgramme, ProgrammeCommand
from domain.errors import InvalidCommandError, Term
from domain.messages import N_


def _concrete(module: Any) -> list[type[Command]]:
    """The commands a module defines: the classes that name themselves."""
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, Command)
        and "command" in obj.__dict__
        and obj.__module__ == module.__name__
    ]


CATALOGUE: dict[str, type[Command]] = {
    cls.command: cls
    for cls in _concrete(authority)
    + _concrete(programme)
    + _concrete(initiative)
    + _concrete(correction)
    + _concrete(procurement)
    + _concrete(archive)
}
"""Every command by its name, in the order a lifecycle runs."""

FORMER_NAMES: dict[str, type[Command]] = {
    former: cls for cls in CATALOGUE.values() for former in cls.former_names
}
"""Every command by a name it had before; each door still accepts these, as deprecated."""


def command_class(name: object) -> type[Command]:
    """The command a name stands for, its current name or a former one."""
    found = CATALOGUE.get(name) if isinstance(name, str) else None
    if found is None and isinstance(name, str):
        found = FORMER_NAMES.get(name)
    if found is None:
        raise InvalidCommandError(
            N_("unknown command {name}; see `kringloop commands` for the catalogue"),
            name=repr(name),
        )
    return found


def command_for_step(group: str, step: str) -> type[Command]:
    """The command that takes a step (an aggregate's method, ``fail_precondition``) on an
    aggregate of a group (``initiative``)."""
    for cls in CATALOGUE.values():
        if cls.group == group and cls.step == step:
            return cls
    raise KeyError(f"no {group} command takes the step {step!r}")


def parse_command(payload: dict[str, Any]) -> Command:
    """Build a command from a JSON object ``{"command": NAME, ...fields}``; a former name
    builds the command it was renamed to."""
    fields = dict(payload)
    return validate_command(command_class(fields.pop("command", None)), fields)


def validate_command(cls: type[Command], fields: dict[str, Any]) -> Command:
    try:
        return cls.model_validate(fields)
    except ValidationError as error:
        refusal = InvalidCommandError(
            N_("invalid {command}: {problems}"),
            command=Term("command", cls.command),
            problems=describe_problems(cls, error),
        )
        refusal.problems = tuple(error.errors(include_url=False, include_input=False))
        raise refusal from None


def describe_validation(cls: type[Command], error: ValidationError) -> str:
    """The refusal of invalid fields in English words."""
    return f"invalid {cls.command}: {describe_problems(cls, error)}"


def describe_problems(cls: type[Command], error: ValidationError) -> str:
    """Each invalid field and why (pydantic's words, in English), with the expected shape of
    a field that takes JSON."""
    problems, shapes = [], {}
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "input"
        problems.append(f"{where}: {item['msg']}")
        field = str(item["loc"][0]) if item["loc"] else ""
        shape = expected_shape(cls, field)
        if shape:
            shapes[field] = f"{field}: {shape}"
    return "; ".join(problems + list(shapes.values()))


def expected_shape(cls: type[Command], field: str) -> str | None:
    """For a field that takes JSON (a list of records, a mapping), its shape in words with
    the worked example the field carries; None for other fields."""
    info = cls.model_fields.get(field)
    example = info.examples[0] if info is not None and info.examples else None
    if not isinstance(example, list | dict):
        return None
    kind = "list" if isinstance(example, list) else "object"
    return f"expected a JSON {kind} like {json.dumps(example, ensure_ascii=False)}"


__all__ = [
    "CATALOGUE",
    "FORMER_NAMES",
    "Command",
    "CreateProgramme",
    "InitiativeCommand",
    "Outcome",
    "ProgrammeCommand",
    "ProposeInitiative",
    "command_class",
    "command_for_step",
    "expected_shape",
    "parse_command",
    "validate_command",
]
