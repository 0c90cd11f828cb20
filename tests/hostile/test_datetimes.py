"""Dates are business days in the programme's time zone (Europe/Amsterdam), the same at
every door: YYYY-MM-DD as given; a time with an offset is that moment's day in Amsterdam;
a time without an offset, a bare number or another format is refused, never guessed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli.app import app as cli
from tests.security.conftest import Api, event_count

CASES = {
    "a date": ("2018-08-01", "2018-08-01"),
    "UTC late in the evening": ("2018-07-31T23:30:00Z", "2018-08-01"),
    "an offset east of Amsterdam": ("2018-08-01T01:00:00+05:00", "2018-07-31"),
    "an offset west of Amsterdam": ("2018-07-31T20:00:00-04:00", "2018-08-01"),
    "winter time": ("2018-12-31T23:30:00+00:00", "2019-01-01"),
    "a time without a zone": ("2018-08-01T12:00:00", "has a time but no time zone"),
    "midnight without a zone": ("2018-08-01T00:00:00", "has a time but no time zone"),
    "a unix timestamp": ("1533081600", "is not a date (YYYY-MM-DD)"),
    "day first": ("01-08-2018", "is not a date (YYYY-MM-DD)"),
    "no such day": ("2018-02-30", "day value is outside expected range"),
}
DOORS = ["api", "cli", "apply"]


def stall(door: str, api: Api, effective: str, tmp_path: Path) -> tuple[bool, str]:
    """Stall timber-reuse through one door; (recorded, the refusal if not)."""
    fields = {"initiative_id": "timber-reuse", "reason": "waiting", "effective": effective}
    if door == "api":
        answer = api.client.post("/api/commands/stall", json=fields, headers=api.as_("broker-bas"))
        return answer.status_code == 200, answer.json().get("detail", "")
    if door == "cli":
        arguments = ["initiative", "stall", "timber-reuse", "--reason", "waiting"]
        arguments += ["--effective", effective, "--actor", "broker-bas"]
    else:
        line = {"command": "stall", "actor": "broker-bas", **fields}
        (tmp_path / "line.jsonl").write_text(json.dumps(line) + "\n")
        arguments = ["apply", str(tmp_path / "line.jsonl")]
    result = CliRunner().invoke(cli, ["--home", str(api.home), *arguments])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code == 0, result.stderr


def resume(api: Api, effective: str) -> None:
    answer = api.client.post(
        "/api/commands/resume",
        json={"initiative_id": "timber-reuse", "reason": "go on", "effective": effective},
        headers=api.as_("broker-bas"),
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("case", list(CASES))
def test_every_door_reads_a_date_the_same_way(api: Api, tmp_path: Path, case: str) -> None:
    given, expected = CASES[case]
    for door in DOORS:
        before = event_count(api.home)
        recorded, refusal = stall(door, api, given, tmp_path)
        if expected[:4].isdigit():
            assert recorded, f"{door}: {refusal}"
            detail = api.client.get("/api/initiatives/timber-reuse", headers=api.as_("audrey"))
            assert detail.json()["decisions"][-1]["effective"] == expected, door
            resume(api, expected)  # so that the next door can stall it again
        else:
            assert not recorded, door
            assert "effective: " in refusal, door
            assert expected in refusal, door
            assert event_count(api.home) == before, door


def test_query_dates_are_read_as_command_dates(api: Api) -> None:
    audrey = api.as_("audrey")
    by_date = api.client.get("/api/decisions", params={"since": "2018-01-01"}, headers=audrey)
    by_time = api.client.get(
        "/api/decisions", params={"since": "2017-12-31T23:30:00Z"}, headers=audrey
    )
    assert by_time.json() == by_date.json()
    naive = api.client.get("/api/decisions", params={"since": "2018-01-01T00:00"}, headers=audrey)
    assert naive.status_code == 422
    assert "has a time but no time zone" in naive.json()["detail"]

    runner = CliRunner()
    home = ["--home", str(api.home)]
    cli_by_time = runner.invoke(cli, [*home, "decisions", "--since", "2017-12-31T23:30:00Z"])
    cli_by_date = runner.invoke(cli, [*home, "decisions", "--since", "2018-01-01"])
    assert cli_by_time.exit_code == 0
    assert cli_by_time.stdout == cli_by_date.stdout
    cli_naive = runner.invoke(cli, [*home, "decisions", "--since", "2018-01-01T00:00"])
    assert cli_naive.exit_code == 1
    assert "has a time but no time zone" in cli_naive.stderr
