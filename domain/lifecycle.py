"""The shape of a lifecycle table: each step, where it may be taken, and the rule it checks.

The initiative's own table is in :mod:`domain.initiative`, at the top, beside the events it
governs; this module holds only what a table is made of, so that the doors (forms, CLI, API)
and the tests read the same answer to "what can be done next, and why not the rest".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field, PrivateAttr

from domain.errors import KringloopError
from domain.values import Stage, Status

ACTIVE = frozenset({Status.ACTIVE})
NOT_ABANDONED = frozenset({Status.ACTIVE, Status.STALLED})
STALLED = frozenset({Status.STALLED})
ABANDONED = frozenset({Status.ABANDONED})
ANY_STATUS = frozenset(Status)


@dataclass(frozen=True)
class Step:
    """One step of a lifecycle: the stages and statuses it is taken in, and its rule."""

    action: str
    """The step in the words of a refusal: "cannot {action}: ..."; a message id (``N_``), so
    a door shows it in its reader's language."""
    records: str
    """The event it records (its name in the store): the step's past tense."""
    at: tuple[Stage, ...]
    """The stages it may be taken in."""
    when: frozenset[Status] = ACTIVE
    """The statuses it may be taken in."""
    guard: str = ""
    """The rule checked beyond stage and status, by name (a method of the aggregate that
    returns the refusal, or None); rules that depend on the step's arguments are checked by
    the step itself."""
    moves_to: str = ""
    """Where it moves the initiative, if it changes the stage path ("" when it does not)."""
    late: bool = False
    """It may be entered late: with an effective date before the latest decision, at the
    place in the timeline where it belongs (it does not change the stage path)."""
    at_words: str = ""
    """Why the stage is wrong, where "not {the stages}" would say it badly (a message id)."""

    @property
    def changes_stage(self) -> bool:
        return bool(self.moves_to)


@dataclass(frozen=True)
class NextStep:
    """A step as offered on a door: allowed now, or why not."""

    step: str
    action: str
    allowed: bool
    why_not: str = ""  # in English; ``reason`` is the refusal itself, for other languages
    in_stage: bool = True  # a step of the stage it stands at (not one open at every stage)
    refusal: type[KringloopError] | None = field(default=None, compare=False)
    reason: KringloopError | None = field(default=None, compare=False)


class OfferedStep(BaseModel):
    """A step of the lifecycle as a door offers it (forms, CLI, API): with its command."""

    command: str = Field(description="the command that takes it: CLI verb and API path")
    step: str = Field(description="the step in the lifecycle table (domain.initiative)")
    action: str = Field(description="the step in words")
    allowed: bool = Field(description="the engine accepts it now (with suitable fields)")
    why_not: str = Field(default="", description="why not, when it is not allowed now")
    in_stage: bool = Field(
        default=True,
        description="a step of the stage the initiative stands at (not one open at every stage)",
    )
    _refusal: KringloopError | None = PrivateAttr(default=None)

    @property
    def refusal(self) -> KringloopError | None:
        """Why not, as the refusal itself (its message id and parameters): what a door shows
        in its reader's language (``adapters.i18n.translator(lang).message(step.refusal)``);
        ``why_not`` is its English text."""
        return self._refusal

    def refused_by(self, refusal: KringloopError | None) -> OfferedStep:
        """This step with the refusal that says why not (None: allowed)."""
        self._refusal = refusal
        return self
