"""Generates one CLI command per catalogue command, from its pydantic model.

Each model field becomes an option (the aggregate's id an argument); lists repeat the
option; structured fields take JSON, with the worked example the field carries shown in
`--help` and in the refusal. Validation is the model's own, so the CLI, `apply` and the
API refuse the same input with the same words.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from datetime import date
from enum import Enum
from typing import Any

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from adapters.cli.context import console, emit_json, refusals, session
from adapters.commanding import execute, read_json
from domain.commands.catalogue import Command, expected_shape, validate_command
from domain.errors import InvalidCommandError
from domain.record import RECORD_WORDS

COMMON = ("command_id", "actor", "reason", "evidence", "effective")


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            annotation = args[0]
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _is_structured(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is dict:
        return True
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(item, type) and issubclass(item, BaseModel)
    return False


def _option_type(annotation: Any) -> Any:
    """The type typer parses; pydantic does the real validation afterwards."""
    base = _strip_optional(annotation)
    if _is_structured(base):
        return str  # JSON text
    if typing.get_origin(base) is list:
        (item,) = typing.get_args(base)
        parsed = item if isinstance(item, type) and issubclass(item, Enum) else str
        return list[parsed]  # type: ignore[valid-type]
    if isinstance(base, type) and issubclass(base, Enum | bool | int | float):
        return base
    return str


def _metavar(info: FieldInfo) -> str | None:
    base = _strip_optional(info.annotation)
    if _is_structured(base):
        return "JSON"
    if typing.get_origin(base) is list:
        (base,) = typing.get_args(base)
    if isinstance(base, type) and issubclass(base, Enum):
        return None  # typer lists the choices
    if base is date:
        return "YYYY-MM-DD"
    if base in (int, float):
        return "NUMBER"
    return "TEXT"


def _help(name: str, info: FieldInfo) -> str:
    base = _strip_optional(info.annotation)
    text = info.description or ""
    if _is_structured(base):
        example = json.dumps(info.examples[0], ensure_ascii=False) if info.examples else None
        text += f" (JSON, e.g. '{example}')" if example else " (JSON)"
    if typing.get_origin(base) is list and not _is_structured(base):
        text += " (repeat the option for several)"
    return text.strip()


def _parameter(name: str, info: FieldInfo, id_field: str) -> inspect.Parameter:
    option_type = _option_type(info.annotation)
    required = info.is_required()
    if name == id_field and required:
        default: Any = typer.Argument(
            ..., metavar=id_field.upper(), help=f"the {id_field.replace('_id', '')}'s id"
        )
    elif option_type is bool:
        flag = name.replace("_", "-")
        default = typer.Option(
            ... if required else None, f"--{flag}/--not-{flag}", help=_help(name, info)
        )
    else:
        extra = {"envvar": "KRINGLOOP_ACTOR"} if name == "actor" else {}
        default = typer.Option(
            ... if required and name != "actor" else None,
            f"--{name.replace('_', '-')}",
            help=_help(name, info),
            metavar=_metavar(info),
            show_default=False,
            **extra,
        )
    annotation = option_type if required and name == id_field else option_type | None
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def build_fields(cls: type[Command], values: dict[str, Any]) -> dict[str, Any]:
    """CLI values to model input: drop what was not given, parse the JSON ones."""
    fields: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or (value == [] and name != "evidence"):
            continue
        info = cls.model_fields[name]
        if _is_structured(_strip_optional(info.annotation)):
            value = _read_json_option(cls, name, value)
        fields[name] = value.value if isinstance(value, Enum) else value
    return fields


def _read_json_option(cls: type[Command], name: str, text: str) -> Any:
    option = f"--{name.replace('_', '-')}"
    try:
        return read_json(text, f"{option}: not JSON")
    except InvalidCommandError as refusal:
        shape = expected_shape(cls, name)
        raise InvalidCommandError(f"{refusal}; {shape}" if shape else str(refusal)) from None


def make_cli_command(cls: type[Command]) -> Any:
    id_field = f"{cls.group}_id"
    fields = cls.model_fields
    ordered = [id_field] + [n for n in fields if n not in COMMON and n != id_field] + list(COMMON)
    parameters = [_parameter(n, fields[n], id_field) for n in ordered if n in fields]
    parameters.append(
        inspect.Parameter(
            "as_json",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(False, "--json", help="print the outcome as JSON"),
            annotation=bool,
        )
    )

    def run(ctx: typer.Context, **values: Any) -> None:
        as_json = values.pop("as_json")
        with refusals(as_json):
            if not values.get("actor"):
                raise InvalidCommandError("say who decides: --actor NAME or KRINGLOOP_ACTOR")
            command = validate_command(cls, build_fields(cls, values))
            current = session(ctx)
            outcome = execute(current.engine, command)
            current.runner.wait_for(outcome.notification_id)  # the next read sees this write
            from adapters.audit.sealing import auto_seal

            auto_seal(current.engine, current.settings)
        if as_json:
            emit_json(outcome)
        else:
            from adapters.cli.words import _

            said = (
                _("already recorded: {command} on {record} {id} (version {version})")
                if outcome.replayed
                else _("recorded: {command} on {record} {id} (version {version})")
            )
            console.print(
                said.format(
                    command=outcome.command,
                    record=_(RECORD_WORDS.get(outcome.kind, outcome.kind)),
                    id=outcome.id,
                    version=outcome.version,
                ),
                highlight=False,
            )

    ctx_param = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )
    run.__signature__ = inspect.Signature([ctx_param, *parameters])  # type: ignore[attr-defined]
    run.__doc__ = cls.__doc__
    run.__name__ = cls.command.replace("-", "_")
    return run
