"""Every command of the catalogue, with inputs generated from its JSON Schema and then
spoiled (hostile values, fields missing or unknown), through the three front doors: the
HTTP API, the CLI command and `kringloop apply`. Each answer is either the decision or a
clear refusal (problem+json; one line and exit 1, or a usage error and exit 2), never a
crash, and a refusal appends nothing."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from adapters.api.commands import NOT_FROM_CLIENT
from adapters.cli.app import app as cli
from domain.commands.base import Command
from domain.commands.catalogue import CATALOGUE
from tests.hostile.strategies import Json, as_cli_arguments, command_input, deciders
from tests.security.conftest import Api, event_count

EXAMPLES = 30  # per command group and front door: about 15 s for all nine
# Decisions each door must record of its EXAMPLES, so that a door refusing everything fails.
# 3 inputs in 8 are aimed at the record (strategies.SPOILS): over 20 seeds each door recorded
# 3 to 16 programme and 3 to 20 procurement decisions. An aimed initiative command seldom
# fits its initiative's stage (0 to 11 recorded, often 0 or 1): no floor for that group yet.
RECORDED_FLOOR = {"programme": 1, "initiative": 0, "procurement": 1}
GROUPS = {
    group: [cls for cls in CATALOGUE.values() if cls.cli_group == group]
    for group in ("programme", "initiative", "procurement")
}
USERS = {  # who sends them through the API: the roles that may
    "programme": ["board-secretariat"],
    "initiative": ["broker-anna", "broker-bas"],
    "procurement": ["board-secretariat"],
}
API_REFUSALS = {400, 403, 404, 409, 413, 422}
CLI_ENV = {"KRINGLOOP_ACTOR": None, "KRINGLOOP_HOME": None, "KRINGLOOP_DATABASE_URL": None}
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def assert_api_answer(response: httpx.Response, cls: type[Command], appended: int) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        outcome = response.json()
        assert outcome["command"] == cls.command
        assert appended == (0 if outcome["replayed"] else 1)
        return
    assert response.status_code in API_REFUSALS, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert isinstance(problem["detail"], str)
    assert problem["detail"].strip()
    assert "Traceback" not in problem["detail"]
    assert appended == 0, f"refused ({problem['detail']}) but {appended} events appended"


def assert_cli_answer(result: Result, appended: int, success: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    if result.exit_code == 0:
        assert success in result.stdout, result.stdout
        return
    assert appended == 0, f"refused but {appended} events appended: {output}"
    if result.exit_code == 1:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("refused: ")
        return
    assert result.exit_code == 2, output  # click's usage error: names the option
    assert "Error:" in result.stderr
    assert "No such command" not in result.stderr, "every catalogue command is in the CLI"


def assert_some_recorded(answers: Counter[str], group: str) -> None:
    assert answers["recorded"] >= RECORDED_FLOOR[group], f"the door recorded too few: {answers}"


@pytest.mark.parametrize("group", GROUPS)
def test_the_api_answers_every_generated_command_clearly(api: Api, group: str) -> None:
    answers: Counter[str] = Counter()

    @HYPOTHESIS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        cls = data.draw(st.sampled_from(GROUPS[group]))
        fields = data.draw(command_input(cls, frozenset(NOT_FROM_CLIENT)))
        user = data.draw(st.sampled_from(deciders(fields, USERS[group])))
        before = event_count(api.home)
        response = api.client.post(
            f"/api/commands/{cls.command}",
            content=json.dumps(fields),  # as sent: NaN, lone surrogates and all
            headers={**api.as_(user), "Content-Type": "application/json"},
        )
        event(f"status {response.status_code}")
        appended = event_count(api.home) - before
        assert_api_answer(response, cls, appended)
        answers[
            "recorded"
            if response.status_code == 200 and appended
            else f"status {response.status_code}"
        ] += 1

    check()
    assert_some_recorded(answers, group)


def with_actor(data: st.DataObject, group: str, fields: dict[str, Json]) -> dict[str, Json]:
    """Mostly a user who may decide (the group's role, the initiative's broker), so that
    decisions get past the authority check."""
    if "actor" not in fields or data.draw(st.booleans()):
        return {**fields, "actor": data.draw(st.sampled_from(deciders(fields, USERS[group])))}
    return fields


@pytest.mark.parametrize("group", GROUPS)
def test_the_cli_answers_every_generated_command_clearly(api: Api, group: str) -> None:
    runner = CliRunner()
    answers: Counter[str] = Counter()

    @HYPOTHESIS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        cls = data.draw(st.sampled_from(GROUPS[group]))
        fields = with_actor(data, group, data.draw(command_input(cls, frozenset())))
        before = event_count(api.home)
        result = runner.invoke(
            cli, ["--home", str(api.home), *as_cli_arguments(cls, fields)], env=CLI_ENV
        )
        appended = event_count(api.home) - before
        event(f"exit {result.exit_code}")
        assert_cli_answer(result, appended, "recorded: ")
        if result.exit_code == 0:
            assert appended == (0 if result.stdout.startswith("already") else 1)
        answers[
            "recorded" if result.exit_code == 0 and appended else f"exit {result.exit_code}"
        ] += 1

    check()
    assert_some_recorded(answers, group)


@pytest.mark.parametrize("group", GROUPS)
def test_apply_answers_every_generated_command_clearly(
    api: Api, group: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    lines = tmp_path / "commands.jsonl"
    answers: Counter[str] = Counter()

    @HYPOTHESIS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        cls = data.draw(st.sampled_from(GROUPS[group]))
        fields = with_actor(data, group, data.draw(command_input(cls, frozenset())))
        lines.write_text(json.dumps({"command": cls.command, **fields}) + "\n")
        before = event_count(api.home)
        result = runner.invoke(cli, ["--home", str(api.home), "apply", str(lines)], env=CLI_ENV)
        appended = event_count(api.home) - before
        event(f"exit {result.exit_code}")
        assert_cli_answer(result, appended, "applied ")
        if result.exit_code == 0:
            assert result.stdout.startswith(f"applied {appended} commands")
        else:
            assert f"{lines}:1: " in result.stderr
        answers[
            "recorded" if result.exit_code == 0 and appended else f"exit {result.exit_code}"
        ] += 1

    check()
    assert_some_recorded(answers, group)
