"""A data folder with the first-steps scenario applied, users of each role, and the app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from adapters.accounts.users import Role, add_user, create_table
from adapters.api.app import create_app
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from domain.commands.catalogue import parse_command
from domain.engine import Engine
from projections.runner import Runner
from tests.scenario import apply_scenario

USERS = {
    "broker-bas": Role.BROKER,  # mandate: textiles, construction (timber-reuse)
    "broker-anna": Role.BROKER,  # mandate: biomass, diapers, mattresses
    "board-secretariat": Role.MANAGER,
    "audrey": Role.AUDITOR,
}


def grant_roles(engine: Engine, roles: dict[str, Role]) -> None:
    """Record each role as the scenario's manager's decision: the API takes roles from the
    record (the users table only holds credentials)."""
    for name, role in roles.items():
        engine.execute(
            parse_command(
                {
                    "command": "grant-role",
                    "identity": name,
                    "role": role.value,
                    "actor": "board-secretariat",
                    "reason": "access for the tests",
                    "effective": "2016-01-01",
                }
            )
        )


def load_first_steps(home: Path) -> dict[str, str]:
    """Apply the scenario through the engine's commands; return a token per user."""
    settings = Settings(home=home)
    engine, reads = open_engine(settings), open_read_store(settings)
    apply_scenario(engine, "first-steps")
    grant_roles(engine, {"audrey": Role.AUDITOR})  # the scenario's brokers and manager hold theirs
    Runner(engine, reads).catch_up()
    create_table(reads.engine)
    tokens = {name: add_user(reads.engine, name, role) for name, role in USERS.items()}
    engine.close()
    reads.close()
    return tokens


def users_add(name: str, role: str = "broker", actor: str = "board-secretariat") -> list[str]:
    """The arguments of `kringloop users add` (after --home): ``name`` issued a token with
    ``role``, as ``actor`` decides."""
    return ["users", "add", name, "--role", role, "--actor", actor]


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    home: Path

    def as_(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def post_body(
        self, user: str | None, command: str, body: bytes, media_type: str = "application/json"
    ) -> Response:
        """``body`` as it is, posted to a command as ``user`` (None: without a token)."""
        headers = {"Content-Type": media_type, **(self.as_(user) if user else {})}
        return self.client.post(f"/api/commands/{command}", content=body, headers=headers)


@pytest.fixture(scope="session")
def first_steps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Loaded once; each test works on its own copy."""
    home = tmp_path_factory.mktemp("first-steps")
    return home, load_first_steps(home)


@pytest.fixture
def loaded_home(
    first_steps: tuple[Path, dict[str, str]], tmp_path: Path
) -> tuple[Path, dict[str, str]]:
    template, tokens = first_steps
    home = tmp_path / "home"
    shutil.copytree(template, home)
    return home, tokens


@pytest.fixture
def api(loaded_home: tuple[Path, dict[str, str]]) -> Iterator[Api]:
    home, tokens = loaded_home
    with TestClient(create_app(Settings(home=home))) as client:
        yield Api(client, tokens, home)
