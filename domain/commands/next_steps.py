"""What can be done next on an initiative, as every door offers it: the lifecycle table's
answer (domain.initiative.LIFECYCLE) with each step's command, allowed now or why not."""

from __future__ import annotations

from domain.commands.catalogue import command_for_step
from domain.initiative import Initiative
from domain.lifecycle import OfferedStep


def next_steps(initiative: Initiative) -> list[OfferedStep]:
    """Every step of the lifecycle, in table order, each allowed now or with why not."""
    return [
        OfferedStep(
            command=command_for_step("initiative", s.step).command,
            step=s.step,
            action=s.action,
            allowed=s.allowed,
            why_not=s.why_not,
            in_stage=s.in_stage,
        ).refused_by(s.reason)
        for s in initiative.allowed_steps()
    ]
