"""Broker workflow: close the market consultation with its lead entrepreneur and register
every precondition the lead stated, then bring the read models up to date. Each step's
command id comes from the flow run, so a retried run never records a step twice."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from domain.commands.base import Outcome
from domain.commands.catalogue import validate_command
from domain.commands.initiative import CloseMarketConsultation, RegisterPrecondition
from flows import runtime
from flows.projection_catch_up import catch_up


@runtime.retried("close consultation")
def close(
    initiative_id: str, lead: str, actor: str, reason: str, effective: date | None
) -> Outcome:
    command = validate_command(
        CloseMarketConsultation,
        {
            "command_id": runtime.run_scoped("close"),
            "initiative_id": initiative_id,
            "lead": lead,
            "actor": actor,
            "reason": reason,
            "effective": effective,
        },
    )
    return runtime.execute(command)


@runtime.retried("register precondition")
def register(
    initiative_id: str,
    precondition: dict[str, Any],
    actor: str,
    reason: str,
    effective: date | None,
) -> Outcome:
    command = validate_command(
        RegisterPrecondition,
        {
            **precondition,
            "command_id": runtime.run_scoped(f"precondition:{precondition.get('precondition')}"),
            "initiative_id": initiative_id,
            "actor": actor,
            "reason": precondition.get("reason", reason),
            "effective": effective,
        },
    )
    return runtime.execute(command)


@flow(name="close-consultation", retries=1, retry_delay_seconds=0)
def close_consultation(
    initiative_id: str,
    lead: str,
    actor: str,
    reason: str,
    preconditions: list[dict[str, Any]],
    effective: date | None = None,
) -> dict[str, Any]:
    """Close the consultation selecting ``lead``, then register its stated preconditions
    (each: precondition, kind, responsible, and optionally description, due, target_value,
    target_unit)."""
    runtime.bind_run()
    closed = close(initiative_id, lead, actor, reason, effective)
    registered = [
        register(initiative_id, p, actor, reason, effective).version for p in preconditions
    ]
    catch_up()
    return {
        "closed_at_version": closed.version,
        "registered": len(registered),
        "version": max([closed.version, *registered]),
    }
