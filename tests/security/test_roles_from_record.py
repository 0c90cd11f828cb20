"""Authority is part of the record: the API and the pages take a user's role from the roles
granted and revoked by recorded decisions, not from the users table, and `audit history`
alone says who granted the authority behind every decision, and when."""

from __future__ import annotations

import json

from tests.api.conftest import Api, users_add
from tests.e2e.test_cli import kringloop
from tests.security.conftest import event_count


def revoke_role(api: Api, identity: str, role: str) -> None:
    answer = api.client.post(
        "/api/commands/revoke-role",
        json={"identity": identity, "role": role, "reason": "engagement ended"},
        headers=api.as_("board-secretariat"),
    )
    assert answer.status_code == 200, answer.text


def test_a_token_whose_role_was_revoked_in_the_record_opens_nothing(api: Api) -> None:
    assert api.client.get("/api/pipeline", headers=api.as_("audrey")).status_code == 200
    revoke_role(api, "audrey", "auditor")
    answer = api.client.get("/api/pipeline", headers=api.as_("audrey"))
    assert answer.status_code == 403
    assert "'audrey' holds no role today" in answer.json()["detail"]


def test_the_role_comes_from_the_record_not_from_the_token(api: Api) -> None:
    before = event_count(api.home)
    granted = api.client.post(
        "/api/commands/grant-role",
        json={"identity": "audrey", "role": "manager", "reason": "joins the programme office"},
        headers=api.as_("board-secretariat"),
    )
    assert granted.status_code == 200, granted.text
    revoke_role(api, "audrey", "auditor")
    # the token was issued to an auditor; the record now makes audrey a manager
    answer = api.client.post(
        "/api/commands/register-stream",
        json={
            "programme_id": "mra-circular",
            "stream": "furniture",
            "name": "Office furniture",
            "reason": "new stream",
        },
        headers=api.as_("audrey"),
    )
    assert answer.status_code == 200, answer.text
    assert event_count(api.home) == before + 3


def test_only_a_manager_grants_the_role_users_add_asks_for(api: Api) -> None:
    before = event_count(api.home)
    refused = kringloop(
        api.home,
        *users_add("eve", "manager", actor="broker-anna"),
        ok=False,
    )
    assert refused.returncode == 1
    assert "'broker-anna' holds no role manager" in refused.stderr
    assert event_count(api.home) == before, "nothing recorded"
    listed = json.loads(kringloop(api.home, "users", "list", "--json").stdout)
    assert "eve" not in {u["name"] for u in listed}, "no credential without the role"


def test_users_add_records_the_role_as_the_managers_decision(api: Api) -> None:
    added = json.loads(
        kringloop(
            api.home,
            *users_add("frank"),
            "--json",
        ).stdout
    )
    grants = json.loads(kringloop(api.home, "decisions", "--subject", "frank", "--json").stdout)
    assert [(g["step"], g["actor"], g["command_id"]) for g in grants] == [
        ("role granted", "board-secretariat", added["role_decision"])
    ]


def test_audit_history_names_who_granted_the_authority_behind_each_decision(api: Api) -> None:
    lines = json.loads(kringloop(api.home, "audit", "history", "diaper-recycling", "--json").stdout)
    assert lines
    for line in lines:
        assert line["authority"].startswith("mandate for diapers in mra-circular from "), line
        assert "granted by board-secretariat, effective " in line["authority"], line
        assert line["recorded_by"] == line["actor"]
