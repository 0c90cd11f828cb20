"""What can be done next on an initiative, as every door offers it: the lifecycle table's
answer (domain.initiative.LIFECYCLE) with each step's command, allowed now or why not.

A step's command is named by the naming rule (the kebab form of the step's method:
``fail_precondition`` -> ``fail-precondition``; tests/unit/test_command_names.py checks it
for every step of the table against the catalogue), so offering the steps does not build
the catalogue: `initiative show` starts without importing every command."""

from __future__ import annotations

from domain.initiative import Initiative
from domain.lifecycle import OfferedStep


def next_steps(initiative: Initiative) -> list[OfferedStep]:
    """Every step of the lifecycle, in table order, each allowed now or with why not."""
    return [
        OfferedStep(
            command=s.step.replace("_", "-"),
            step=s.step,
            action=s.action,
            allowed=s.allowed,
            why_not=s.why_not,
            in_stage=s.in_stage,
        ).refused_by(s.reason)
        for s in initiative.allowed_steps()
    ]
