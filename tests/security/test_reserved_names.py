"""No person may take the name of a service identity: names starting with a system prefix
(`scheduler:`, `system:`, `operator:`, ...) belong to the flows, which the programme grants a
mandate on every stream. `users add scheduler:phase-3-check` was accepted, and its token
decided with the scheduler's mandate."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from adapters.accounts.users import Role, add_user, list_users
from adapters.cli.app import app as cli
from domain.errors import InvalidCommandError
from domain.values import SYSTEM_IDENTITY_PREFIXES
from flows import runtime
from tests.api.conftest import users_add
from tests.security.conftest import Api

TAKEN = [
    "scheduler:phase-3-check",
    "scheduler:deadlines",
    "scheduler:anything-new",
    "system:migration",
    "operator:root",
    "Scheduler:phase-3-check",
    "SYSTEM:x",
    "  scheduler:phase-3-check",
]


def test_the_flows_identities_carry_a_reserved_prefix() -> None:
    for identity in (runtime.SCHEDULER, runtime.DEADLINES):
        assert identity.startswith(SYSTEM_IDENTITY_PREFIXES), identity
    assert {"scheduler:", "system:", "operator:"} <= set(SYSTEM_IDENTITY_PREFIXES)


@pytest.mark.parametrize("name", TAKEN)
def test_users_add_refuses_a_system_name(api: Api, name: str) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--home",
            str(api.home),
            *users_add(name),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "reserved" in result.output
    assert "kl_" not in result.output, "no token was issued"
    engine = api.client.app.state.backend.read_store.engine  # type: ignore[attr-defined]
    assert not [u for u in list_users(engine) if ":" in u.name]


@pytest.mark.parametrize("name", TAKEN)
def test_add_user_refuses_a_system_name_whichever_door_calls_it(api: Api, name: str) -> None:
    engine = api.client.app.state.backend.read_store.engine  # type: ignore[attr-defined]
    with pytest.raises(InvalidCommandError, match="reserved for the system's own identities"):
        add_user(engine, name, Role.MANAGER)


def test_ordinary_names_are_still_accepted(api: Api) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--home",
            str(api.home),
            *users_add("schedule-keeper"),
        ],
    )
    assert result.exit_code == 0, result.output
