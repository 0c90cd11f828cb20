"""One name per action: a command's name is its aggregate method's, in the catalogue, the JSON
lines, the CLI and the API alike; a name it had before still works and still replays what
was recorded under it; and each command calls its method by keyword."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import create_autospec

import pytest

from domain.commands.base import Command
from domain.commands.catalogue import (
    CATALOGUE,
    FORMER_NAMES,
    command_class,
    command_for_step,
    parse_command,
)
from domain.engine import AGGREGATES, Engine
from domain.errors import InvalidCommandError
from domain.personal import Personal, sealing
from tests.storage.test_evolution import load_fixture

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# One line per command as recorded before the rename (at commit ee4fdf7, under the names
# of that time), with the digest the code of that time computed for it.
RECORDED = [json.loads(line) for line in (FIXTURES / "command-digests-v1.jsonl").open()]
EVENTS_V1 = [json.loads(line) for line in (FIXTURES / "events-v1.jsonl").open()]
FIRST_STEPS = Path(__file__).resolve().parents[2] / "adapters" / "scenarios" / "first-steps.jsonl"


def kebab(step: str) -> str:
    return step.replace("_", "-")


def test_an_initiative_command_is_named_after_the_method_it_calls() -> None:
    for name, cls in CATALOGUE.items():
        if cls.group == "initiative" and not cls.creates:
            assert name == kebab(cls.step), name


def test_every_name_old_or_new_stands_for_one_command() -> None:
    names = [n for cls in CATALOGUE.values() for n in (cls.command, *cls.former_names) if n]
    assert len(names) == len(set(names))
    for cls in CATALOGUE.values():  # a CLI group hears each sub-command once
        group = [c for c in CATALOGUE.values() if c.cli_group == cls.cli_group]
        verbs = [v for c in group for v in (c.command, *c.former_verbs)]
        assert len(verbs) == len(set(verbs)), cls.cli_group


@pytest.mark.parametrize(
    ("former", "current"),
    [
        ("record-precondition-failed", "fail-precondition"),
        ("record-innovative-option", "record-option"),
        ("declare-no-financial-arrangement", "declare-no-arrangement"),
        ("escalate-initiative", "escalate"),
        ("start-joint-trajectory", "start-trajectory"),
    ],
)
def test_a_former_name_builds_the_command_it_was_renamed_to(former: str, current: str) -> None:
    assert former not in CATALOGUE
    assert command_class(former) is CATALOGUE[current] is FORMER_NAMES[former]


def test_json_lines_take_a_former_name() -> None:
    command = parse_command(
        {
            "command": "record-precondition-failed",
            "initiative_id": "grass",
            "precondition": "offtake",
            "actor": "broker-anna",
            "reason": "the buyer withdrew",
        }
    )
    assert command.command == "fail-precondition"


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(InvalidCommandError, match="unknown command 'fail-everything'"):
        command_class("fail-everything")


def test_the_step_of_each_initiative_command_finds_it_again() -> None:
    initiative = AGGREGATES["initiative"]
    for cls in CATALOGUE.values():
        if cls.group == "initiative":
            assert command_for_step("initiative", cls.step) is cls
            assert cls.creates or callable(getattr(initiative, cls.step, None)), cls.step
    assert command_for_step("initiative", "fail_precondition").command == "fail-precondition"
    with pytest.raises(KeyError):
        command_for_step("programme", "fail_precondition")


@pytest.mark.parametrize("recorded", RECORDED, ids=lambda r: r["line"]["command"])
def test_the_digest_stays_what_it_was_when_first_recorded(recorded: dict[str, Any]) -> None:
    line = recorded["line"]
    renamed = {**line, "command": command_class(line["command"]).command}
    assert parse_command(line).digest() == recorded["digest"]
    assert parse_command(renamed).digest() == recorded["digest"]


def test_every_command_has_a_recorded_digest_fixture() -> None:
    covered = {command_class(r["line"]["command"]) for r in RECORDED}
    assert covered == set(CATALOGUE.values())


def former_name(line: dict[str, Any]) -> dict[str, Any]:
    cls = CATALOGUE[line["command"]]
    return {**line, "command": cls.former_names[0]} if cls.former_names else line


def test_a_command_recorded_under_its_old_name_replays_under_either_name(
    memory_engine: Engine,
) -> None:
    load_fixture(memory_engine)  # the first-steps scenario under the names of that time
    recorded = {r["state"]["decision"]["_data_"]["command_id"] for r in EVENTS_V1}
    lines = [json.loads(line) for line in FIRST_STEPS.read_text().splitlines() if line.strip()]
    resent = [line for line in lines if line["command_id"] in recorded]
    renamed = [line for line in resent if CATALOGUE[line["command"]].former_names]
    assert len(renamed) >= 20  # the scenario uses the renamed commands: the test means something
    head = memory_engine.recorder.max_notification_id()
    for line in resent:
        for sent in (line, former_name(line)):
            outcome = memory_engine.execute(parse_command(sent))
            assert outcome.replayed, sent
    assert memory_engine.recorder.max_notification_id() == head


class Sealer:
    """A keyring that seals in name only (the keys are the adapters' business)."""

    def seal(self, subject: str, text: str) -> Personal:
        return Personal(subject, f"sealed:{len(text)}")

    def reveal(self, values: Iterable[Personal]) -> dict[Personal, str | None]:
        return dict.fromkeys(values)

    def forget(self, subject: str) -> bool:
        return False


class Recorded:
    """What a decide call did to the aggregate: the method and how it was called."""

    def __init__(self, aggregate: Any) -> None:
        calls = aggregate.method_calls
        assert len(calls) == 1, calls
        self.method, self.args, self.kwargs = calls[0]


@pytest.mark.parametrize(
    "recorded",
    [r for r in RECORDED if not command_class(r["line"]["command"]).creates],
    ids=lambda r: r["line"]["command"],
)
def test_a_command_calls_its_step_by_keyword(recorded: dict[str, Any]) -> None:
    command: Command = parse_command(recorded["line"])
    aggregate = create_autospec(AGGREGATES[command.group], instance=True)  # checks the binding
    decision = command.decision(date(2020, 1, 1))
    with sealing(Sealer()):  # personal data is sealed while a command decides, as the engine does
        command.decide(aggregate, decision)
    call = Recorded(aggregate)
    assert call.method == command.step
    assert call.args == ()
    assert call.kwargs["decision"] is decision


def test_every_step_of_the_lifecycle_table_has_its_command() -> None:
    from domain.initiative import LIFECYCLE

    for step in LIFECYCLE:
        assert command_for_step("initiative", step).command == kebab(step)
