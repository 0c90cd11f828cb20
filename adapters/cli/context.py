"""What every CLI command shares: settings, a lazily opened engine, output and refusals."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from domain.engine import Engine
from domain.errors import KringloopError
from projections.runner import Runner
from projections.store import ReadStore

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True, soft_wrap=True)


@dataclass
class Session:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    _reads: ReadStore | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.settings)
        return self._engine

    @property
    def read_store(self) -> ReadStore:
        if self._reads is None:
            self._reads = open_read_store(self.settings)
        return self._reads

    @property
    def runner(self) -> Runner:
        return Runner(self.engine, self.read_store)

    def fresh_reads(self) -> ReadStore:
        """The read store, caught up with every event recorded so far."""
        self.runner.catch_up()
        return self.read_store

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._reads is not None:
            self._reads.close()
            self._reads = None


def session(ctx: typer.Context) -> Session:
    obj = ctx.find_root().obj
    assert isinstance(obj, Session), "the root callback sets up the session"
    return obj


def emit_json(data: Any) -> None:
    """Print JSON for scripts: pydantic models, lists of them, or plain data."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def refuse(message: str, code: str = "refused", as_json: bool = False) -> NoReturn:
    """Say why in one line, and exit non-zero."""
    if as_json:
        emit_json({"error": code, "message": message})
    else:
        errors.print(f"[bold red]refused:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code=1)


@contextmanager
def refusals(as_json: bool = False) -> Iterator[None]:
    """Turn a domain refusal into a one-line reason and a non-zero exit."""
    try:
        yield
    except KringloopError as error:
        refuse(str(error), error.code, as_json)


def guarded(as_json: bool, action: Callable[[], Any]) -> Any:
    with refusals(as_json):
        return action()
