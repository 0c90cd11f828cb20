"""Broker workflow: form the consortium, then notify each of its members (a notice per
member in the data folder's outbox, and a log line), and bring the read models up."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from prefect import flow

from domain.commands.base import Outcome
from domain.commands.catalogue import validate_command
from domain.commands.initiative import FormConsortium
from domain.engine import today_in_programme_tz
from domain.errors import NotFoundError, WrongStageError
from domain.values import Stage
from flows import runtime
from flows.projection_catch_up import catch_up
from projections.queries import initiative_detail


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
    """Write one notice per member; writing it again changes nothing (same file)."""
    detail = initiative_detail(runtime.read_store(), initiative_id, today_in_programme_tz())
    if detail is None:
        raise NotFoundError(f"initiative '{initiative_id}' is not in the read models")
    outbox = runtime.settings().home / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    notified = []
    for member, role in sorted(detail.initiative.members.items()):
        slug = re.sub(r"[^a-z0-9]+", "-", member.lower()).strip("-")
        notice = {
            "to": member,
            "role": role,
            "initiative": initiative_id,
            "subject": f"Consortium formed: {detail.initiative.title}",
            "formed_on": str(detail.initiative.consortium_formed_on),
        }
        (outbox / f"{initiative_id}--{slug}--consortium-formed.json").write_text(
            json.dumps(notice, indent=2)
        )
        runtime.log.info("member notified", initiative=initiative_id, member=member)
        notified.append(member)
    return notified


@flow(name="form-consortium", retries=1, retry_delay_seconds=0)
def form_consortium(
    initiative_id: str, actor: str, reason: str, effective: date | None = None
) -> dict[str, Any]:
    """Form the consortium and notify its members."""
    runtime.bind_run()
    formed = form(initiative_id, actor, reason, effective)
    catch_up()
    return {"version": formed, "notified": notify(initiative_id)}
