"""Broker workflow: form the consortium, bring the read models up, then notify each member's
contacts at once (the decision queued its notice in the outbox; delivering it now, rather
than at the next minute's delivery, sends them their mail or webhook as the flow ends)."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from domain.commands.base import Outcome
from domain.commands.catalogue import validate_command
from domain.commands.initiative import FormConsortium
from domain.errors import WrongStageError
from domain.values import Stage
from flows import runtime
from flows.projection_catch_up import catch_up


@runtime.retried("form consortium")
def form(initiative_id: str, actor: str, reason: str, effective: date | None) -> int:
    """Form the consortium; the initiative's version afterwards. A run started again after a
    lost one (a new flow run, so a new command id) finds the consortium formed already: that
    is this step done, and the members are still to be notified."""
    command = validate_command(
        FormConsortium,
        {
            "command_id": runtime.run_scoped("form"),
            "initiative_id": initiative_id,
            "actor": actor,
            "reason": reason,
            "effective": effective,
        },
    )
    try:
        outcome: Outcome = runtime.execute(command)
    except WrongStageError:
        initiative = runtime.engine().initiative(initiative_id)
        if initiative.stage != Stage.CONSORTIUM_FORMED.value:
            raise
        runtime.log.info("consortium formed already", initiative=initiative_id)
        return int(initiative.version)
    return outcome.version


@runtime.retried("notify members")
def notify(initiative_id: str) -> list[str]:
    """Deliver the outbox now; who the consortium's forming was sent to (delivering again
    sends nothing twice: each message is marked sent once the receiver took it)."""
    from adapters.notifications.deliver import deliver, sent_about

    engine, reads = runtime.engine(), runtime.read_store().engine
    done = deliver(engine, reads, runtime.settings(), engine.clock())
    runtime.log.info("members' contacts notified", initiative=initiative_id, **done.as_dict())
    return sent_about(reads, engine.initiative(initiative_id).id.hex, "consortium-formed")


@flow(name="form-consortium", retries=1, retry_delay_seconds=0)
def form_consortium(
    initiative_id: str, actor: str, reason: str, effective: date | None = None
) -> dict[str, Any]:
    """Form the consortium and notify its members' contacts."""
    runtime.bind_run()
    formed = form(initiative_id, actor, reason, effective)
    catch_up()
    return {"version": formed, "notified": notify(initiative_id)}
