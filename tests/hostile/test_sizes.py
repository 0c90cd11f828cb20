"""Absurd sizes. The rule: a request body over 1 MiB is refused with 413 before it is read,
an apply line over 1 MiB likewise; below that, each field has its own limit (a reason at
most 2000 characters, a text 4000, a name 200, 50 pieces of evidence of 500), refused
with that limit named. Whatever is accepted is stored intact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from typer.testing import CliRunner

from adapters.cli.app import app as cli
from tests.security.conftest import Api, csrf_of, event_count, log_in

MB = 1024 * 1024
TEN_MB_REASON = "x" * (10 * MB)
FULL_REASON = ("é漢🙂 " * 500)[:1999] + "!"  # the longest reason, characters of 1 to 4 bytes


def stall(api: Api, reason: str, **extra: object):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/api/commands/stall",
        json={"initiative_id": "timber-reuse", "reason": reason, **extra},
        headers=api.as_("broker-bas"),
    )


def test_a_10_mb_body_is_refused_with_413(api: Api) -> None:
    before = event_count(api.home)
    response = stall(api, TEN_MB_REASON)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "request body too large: at most 1048576 bytes"
    assert event_count(api.home) == before


def test_a_streamed_body_is_cut_off_at_the_limit(api: Api) -> None:
    """No Content-Length (chunked): refused as soon as the limit is passed."""

    def chunks() -> Iterator[bytes]:
        yield b'{"initiative_id": "timber-reuse", "reason": "'
        for _ in range(10):
            yield b"x" * MB
        yield b'"}'

    before = event_count(api.home)
    response = api.client.post(
        "/api/commands/stall",
        content=chunks(),
        headers={**api.as_("broker-bas"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert event_count(api.home) == before


def test_a_reason_over_its_limit_is_refused_naming_the_limit(api: Api) -> None:
    response = stall(api, "x" * 2001)
    assert response.status_code == 422
    assert "reason: String should have at most 2000 characters" in response.json()["detail"]
    evidence = stall(api, "r", evidence=["e"] * 51)
    assert "at most 50 items" in evidence.json()["detail"]


def test_the_largest_accepted_command_is_stored_intact(api: Api) -> None:
    evidence = [f"{n:03d}" + "ë" * 496 for n in range(50)]
    response = stall(api, FULL_REASON, evidence=evidence)
    assert response.status_code == 200, response.text
    detail = api.client.get("/api/initiatives/timber-reuse", headers=api.as_("audrey")).json()
    assert detail["decisions"][-1]["reason"] == FULL_REASON
    assert detail["decisions"][-1]["evidence"] == evidence


def test_the_cli_refuses_a_10_mb_reason_and_keeps_a_full_one_intact(api: Api) -> None:
    runner = CliRunner()
    stall_as_bas = ["--home", str(api.home), "initiative", "stall", "timber-reuse"]
    stall_as_bas += ["--actor", "broker-bas"]
    before = event_count(api.home)
    huge = runner.invoke(
        cli,
        [*stall_as_bas, "--reason", TEN_MB_REASON],
    )
    assert huge.exit_code == 1
    assert huge.stderr.strip() == (
        "refused: invalid stall: reason: String should have at most 2000 characters"
    )
    assert event_count(api.home) == before
    full = runner.invoke(
        cli,
        [*stall_as_bas, "--reason", FULL_REASON],
    )
    assert full.exit_code == 0, full.output
    detail = api.client.get("/api/initiatives/timber-reuse", headers=api.as_("audrey")).json()
    assert detail["decisions"][-1]["reason"] == FULL_REASON


def test_apply_refuses_a_huge_line_and_a_long_reason(api: Api, tmp_path: Path) -> None:
    def line(reason: str) -> str:
        return json.dumps(
            {
                "command": "stall",
                "initiative_id": "timber-reuse",
                "actor": "broker-bas",
                "reason": reason,
            }
        )

    before = event_count(api.home)
    for reason, words in (
        (TEN_MB_REASON, "line longer than 1048576 bytes"),
        ("x" * (MB // 2), "reason: String should have at most 2000 characters"),
    ):
        path = tmp_path / "commands.jsonl"
        path.write_text(line(reason) + "\n")
        result = CliRunner().invoke(cli, ["--home", str(api.home), "apply", str(path)])
        assert result.exit_code == 1
        assert result.stderr.startswith(f"refused: {path}:1: ")
        assert words in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert event_count(api.home) == before


def test_a_form_over_the_limit_is_refused_with_413(api: Api) -> None:
    log_in(api.client, api.tokens["broker-bas"])
    csrf = csrf_of(api.client.get("/initiatives/timber-reuse").text)
    before = event_count(api.home)
    response = api.client.post(
        "/initiatives/timber-reuse/commands/stall",
        data={"reason": "x" * (2 * MB), "csrf_token": csrf},
    )
    assert response.status_code == 413
    assert event_count(api.home) == before
