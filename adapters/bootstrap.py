"""The one wiring point: settings → stores → logging → the logged ``execute`` and
``execute_many``, put together the same way for every door. The CLI makes one per command,
the API one per app, the flows one per process, the benchmarks one per store they measure.
Nothing is opened here: the stores open when first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar, overload

from adapters import commanding
from adapters.logs import configure_logging
from adapters.settings import Settings
from adapters.store import Stores
from domain.commands.base import Command, Outcome

Logs = Literal["stderr", "prefect", "kept"]
"""Where the log lines go: stderr at the settings' level (a command line, a benchmark);
through the handlers Prefect attached, at info, so they show in the flow run's log; or
wherever the process already sends them ("kept": the API under `kringloop api`, a test)."""


@dataclass
class Kringloop(Stores):
    """One door's Kringloop: its settings, its stores (opened on first use, closed once),
    and every decision taken through the logged execute, so each one leaves its "decided" or
    "refused" line naming the command, its id, the actor and the target."""

    def execute(self, command: Command) -> Outcome:
        return commanding.execute(self.engine, command)

    def execute_many(self, commands: Sequence[Command], carry_on: bool = True) -> commanding.Tally:
        """Many commands in as few transactions as their refusals allow; a refusal is noted
        and skipped (``carry_on``) or ends the run."""
        return commanding.execute_many(self.engine, commands, carry_on)


K = TypeVar("K", bound=Kringloop)


@overload
def bootstrap(settings: Settings | None = None, *, logs: Logs = "stderr") -> Kringloop: ...
@overload
def bootstrap(settings: Settings | None = None, *, logs: Logs = "stderr", kind: type[K]) -> K: ...
def bootstrap(
    settings: Settings | None = None,
    *,
    logs: Logs = "stderr",
    kind: type[Kringloop] = Kringloop,
) -> Kringloop:
    """Kringloop wired for one door: ``settings`` (default: from the environment), logging
    set up as ``logs`` says, and the stores, of ``kind`` (a door that keeps more beside
    them, as the API does, passes its own subclass)."""
    settings = settings or Settings()
    if logs == "stderr":
        configure_logging(settings.log_level)
    elif logs == "prefect":
        configure_logging("info", own_handler=False)
    return kind(settings)
