"""A broker decides only within the mandate the programme gave them, on the decision's
effective date: through the API, before the mandate starts and after it was revoked, the
broker is refused and nothing is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.accounts.users import Role, add_user
from tests.api.conftest import grant_roles
from tests.security.conftest import Api, event_count

GRANTED, REVOKED = "2022-03-01", "2022-09-01"


def mandate(api: Api, command: str, effective: str) -> None:
    answer = api.client.post(
        f"/api/commands/{command}",
        json={
            "programme_id": "mra-circular",
            "broker": "broker-cees",
            "streams": ["mattresses"],
            "reason": "mandate letter",
            "effective": effective,
        },
        headers=api.as_("board-secretariat"),
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture
def cees(api: Api) -> dict[str, str]:
    """broker-cees: a mandate on mattresses from 1 March 2022."""
    engine = api.client.app.state.backend.read_store.engine  # type: ignore[attr-defined]
    token = add_user(engine, "broker-cees", Role.BROKER)
    grant_roles(api.client.app.state.backend.engine, {"broker-cees": Role.BROKER})  # type: ignore[attr-defined]
    mandate(api, "grant-mandate", GRANTED)
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}  # Dutch by default


def propose(api: Api, headers: dict[str, str], effective: str, stream: str = "mattresses"):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/api/commands/propose-initiative",
        json={
            "programme_id": "mra-circular",
            "initiative_id": "foam-to-foam",
            "stream": stream,
            "title": "Foam to foam",
            "reason": "a new chain for mattress foam",
            "effective": effective,
        },
        headers=headers,
    )


def scan(api: Api, headers: dict[str, str], effective: str, **more: str):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/api/commands/start-expert-scan",
        json={
            "initiative_id": "foam-to-foam",
            "reason": "experts invited",
            "effective": effective,
            **more,
        },
        headers=headers,
    )


def assert_no_mandate(response, home: Path, before: int, on: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == "no_mandate"
    assert f"'broker-cees' holds no mandate for stream 'mattresses' on {on}" in body["detail"]
    assert event_count(home) == before


def test_a_broker_is_refused_before_the_mandate_starts(api: Api, cees: dict[str, str]) -> None:
    before = event_count(api.home)
    assert_no_mandate(propose(api, cees, "2022-02-28"), api.home, before, "2022-02-28")
    assert propose(api, cees, GRANTED).status_code == 200, "from the first day it holds"
    assert event_count(api.home) == before + 1


def proposed_then_revoked(api: Api, cees: dict[str, str]) -> int:
    """cees proposes on 2022-06-01, then the board revokes the mandate from REVOKED; returns
    the number of events recorded by then."""
    assert propose(api, cees, "2022-06-01").status_code == 200
    mandate(api, "revoke-mandate", REVOKED)
    return event_count(api.home)


def test_a_broker_is_refused_from_the_day_the_mandate_is_revoked(
    api: Api, cees: dict[str, str]
) -> None:
    before = proposed_then_revoked(api, cees)
    manager = {**api.as_("board-secretariat"), "Accept-Language": "en"}
    late = {"decided_by": "broker-cees"}  # paperwork of cees, entered by the manager today
    assert_no_mandate(scan(api, manager, REVOKED, **late), api.home, before, REVOKED)
    assert_no_mandate(scan(api, manager, "2024-01-01", **late), api.home, before, "2024-01-01")
    assert scan(api, manager, "2022-08-31", **late).status_code == 200, "the last day it held"
    assert event_count(api.home) == before + 1


def test_a_broker_whose_mandate_ended_cannot_backdate_a_decision_into_it(
    api: Api, cees: dict[str, str]
) -> None:
    before = proposed_then_revoked(api, cees)
    response = scan(api, cees, "2022-08-15")  # within the mandate, but recorded today
    assert response.status_code == 403
    assert response.json()["detail"].startswith("recorded today by 'broker-cees'")
    assert event_count(api.home) == before


def test_a_late_entry_names_who_decided_and_who_recorded_it(api: Api, cees: dict[str, str]) -> None:
    assert propose(api, cees, "2022-06-01").status_code == 200
    mandate(api, "revoke-mandate", REVOKED)
    manager = api.as_("board-secretariat")
    assert scan(api, manager, "2022-08-31", decided_by="broker-cees").status_code == 200
    history = api.client.get("/api/audit/initiatives/foam-to-foam/history", headers=manager).json()
    last = history[-1]
    assert (last["actor"], last["recorded_by"]) == ("broker-cees", "board-secretariat")
    assert last["authority"].startswith("mandate for mattresses in mra-circular from 2022-03-01")
    assert "granted by board-secretariat, effective 2022-03-01" in last["authority"]
    assert "recorded by board-secretariat under role manager" in last["authority"]


def test_a_mandate_on_one_stream_gives_none_on_another(api: Api, cees: dict[str, str]) -> None:
    before = event_count(api.home)
    response = propose(api, cees, "2022-06-01", stream="diapers")
    assert response.status_code == 403
    assert response.json()["code"] == "no_mandate"
    assert event_count(api.home) == before


def test_a_manager_needs_a_mandate_for_initiatives_too(api: Api) -> None:
    before = event_count(api.home)
    response = propose(api, api.as_("board-secretariat"), "2022-06-01")
    assert response.status_code == 403
    assert response.json()["code"] == "no_mandate"
    assert event_count(api.home) == before
