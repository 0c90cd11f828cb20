"""Bad input is refused clearly, before anything is decided; the catalogue is complete."""

from __future__ import annotations

from typing import Any

import pytest

from domain.commands.catalogue import CATALOGUE, parse_command
from domain.errors import InvalidCommandError

BASE = {"actor": "broker-anna", "reason": "why", "initiative_id": "grass"}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"command": "launch-rocket"}, "unknown command 'launch-rocket'"),
        (
            {"command": "report-impact", **BASE, "period": 2017, "jobs_fte": -3},
            "jobs_fte: Input should be greater than or equal to 0",
        ),
        (
            {"command": "report-impact", **BASE, "period": 2017, "tonnes_processed_per_year": 1e15},
            "tonnes_processed_per_year: Input should be less than or equal to",
        ),
        ({"command": "report-impact", **BASE, "period": 2017}, "report at least one figure"),
        (
            {"command": "report-impact", **BASE, "period": "next year", "jobs_fte": 1},
            "period: Input should be a valid integer",
        ),
        (
            {"command": "start-expert-scan", **BASE, "reason": "  "},
            "reason: String should have at least 1 character",
        ),
        (
            {"command": "start-expert-scan", **BASE, "reason": "x" * 2001},
            "reason: String should have at most 2000 characters",
        ),
        (
            {
                "command": "register-precondition",
                **BASE,
                "precondition": "v",
                "kind": "luck",
                "responsible": "x",
            },
            "kind: Input should be 'guaranteed_volume'",
        ),
        (
            {"command": "start-expert-scan", **BASE, "initiative_id": "Not A Slug"},
            "initiative_id: String should match pattern",
        ),
        (
            {"command": "start-expert-scan", **BASE, "effective": "yesterday"},
            "effective: 'yesterday' is not a date (YYYY-MM-DD)",
        ),
        (
            {"command": "start-expert-scan", **BASE, "colour": "green"},
            "colour: Extra inputs are not permitted",
        ),
        (
            {
                "command": "register-precondition",
                **BASE,
                "precondition": "v",
                "kind": "permit",
                "responsible": "x",
                "target_value": 5,
            },
            "give target_value and target_unit together",
        ),
        (
            {
                "command": "assess-scale-up",
                **BASE,
                "ready": True,
                "criteria": "c",
                "figures": {"t": float("nan")},
            },
            "figures.t: Input should be a finite number",
        ),
    ],
)
def test_bad_input_is_refused_with_the_field_and_the_rule(
    payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidCommandError) as refused:
        parse_command(payload)
    assert message in str(refused.value)


def test_every_command_has_a_schema_and_a_description() -> None:
    for name, cls in CATALOGUE.items():
        schema = cls.model_json_schema()
        assert {"actor", "reason", "command_id"} <= set(schema["properties"]), name
        assert cls.__doc__, name


def test_the_digest_ignores_the_command_id_but_not_the_content() -> None:
    one = parse_command({"command": "start-expert-scan", **BASE, "command_id": "a"})
    same = parse_command({"command": "start-expert-scan", **BASE, "command_id": "b"})
    other = parse_command({"command": "start-expert-scan", **BASE, "reason": "else"})
    assert one.digest() == same.digest() != other.digest()


@pytest.mark.parametrize("reserved", ["_type_", "_data_"])
def test_the_event_stores_own_markers_are_refused_as_names(reserved: str) -> None:
    with pytest.raises(InvalidCommandError, match="is reserved by the event store"):
        parse_command(
            {
                "command": "assess-scale-up",
                **BASE,
                "ready": True,
                "criteria": "c",
                "figures": {reserved: 1},
            }
        )
    with pytest.raises(InvalidCommandError, match="is reserved by the event store"):
        parse_command(
            {
                "command": "admit-member",
                **BASE,
                "organisation": reserved,
                "role": "other",
            }
        )


def test_the_digest_does_not_depend_on_the_order_of_keys() -> None:
    fields = {"command": "assess-scale-up", **BASE, "ready": True, "criteria": "c"}
    one = parse_command({**fields, "figures": {"tonnes": 10, "jobs": 2}})
    other = parse_command({**fields, "figures": {"jobs": 2, "tonnes": 10}})
    assert one.digest() == other.digest()
