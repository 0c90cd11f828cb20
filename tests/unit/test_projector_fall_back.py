"""The projector applies what a fall-back's event says it dropped; an event recorded before
fall-backs named their consequence (``dropped`` upcast to None) is derived as it was then."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from projections.projector import HANDLERS, StoreInconsistentError
from projections.store import LIVE_TABLES
from projections.working_set import Row, WorkingSet

fell_back = HANDLERS["Initiative.FellBack"]
ON = date(2024, 5, 1)


@pytest.fixture
def ws() -> WorkingSet:
    """An initiative at precondition fulfilment: volume and logistics open, offtake failed,
    quality fulfilled."""
    ws = WorkingSet(LIVE_TABLES)
    ws.put("initiatives", {"initiative_id": "grass", "aggregate_id": "a1", "programme_id": "mra"})
    for name, status in [
        ("volume", "open"),
        ("offtake", "failed"),
        ("logistics", "open"),
        ("quality", "fulfilled"),
    ]:
        ws.put("preconditions", {"initiative_id": "grass", "precondition": name, "status": status})
    return ws


def row(ws: WorkingSet) -> Row:
    found = ws.get("initiatives", "grass")
    assert found is not None
    return found


def fall_back_event(to_stage: str, **dropped: Any) -> SimpleNamespace:
    return SimpleNamespace(to_stage=to_stage, decision=SimpleNamespace(effective=ON), **dropped)


def statuses(ws: WorkingSet) -> dict[str, str]:
    return {p["precondition"]: p["status"] for p in ws.preconditions_by_initiative["grass"]}


def test_a_fall_back_drops_exactly_the_preconditions_its_event_names(ws: WorkingSet) -> None:
    fell_back(ws, fall_back_event("market_consultation", dropped=["volume"]), row(ws))

    assert statuses(ws) == {
        "volume": "dropped",
        "offtake": "failed",
        "logistics": "open",
        "quality": "fulfilled",
    }
    assert (row(ws)["open_preconditions"], row(ws)["failed_preconditions"]) == (1, 1)
    assert row(ws)["stage"] == "market_consultation"


def test_an_old_fall_back_drops_the_open_and_failed_preconditions(ws: WorkingSet) -> None:
    fell_back(ws, fall_back_event("expert_scan", dropped=None), row(ws))

    assert statuses(ws) == {
        "volume": "dropped",
        "offtake": "dropped",
        "logistics": "dropped",
        "quality": "fulfilled",
    }
    assert (row(ws)["open_preconditions"], row(ws)["failed_preconditions"]) == (0, 0)


def test_an_old_fall_back_to_precondition_fulfilment_drops_nothing(ws: WorkingSet) -> None:
    before = statuses(ws)

    fell_back(ws, fall_back_event("precondition_fulfilment", dropped=None), row(ws))

    assert statuses(ws) == before
    assert row(ws)["stage"] == "precondition_fulfilment"


def test_a_fall_back_naming_an_unregistered_precondition_stops_the_projection(
    ws: WorkingSet,
) -> None:
    with pytest.raises(StoreInconsistentError, match="never registered"):
        fell_back(ws, fall_back_event("market_consultation", dropped=["storage"]), row(ws))
