"""Exports and verification are for auditors and managers; an unknown initiative is 404
before any verification; a seal is written only when the chain heads moved since the last
one. One fuzzing run of `GET /api/audit/export` (any role, unknown ids too) had left 2,015
seal files in `audit/heads/`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import adapters.audit.verify as verify_module
from adapters.audit.verify import seals_folder
from adapters.cli.app import app as cli
from tests.security.conftest import Api, csrf_of, event_count, log_in

STALL = {"initiative_id": "timber-reuse", "reason": "waiting for the permit"}


def seals(home: Path) -> int:
    folder = seals_folder(home)
    return len(list(folder.glob("*.json"))) if folder.exists() else 0


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts whole-store verifications (the spy calls the real thing)."""
    calls: list[int] = []
    real = verify_module.verify_store

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(verify_module, "verify_store", counted)
    return calls


def test_a_broker_may_not_export_or_verify(api: Api, verifications: list[int]) -> None:
    for user in ("broker-bas", "broker-anna"):
        for response in (
            api.client.get("/api/audit/export", headers=api.as_(user)),
            api.client.get(
                "/api/audit/export", params={"initiative_id": "timber-reuse"}, headers=api.as_(user)
            ),
            api.client.post("/api/audit/verify", headers=api.as_(user)),
        ):
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "forbidden"
    assert verifications == []
    assert seals(api.home) == 0


def test_auditors_and_managers_export(api: Api) -> None:
    for user in ("audrey", "board-secretariat"):
        response = api.client.get(
            "/api/audit/export", params={"initiative_id": "timber-reuse"}, headers=api.as_(user)
        )
        assert response.status_code == 200, response.text
        assert api.client.post("/api/audit/verify", headers=api.as_(user)).status_code == 200


def test_an_unknown_initiative_is_404_before_any_verification(
    api: Api, verifications: list[int]
) -> None:
    for unknown in ("no-such-initiative", "x" * 300, "../etc", "timber-reuse "):
        response = api.client.get(
            "/api/audit/export", params={"initiative_id": unknown}, headers=api.as_("audrey")
        )
        assert response.status_code in (404, 422), f"{unknown!r}: {response.text}"
    assert verifications == [], "no verification ran"
    assert seals(api.home) == 0, "and no seal was written"


def test_a_seal_is_written_only_when_the_heads_moved(api: Api) -> None:
    auditor = api.as_("audrey")
    for _ in range(5):
        assert api.client.get("/api/audit/export", headers=auditor).status_code == 200
        assert api.client.post("/api/audit/verify", headers=auditor).status_code == 200
    assert seals(api.home) == 1, "the first export sealed the heads; nothing moved after"
    before = event_count(api.home)
    stalled = api.client.post("/api/commands/stall", json=STALL, headers=api.as_("broker-bas"))
    assert stalled.status_code == 200, stalled.text
    assert event_count(api.home) == before + 1
    for _ in range(3):
        assert api.client.get("/api/audit/export", headers=auditor).status_code == 200
    assert seals(api.home) == 2, "one new seal for the new head"


def test_the_cli_seals_only_moved_heads(api: Api) -> None:
    runner = CliRunner()
    for _ in range(3):
        result = runner.invoke(cli, ["--home", str(api.home), "audit", "verify"])
        assert result.exit_code == 0, result.output
    assert seals(api.home) == 1


def test_the_audit_page_refuses_a_broker_and_seals_once(api: Api) -> None:
    log_in(api.client, api.tokens["broker-bas"])
    csrf = csrf_of(api.client.get("/audit").text)
    assert api.client.get("/audit/export").status_code == 403
    verified = api.client.post("/audit/verify", data={"csrf_token": csrf}, follow_redirects=False)
    assert verified.status_code == 403
    assert seals(api.home) == 0
    log_in(api.client, api.tokens["audrey"])
    csrf = csrf_of(api.client.get("/audit").text)
    for _ in range(3):
        assert api.client.get("/audit/export").status_code == 200
        posted = api.client.post("/audit/verify", data={"csrf_token": csrf}, follow_redirects=False)
        assert posted.status_code == 303
    assert api.client.get("/audit/export?initiative_id=nope").status_code == 404
    assert seals(api.home) == 1
