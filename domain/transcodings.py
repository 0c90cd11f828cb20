"""How values inside events and snapshots become JSON and come back."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.values import Decision


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DecisionAsDict(Transcoding):
    type = Decision
    name = "decision"

    def encode(self, obj: Decision) -> dict[str, Any]:
        encoded = {
            "command_id": obj.command_id,
            "actor": obj.actor,
            "reason": obj.reason,
            "evidence": obj.evidence,
            "effective": obj.effective,
            "digest": obj.digest,
        }
        # only when set: decisions recorded before these existed keep their stored form
        if obj.recorded_by:
            encoded["recorded_by"] = obj.recorded_by
        if obj.authority:
            encoded["authority"] = obj.authority
        return encoded

    def decode(self, data: dict[str, Any]) -> Decision:
        return Decision(**data)
