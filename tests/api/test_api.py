"""The HTTP API as each role uses it: allowed, refused, conflicting and invalid requests."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from domain.commands.catalogue import CATALOGUE, FORMER_NAMES
from domain.errors import ConcurrencyConflictError
from tests.api.conftest import Api

FULFIL = {
    "initiative_id": "timber-reuse",
    "precondition": "demolition-volume",
    "reason": "demolition contracts signed",
    "evidence": ["contracts-2018.pdf"],
    "effective": "2018-08-01",
}
HAARLEM_JOINS = {  # a programme command: the programme's managers decide it
    "programme_id": "mra-circular",
    "organisation": "Haarlem",
    "organisation_kind": "municipality",
    "reason": "joins the programme",
}
READS = [
    "/api/initiatives",
    "/api/initiatives/timber-reuse",
    "/api/pipeline",
    "/api/preconditions",
    "/api/decisions",
    "/api/programmes/mra-circular/progress",
    "/api/programmes/mra-circular/roadmap",
    "/api/programmes/mra-circular/procurement/categories",
    "/api/programmes/mra-circular/procurement/communities",
    "/api/programmes/mra-circular/procurement/figures",
    "/api/audit/initiatives/timber-reuse/history",
    "/api/audit/initiatives/timber-reuse/as-of?at=2017-06-01",
]


def assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert body["code"] == code
    return body


def test_health_answers_without_a_token(api: Api) -> None:
    assert api.client.get("/api/health").json() == {"status": "ok"}


def test_every_read_needs_a_token(api: Api) -> None:
    for path in READS:
        assert_problem(api.client.get(path), 401, "unauthenticated")


def test_an_auditor_reads_everything(api: Api) -> None:
    for path in READS:
        assert api.client.get(path, headers=api.as_("audrey")).status_code == 200, path


def test_an_unknown_token_is_refused_and_logged_without_the_token(api: Api) -> None:
    with capture_logs() as logs:
        response = api.client.get("/api/pipeline", headers={"Authorization": "Bearer nope-123"})
    assert_problem(response, 401, "unauthenticated")
    assert any(entry["event"] == "access refused" for entry in logs)
    assert "nope-123" not in repr(logs)


def test_a_broker_advances_an_initiative_as_themselves(api: Api) -> None:
    response = api.client.post(
        "/api/commands/fulfil-precondition", json=FULFIL, headers=api.as_("broker-bas")
    )
    assert response.status_code == 200, response.text
    assert response.json()["replayed"] is False
    detail = api.client.get("/api/initiatives/timber-reuse", headers=api.as_("audrey")).json()
    assert detail["initiative"]["open_preconditions"] == 0  # the read models caught up
    assert detail["decisions"][-1]["actor"] == "broker-bas"


def test_a_client_cannot_choose_the_actor(api: Api) -> None:
    response = api.client.post(
        "/api/commands/fulfil-precondition",
        json={**FULFIL, "actor": "broker-anna"},
        headers=api.as_("broker-bas"),
    )
    assert_problem(response, 422, "invalid")


def test_a_broker_outside_their_mandate_is_refused_by_the_engine(api: Api) -> None:
    response = api.client.post(
        "/api/commands/fulfil-precondition", json=FULFIL, headers=api.as_("broker-anna")
    )
    body = assert_problem(response, 403, "no_mandate")
    assert "broker-anna" in body["detail"]


def test_a_broker_cannot_run_programme_commands(api: Api) -> None:
    with capture_logs() as logs:
        response = api.client.post(
            "/api/commands/add-member",
            json=HAARLEM_JOINS,
            headers=api.as_("broker-bas"),
        )
    assert_problem(response, 403, "forbidden")
    assert any(e.get("user") == "broker-bas" and e.get("status") == 403 for e in logs)
    assert api.tokens["broker-bas"] not in repr(logs)


def test_a_manager_runs_the_programme(api: Api) -> None:
    response = api.client.post(
        "/api/commands/add-member",
        json=HAARLEM_JOINS,
        headers=api.as_("board-secretariat"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "programme"


def test_an_auditor_never_writes(api: Api) -> None:
    for command in CATALOGUE:
        response = api.client.post(f"/api/commands/{command}", json={}, headers=api.as_("audrey"))
        assert_problem(response, 403, "forbidden")


def test_a_domain_refusal_carries_the_cli_message(api: Api) -> None:
    response = api.client.post(
        "/api/commands/form-consortium",
        json={"initiative_id": "timber-reuse", "reason": "all set"},
        headers={**api.as_("broker-bas"), "Accept-Language": "en"},  # Dutch by default
    )
    body = assert_problem(response, 409, "preconditions_open")
    assert body["detail"] == (
        "cannot form consortium: 1 precondition still open: guaranteed volume (demolition-volume)"
    )


def test_a_concurrency_conflict_is_409(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def conflict(engine, command):  # type: ignore[no-untyped-def]
        raise ConcurrencyConflictError("timber-reuse was changed by someone else: try again")

    monkeypatch.setattr("adapters.api.commands.execute", conflict)
    response = api.client.post(
        "/api/commands/fulfil-precondition", json=FULFIL, headers=api.as_("broker-bas")
    )
    body = assert_problem(response, 409, "conflict")
    assert "someone else" in body["detail"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**FULFIL, "reason": ""}, "reason"),
        ({**FULFIL, "initiative_id": "Not A Slug"}, "initiative_id"),
        ({**FULFIL, "surprise": 1}, "surprise"),
        ({k: v for k, v in FULFIL.items() if k != "precondition"}, "precondition"),
    ],
)
def test_invalid_input_is_422(api: Api, body: dict[str, object], words: str) -> None:
    response = api.client.post(
        "/api/commands/fulfil-precondition", json=body, headers=api.as_("broker-bas")
    )
    assert words in assert_problem(response, 422, "invalid")["detail"]


def test_a_model_rule_is_422_with_the_catalogue_message(api: Api) -> None:
    response = api.client.post(
        "/api/commands/agree-arrangement",
        json={
            "initiative_id": "timber-reuse",
            "reason": "term sheet",
            "arrangement_type": "cost_sharing",
            "shares": {"Timber Loop": -5},
        },
        headers=api.as_("broker-bas"),
    )
    assert response.status_code == 422, response.text


def test_the_idempotency_key_is_the_command_id(api: Api) -> None:
    headers = {**api.as_("broker-bas"), "Idempotency-Key": "fulfil-demolition-1"}
    first = api.client.post("/api/commands/fulfil-precondition", json=FULFIL, headers=headers)
    again = api.client.post("/api/commands/fulfil-precondition", json=FULFIL, headers=headers)
    assert first.json()["command_id"] == again.json()["command_id"] == "fulfil-demolition-1"
    assert again.json()["replayed"] is True
    decisions = api.client.get(
        "/api/decisions?subject=timber-reuse&step=precondition fulfilled", headers=api.as_("audrey")
    ).json()
    assert len(decisions) == 1


def test_an_unknown_initiative_is_404(api: Api) -> None:
    response = api.client.get("/api/initiatives/no-such-thing", headers=api.as_("audrey"))
    assert_problem(response, 404, "not_found")


def test_an_auditor_sees_the_record_as_it_stood(api: Api) -> None:
    before = api.client.get(
        "/api/audit/initiatives/timber-reuse/as-of?at=2016-12-31", headers=api.as_("audrey")
    )
    assert before.json() is None
    then = api.client.get(
        "/api/audit/initiatives/timber-reuse/as-of?at=2017-06-01", headers=api.as_("audrey")
    ).json()
    assert then["stage"] == "precondition_fulfilment"
    assert then["lead"] == "ReWood BV"


def test_an_auditor_verifies_and_exports(api: Api) -> None:
    verified = api.client.post("/api/audit/verify", headers=api.as_("audrey")).json()
    assert verified["ok"] is True
    export = api.client.get(
        "/api/audit/export?initiative_id=timber-reuse", headers=api.as_("audrey")
    )
    assert export.status_code == 200
    lines = export.content.decode().splitlines()
    assert '"kringloop-audit-export/1"' in lines[0]
    assert len(lines) == 2 + 13  # header, thirteen events, signature


def test_the_openapi_schema_lists_a_post_per_command(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {f"/api/commands/{name}" for name in CATALOGUE} <= paths.keys()
    assert "actor" not in str(
        api.client.get("/openapi.json").json()["components"]["schemas"]["FulfilPreconditionRequest"]
    )


def test_a_former_command_path_still_decides_and_is_marked_deprecated(api: Api) -> None:
    stalled = api.client.post(
        "/api/commands/stall-initiative",
        json={"initiative_id": "timber-reuse", "reason": "waiting for the demolition permits"},
        headers=api.as_("broker-bas"),
    )
    assert stalled.status_code == 200, stalled.text
    assert stalled.json()["command"] == "stall"
    refused = api.client.post("/api/commands/resume-initiative", json={}, headers=api.as_("audrey"))
    assert_problem(refused, 403, "forbidden")
    paths = api.client.get("/openapi.json").json()["paths"]
    assert paths["/api/commands/stall-initiative"]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/api/commands/stall"]["post"]
    assert {f"/api/commands/{name}" for name in FORMER_NAMES} <= paths.keys()
