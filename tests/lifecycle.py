"""Every reachable stage and status of an initiative, and for each lifecycle step a command
that the engine accepts there if the step is allowed: the oracle that the lifecycle table
(domain.initiative.LIFECYCLE), the engine and every door are checked against."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.applied import Applied, recorded_commands
from domain.commands.base import Command
from domain.commands.catalogue import command_for_step
from domain.errors import KringloopError
from domain.initiative import LIFECYCLE, Initiative
from domain.values import FALLBACK_STAGES, ScaleLevel, Stage, Status
from tests.conftest import TODAY, Run
from tests.scenario import BROKER, initiative_at, programme

UNREACHABLE = {(Stage.SCALED_UP, Status.STALLED), (Stage.SCALED_UP, Status.ABANDONED)}
"""A scaled-up initiative is neither stalled nor abandoned (the table's stall and abandon)."""
STATES = [
    (stage, status) for stage in Stage for status in Status if (stage, status) not in UNREACHABLE
]


def state_id(stage: Stage, status: Status) -> str:
    return f"{stage.value.replace('_', '-')}-{status.value}"


def bring(run: Run, stage: Stage, status: Status, initiative_id: str = "grass") -> None:
    """Take a new initiative along the normal path to ``stage``, then make it ``status``."""
    initiative_at(run, stage, initiative_id=initiative_id)
    if status == Status.STALLED:
        run(command_for_step("initiative", "stall").command, initiative_id=initiative_id)
    elif status == Status.ABANDONED:
        run(command_for_step("initiative", "abandon").command, initiative_id=initiative_id)


def _open(initiative: Initiative) -> str:
    names = [n for n, p in initiative.preconditions.items() if p["status"] == "open"]
    return names[0] if names else "none-open"


def _earlier(initiative: Initiative) -> str:
    earlier = [s for s in FALLBACK_STAGES if s.rank < Stage(initiative.stage).rank]
    return (earlier[-1] if earlier else Stage.EXPERT_SCAN).value


def _lead(initiative: Initiative) -> str:
    willing = [c for c, r in initiative.responses.items() if r["willing_to_lead"]]
    return willing[0] if willing else "Nobody BV"


def _shares(initiative: Initiative) -> list[dict[str, Any]]:
    parties = list(initiative.members) or ["Outsider BV"]
    share = 100 / len(parties)
    return [{"party": p, "cost_share": share, "benefit_share": share} for p in parties]


def _level(initiative: Initiative) -> str:
    if initiative.scale_level == ScaleLevel.REGIONAL:
        return ScaleLevel.NATIONAL.value
    return ScaleLevel.REGIONAL.value


FIELDS: dict[str, Callable[[Initiative], dict[str, Any]]] = {
    "record_option": lambda i: {
        "option": "late-find",
        "description": "a further option",
        "circularity_level": "R3",
        "expert": "TNO",
    },
    "complete_expert_scan": lambda i: {"chosen_options": sorted(i.options)[:1] or ["none"]},
    "record_response": lambda i: {
        "company": "Another BV",
        "willing_to_invest": True,
        "willing_to_lead": False,
    },
    "close_consultation": lambda i: {"lead": _lead(i)},
    "register_precondition": lambda i: {
        "precondition": "new-permit",
        "kind": "permit",
        "responsible": "Gemeente",
    },
    "fulfil_precondition": lambda i: {"precondition": _open(i), "evidence": ["proof.pdf"]},
    "waive_precondition": lambda i: {"precondition": _open(i)},
    "fail_precondition": lambda i: {"precondition": _open(i)},
    "admit_member": lambda i: {"organisation": "Another BV", "role": "financier"},
    "agree_arrangement": lambda i: {"arrangement_type": "gain share", "shares": _shares(i)},
    "withdraw_board": lambda i: {"handover_note": "the consortium carries on"},
    "assess_scale_up": lambda i: {"ready": True, "criteria": "volume met"},
    "start_scale_up": lambda i: {"level": _level(i)},
    "report_impact": lambda i: {"period": 2016, "jobs_fte": 2},
    "escalate": lambda i: {"concern": "stalled", "subject": "the permit"},
    "fall_back": lambda i: {"to_stage": _earlier(i)},
    "correct_decision": lambda i: {"corrects": PROPOSAL, "corrected_reason": "typo"},
}
"""Fields for each step that the engine accepts whenever the step is allowed."""


def command_for(step: str, initiative: Initiative) -> Command:
    cls = command_for_step("initiative", step)
    fields = FIELDS.get(step, lambda i: {})(initiative)
    return cls.model_validate(
        {
            "initiative_id": initiative.initiative_id,
            "actor": BROKER,
            "reason": "decided in the broker team meeting",
            **fields,
        }
    )


PROPOSAL = "the-proposal"
"""A decision every initiative here holds, as far as ``attempt`` is concerned: the command
table answers for it (a correction names the decision it corrects; the engine looks it up
in the store, ``attempt`` decides on a copy without one)."""


def _recorded(originator_id: UUID, command_id: str) -> Applied | None:
    return Applied(1, "") if command_id == PROPOSAL else None


def attempt(step: str, trial: Initiative) -> KringloopError | None:
    """Decide the step on the initiative (give it a copy): None if accepted, else why not."""
    command = command_for(step, trial)
    try:
        with recorded_commands(_recorded):
            command.decide(trial, command.decision(max(TODAY, trial.last_effective)))
    except KringloopError as error:
        return error
    return None


def accepted_commands(initiative: Initiative) -> set[str]:
    """The commands the initiative accepts now, each tried on its own copy."""
    return {
        command_for_step("initiative", step).command
        for step in LIFECYCLE
        if attempt(step, copy.deepcopy(initiative)) is None
    }


# -- late paperwork and corrections: the steps the tests share ------------------------------

CLOSED_ON = "2016-03-01"  # consultation_closed: the day the stage moves on (it opened 2016-01-01)


def consultation_closed(run: Run) -> None:
    """'grass' in precondition fulfilment; its market consultation ran from 2016-01-01."""
    programme(run)
    initiative_at(run, Stage.MARKET_CONSULTATION)
    run("close-consultation", initiative_id="grass", lead="GrassFibre", effective=CLOSED_ON)


def late_response(run: Run, effective: str, command_id: str, company: str = "Late BV") -> None:
    """A consultation response that arrives after the consultation closed."""
    run(
        "record-response",
        initiative_id="grass",
        company=company,
        willing_to_invest=True,
        willing_to_lead=False,
        effective=effective,
        command_id=command_id,
    )


def permit_fulfilled(run: Run, evidence: str, command_id: str) -> None:
    """A permit precondition registered and fulfilled on the evidence given."""
    run(
        "register-precondition",
        initiative_id="grass",
        precondition="permit",
        kind="permit",
        responsible="Gemeente",
    )
    run(
        "fulfil-precondition",
        initiative_id="grass",
        precondition="permit",
        evidence=[evidence],
        reason="permit granted",
        command_id=command_id,
    )


def correct(run: Run, corrects: str, command_id: str = "fix", **change: Any) -> None:
    """A correction of the decision ``corrects``: ``corrected_reason`` or ``_evidence``."""
    run(
        "correct-decision",
        initiative_id="grass",
        corrects=corrects,
        reason="it was recorded wrongly",
        command_id=command_id,
        **change,
    )
