"""Correcting the record: a decision that names the decision it corrects, why, and what
changes. The corrected decision stays in the record as it was; every view shows the
corrected value, marked, with both decisions named."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from domain.commands.base import Reason, Reference
from domain.commands.initiative import InitiativeCommand
from domain.initiative import Initiative
from domain.values import Decision


class CorrectDecision(InitiativeCommand):
    """Correct a recorded decision's reason or evidence references (a typo, a wrong
    document number); the reason says why, the corrected decision is named by its id."""

    command: ClassVar[str] = "correct-decision"
    step: ClassVar[str] = "correct_decision"
    corrects: str = Field(
        min_length=1,
        max_length=200,
        description="the command id of the decision to correct (see `kringloop audit history`)",
    )
    corrected_reason: Reason | None = Field(
        default=None, description="the reason as it should have been recorded"
    )
    corrected_evidence: list[Reference] | None = Field(
        default=None,
        max_length=50,
        description="the evidence references as they should have been recorded (all of them)",
    )

    @model_validator(mode="after")
    def _changes_something(self) -> CorrectDecision:
        if self.corrected_reason is None and self.corrected_evidence is None:
            raise ValueError("give corrected_reason, corrected_evidence, or both")
        return self

    def changes(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.corrected_reason is not None:
            found["reason"] = self.corrected_reason
        if self.corrected_evidence is not None:
            found["evidence"] = list(self.corrected_evidence)
        return found

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.correct_decision(
            corrects=self.corrects, changes=self.changes(), decision=decision
        )
