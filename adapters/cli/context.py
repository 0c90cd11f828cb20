"""What every CLI command shares: settings, a lazily opened engine, output and refusals.

Nothing heavy is imported here: `kringloop --help` and the reads that the read models answer
(adapters.cli.reading) never load the engine, SQLAlchemy or the recorders; a command that
decides gets them with its first ``session(ctx)``."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from adapters.cli.words import said, words
from domain.errors import KringloopError
from domain.messages import N_

if TYPE_CHECKING:
    from adapters.bootstrap import Kringloop
    from adapters.settings import Settings

# Stored text (reasons, names) is printed as it is: never read as Rich markup ("[/]" in a
# reason crashed `initiative show`) or emoji codes. Lines that style say markup=True.
console = Console(
    soft_wrap=True, width=None if sys.stdout.isatty() else 160, markup=False, emoji=False
)
errors = Console(stderr=True, soft_wrap=True)
_BREAKS = re.compile(r"[ \t]*[\r\n\t]+[ \t]*")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Door:
    """What the root callback sets up for a command: its settings, and its Kringloop
    (adapters.bootstrap: logging, engine, read store), wired on the first ``session``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._kringloop: Kringloop | None = None

    @property
    def kringloop(self) -> Kringloop:
        if self._kringloop is None:
            from adapters.bootstrap import bootstrap

            self._kringloop = bootstrap(self.settings)
        return self._kringloop

    def close(self) -> None:
        if self._kringloop is not None:
            self._kringloop.close()


def door(ctx: typer.Context) -> Door:
    """This command's door, as the root callback set it up."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Door):
        raise TypeError("not wired: the root callback sets it up")
    return obj


def session(ctx: typer.Context) -> Kringloop:
    """This command's Kringloop, wired on first use (adapters.bootstrap)."""
    return door(ctx).kringloop


def emit_json(data: Any) -> None:
    """Print JSON for scripts: pydantic models, lists of them, or plain data."""
    from pydantic import BaseModel

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


def refuse(
    message: str, code: str = "refused", as_json: bool = False, message_id: str | None = None
) -> NoReturn:
    """Say why in one line, and exit non-zero."""
    say_refused(message, code, as_json, message_id)
    raise typer.Exit(code=1)


def say_refused(
    message: str, code: str = "refused", as_json: bool = False, message_id: str | None = None
) -> None:
    """One line on stderr, ``refused: why``, in the CLI's language; with ``--json``, an
    object on stdout whose ``error``/``code`` (the refusal's kind) and ``message_id`` (the
    English template it was worded from) do not depend on the language."""
    if as_json:
        found: dict[str, str] = {"error": code, "code": code, "message": message}
        if message_id is not None:
            found["message_id"] = message_id
        emit_json(found)
    else:
        label = escape(words().gettext(N_("refused:")))
        errors.print(f"[bold red]{label}[/] {escape(one_line(message))}", highlight=False)


def say_error(error: KringloopError, as_json: bool = False) -> None:
    """A refusal of the engine (or a storage failure) as ``say_refused`` says it, in the
    CLI's language; in English, its own words (``str``), as the logs have them."""
    say_refused(said(error), error.code, as_json, error.message_id)


@contextmanager
def refusals(as_json: bool = False) -> Iterator[None]:
    """Turn a domain refusal into a one-line reason and a non-zero exit."""
    try:
        yield
    except KringloopError as error:
        say_error(error, as_json)
        raise typer.Exit(code=1) from None
    except Exception as error:  # a driver's error: said plainly if it is a storage failure
        from adapters.failures import storage_error

        failure = storage_error(error)
        if failure is None:
            raise
        say_error(failure, as_json)
        raise typer.Exit(code=1) from None


def parse_day(value: str, option: str, as_json: bool = False) -> date:
    """A date option, read as the commands read their dates (domain.commands.base.Day)."""
    from pydantic import TypeAdapter, ValidationError

    from domain.commands.base import Day

    try:
        day: date = TypeAdapter(Day).validate_python(value)
    except ValidationError as error:
        refuse(f"{option}: {error.errors()[0]['msg']}", "invalid", as_json)
    return day
