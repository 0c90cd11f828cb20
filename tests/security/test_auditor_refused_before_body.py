"""An auditor is refused a command for the role before the body is read: malformed JSON,
a wrong content type or an empty body get 403 like a well-formed one, not 400 or 422."""

from __future__ import annotations

import pytest

from domain.commands.catalogue import CATALOGUE
from tests.security.conftest import Api, event_count

BAD_BODIES = {
    "truncated JSON": (b'{"initiative_id": "timber-', "application/json"),
    "not JSON at all": (b"\xff\xfe not json", "application/json"),
    "a list": (b"[1, 2]", "application/json"),
    "empty": (b"", "application/json"),
    "form-encoded": (b"reason=x", "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_an_auditor_posting_a_malformed_body_to_any_command_gets_403(api: Api, kind: str) -> None:
    body, media_type = BAD_BODIES[kind]
    before = event_count(api.home)
    for command in CATALOGUE:
        response = api.post_body("audrey", command, body, media_type)
        assert response.status_code == 403, f"{command} ({kind}): {response.text}"
        assert response.json()["code"] == "forbidden"
    assert event_count(api.home) == before


def test_a_broker_still_gets_the_body_checked(api: Api) -> None:
    """The role check comes first; a role that may run the command still gets 422."""
    response = api.post_body("broker-bas", "stall", b'{"initiative_id": "timber-')
    assert response.status_code == 422, response.text


def test_a_stranger_posting_malformed_json_gets_401(api: Api) -> None:
    response = api.post_body(None, "stall", b"{")
    assert response.status_code == 401, response.text
