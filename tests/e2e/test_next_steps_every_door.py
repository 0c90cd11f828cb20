"""Every door offers exactly the steps the engine accepts: for an initiative in each
reachable stage and status, the CLI's `initiative show --json`, the API's
`GET /api/initiatives/{id}` and the web page's forms list the commands that the initiative
accepts there (each tried on a copy), and nothing else."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.accounts.users import Role, add_user, create_table
from adapters.api.app import create_app
from adapters.cli.app import app
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from domain.values import Stage, Status
from projections.runner import Runner
from tests.conftest import runner
from tests.e2e.test_cli import kringloop
from tests.lifecycle import STATES, accepted_commands, bring, state_id
from tests.scenario import BROKER, programme
from tests.web.test_pages import csrf_of

IDS = [state_id(*s) for s in STATES]


@pytest.fixture(scope="module")
def every_state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[str]]]:
    """A data folder with an initiative in each state; what each one accepts now."""
    home = tmp_path_factory.mktemp("every-state")
    settings = Settings(home=home)
    engine, reads = open_engine(settings), open_read_store(settings)
    run = runner(engine)
    programme(run)
    run("grant-role", identity=BROKER, role="broker", actor="board", effective="2015-03-01")
    for stage, status in STATES:
        bring(run, stage, status, initiative_id=state_id(stage, status))
    accepted = {i: accepted_commands(engine.initiative(i)) for i in IDS}
    Runner(engine, reads).catch_up()
    engine.close()
    reads.close()
    return home, accepted


@pytest.fixture(scope="module")
def browser(every_state: tuple[Path, dict[str, set[str]]]) -> Iterator[tuple[TestClient, str]]:
    home, _ = every_state
    reads = open_read_store(Settings(home=home))
    create_table(reads.engine)
    token = add_user(reads.engine, BROKER, Role.BROKER)
    reads.close()
    with TestClient(create_app(Settings(home=home))) as client:
        yield client, token


def test_each_state_accepts_something_and_the_states_differ(
    every_state: tuple[Path, dict[str, set[str]]],
) -> None:
    _, accepted = every_state
    assert all(accepted.values())
    assert len({frozenset(a) for a in accepted.values()}) > len(Stage)  # status matters too
    assert "resume" in accepted[state_id(Stage.PROPOSED, Status.STALLED)]


def test_the_api_offers_what_the_engine_accepts(
    every_state: tuple[Path, dict[str, set[str]]], browser: tuple[TestClient, str]
) -> None:
    _, accepted = every_state
    client, token = browser
    for initiative_id in IDS:
        detail = client.get(
            f"/api/initiatives/{initiative_id}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        offered = {s["command"] for s in detail["next_steps"] if s["allowed"]}
        assert offered == accepted[initiative_id], initiative_id
        assert all(s["why_not"] for s in detail["next_steps"] if not s["allowed"])


def test_the_web_page_offers_a_form_for_what_the_engine_accepts(
    every_state: tuple[Path, dict[str, set[str]]], browser: tuple[TestClient, str]
) -> None:
    _, accepted = every_state
    client, token = browser
    client.post("/login", data={"token": token, "csrf_token": csrf_of(client.get("/login").text)})
    for initiative_id in IDS:
        page = client.get(f"/initiatives/{initiative_id}").text
        forms = set(re.findall(r'<form method="post" [^>]*data-command="([^"]+)"', page))
        assert forms == accepted[initiative_id], initiative_id


def test_the_cli_shows_as_next_steps_what_the_engine_accepts(
    every_state: tuple[Path, dict[str, set[str]]],
) -> None:
    home, accepted = every_state
    cli = CliRunner()  # in this process: the same app as `kringloop`, without its start-up
    for initiative_id in IDS:
        shown = cli.invoke(
            app, ["--home", str(home), "initiative", "show", initiative_id, "--json"]
        )
        assert shown.exit_code == 0, shown.output
        detail = json.loads(shown.stdout)
        offered = {s["command"] for s in detail["next_steps"] if s["allowed"]}
        assert offered == accepted[initiative_id], initiative_id
    words = kringloop(
        home, "initiative", "show", state_id(Stage.PRECONDITION_FULFILMENT, Status.ACTIVE)
    ).stdout
    assert "next steps:" in words
    assert "not now: form-consortium:" in words
