"""What every CLI command shares: settings, a lazily opened engine, output and refusals."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from adapters.bootstrap import Kringloop
from adapters.failures import storage_error
from domain.errors import KringloopError

# Stored text (reasons, names) is printed as it is: never read as Rich markup ("[/]" in a
# reason crashed `initiative show`) or emoji codes. Lines that style say markup=True.
console = Console(
    soft_wrap=True, width=None if sys.stdout.isatty() else 160, markup=False, emoji=False
)
errors = Console(stderr=True, soft_wrap=True)
_BREAKS = re.compile(r"[ \t]*[\r\n\t]+[ \t]*")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def session(ctx: typer.Context) -> Kringloop:
    """This command's Kringloop, as the root callback wired it (adapters.bootstrap)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Kringloop):
        raise TypeError("not wired: the root callback sets it up")
    return obj


def emit_json(data: Any) -> None:
    """Print JSON for scripts: pydantic models, lists of them, or plain data."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def one_line(text: str) -> str:
    """Text for a terminal line: line breaks and tabs become spaces, other control
    characters (an escape sequence would be obeyed by the terminal) show as \\xNN."""
    text = _BREAKS.sub(" ", text)
    return _UNPRINTABLE.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def refuse(message: str, code: str = "refused", as_json: bool = False) -> NoReturn:
    """Say why in one line, and exit non-zero."""
    if as_json:
        emit_json({"error": code, "message": message})
    else:
        errors.print(f"[bold red]refused:[/] {escape(one_line(message))}", highlight=False)
    raise typer.Exit(code=1)


@contextmanager
def refusals(as_json: bool = False) -> Iterator[None]:
    """Turn a domain refusal into a one-line reason and a non-zero exit."""
    try:
        yield
    except KringloopError as error:
        refuse(str(error), error.code, as_json)
    except Exception as error:  # a driver's error: said plainly if it is a storage failure
        failure = storage_error(error)
        if failure is None:
            raise
        refuse(str(failure), failure.code, as_json)


def parse_day(value: str, option: str, as_json: bool = False) -> date:
    """A date option, read as the commands read their dates (domain.commands.base.Day)."""
    from pydantic import TypeAdapter, ValidationError

    from domain.commands.base import Day

    try:
        day: date = TypeAdapter(Day).validate_python(value)
    except ValidationError as error:
        refuse(f"{option}: {error.errors()[0]['msg']}", "invalid", as_json)
    return day
