"""Users and tokens: issued once, stored hashed, revocable, kept through a rebuild."""

from __future__ import annotations

import json
import subprocess
import sys

from adapters.accounts.users import token_hash
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from projections.runner import Runner
from tests.api.conftest import Api, users_add
from tests.e2e.test_cli import kringloop


def test_a_token_is_stored_only_as_its_hash(api: Api) -> None:
    token = api.tokens["broker-bas"]
    raw = (api.home / "read.sqlite").read_bytes()
    assert token.encode() not in raw
    assert token_hash(token).encode() in raw


def test_a_revoked_token_is_refused(api: Api) -> None:
    kringloop(api.home, "users", "revoke", "broker-bas")
    response = api.client.get("/api/pipeline", headers=api.as_("broker-bas"))
    assert response.status_code == 401


def test_users_survive_a_rebuild_of_the_read_models(api: Api) -> None:
    settings = Settings(home=api.home)
    engine, reads = open_engine(settings), open_read_store(settings)
    Runner(engine, reads).rebuild()
    engine.close()
    reads.close()
    assert api.client.get("/api/pipeline", headers=api.as_("audrey")).status_code == 200


def test_the_cli_issues_lists_and_revokes(api: Api) -> None:
    added = json.loads(
        kringloop(
            api.home,
            *users_add("carla"),
            "--json",
        ).stdout
    )
    assert added["token"].startswith("kl_")
    listed = json.loads(kringloop(api.home, "users", "list", "--json").stdout)
    assert {"name": "carla", "role": "broker"}.items() <= next(
        u for u in listed if u["name"] == "carla"
    ).items()
    assert "token" not in json.dumps(listed)
    refused = kringloop(
        api.home,
        *users_add("dave", "admin"),
        ok=False,
    )
    assert refused.returncode == 1
    assert "broker, auditor, manager or organisation" in refused.stderr


def test_the_cli_show_command_does_not_import_fastapi() -> None:
    code = "import sys, adapters.cli.app; print(any(m.startswith('fastapi') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
