"""The catalogue: every command the engine accepts, by name. It drives every front door."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from domain.commands import authority, initiative, procurement, programme
from domain.commands.base import Command, Outcome
from domain.commands.initiative import InitiativeCommand, ProposeInitiative
from domain.commands.programme import CreateProgramme, ProgrammeCommand
from domain.errors import InvalidCommandError


def _concrete(module: Any) -> list[type[Command]]:
    """The commands a module defines: the classes that have a verb."""
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, Command)
        and "verb" in obj.__dict__
        and obj.__module__ == module.__name__
    ]


CATALOGUE: dict[str, type[Command]] = {
    cls.command: cls
    for cls in _concrete(authority)
    + _concrete(programme)
    + _concrete(initiative)
    + _concrete(procurement)
}
"""Every command by its name, in the order a lifecycle runs."""


def parse_command(payload: dict[str, Any]) -> Command:
    """Build a command from a JSON object ``{"command": NAME, ...fields}``."""
    fields = dict(payload)
    name = fields.pop("command", None)
    if not isinstance(name, str) or name not in CATALOGUE:
        raise InvalidCommandError(
            f"unknown command {name!r}; see `kringloop commands` for the catalogue"
        )
    return validate_command(CATALOGUE[name], fields)


def validate_command(cls: type[Command], fields: dict[str, Any]) -> Command:
    try:
        return cls.model_validate(fields)
    except ValidationError as error:
        raise InvalidCommandError(describe_validation(cls.command, error)) from None


def describe_validation(command: str, error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "input"
        problems.append(f"{where}: {item['msg']}")
    return f"invalid {command}: " + "; ".join(problems)


__all__ = [
    "CATALOGUE",
    "Command",
    "CreateProgramme",
    "InitiativeCommand",
    "Outcome",
    "ProgrammeCommand",
    "ProposeInitiative",
    "parse_command",
    "validate_command",
]
