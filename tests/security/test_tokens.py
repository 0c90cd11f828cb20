"""Bearer tokens are stored only as their SHA-256 hash: read every store file and every
table directly, after the tokens were used on the API and the pages."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from adapters.cli.app import app as cli
from tests.api.conftest import users_add
from tests.security.conftest import Api, log_in


def every_value(database: Path) -> list[str]:
    """Every value of every row of every table, as text."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return [
            value if isinstance(value, str) else repr(value)
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')
            for value in row
        ]


def use_every_token(api: Api) -> None:
    for user in api.tokens:
        assert api.client.get("/api/pipeline", headers=api.as_(user)).status_code == 200
        log_in(api.client, api.tokens[user])


def test_no_store_file_holds_a_token(api: Api) -> None:
    use_every_token(api)
    files = [p for p in api.home.rglob("*") if p.is_file()]
    assert any(p.name == "read.sqlite" for p in files)
    for token in api.tokens.values():
        for path in files:  # the databases, their journals, keys, seals: everything
            assert token.encode() not in path.read_bytes(), f"{token[:6]}... in {path.name}"


def test_the_user_table_holds_each_tokens_hash_and_nothing_like_the_token(api: Api) -> None:
    use_every_token(api)
    values = every_value(api.home / "read.sqlite") + every_value(api.home / "events.sqlite")
    for token in api.tokens.values():
        assert hashlib.sha256(token.encode()).hexdigest() in values
        secret = token.removeprefix("kl_")
        assert not any(secret[:16] in value for value in values), "not even a part of it"
    with sqlite3.connect(api.home / "read.sqlite") as db:
        columns = [c[1] for c in db.execute("PRAGMA table_info(kringloop_user)")]
    assert columns == ["name", "role", "token_sha256", "created_at", "revoked_at"]


def test_the_cli_shows_a_new_token_once_and_never_again(api: Api) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "--home",
            str(api.home),
            *users_add("carla"),
        ],
    )
    assert added.exit_code == 0, added.output
    token = added.stdout.strip()
    assert token.startswith("kl_")
    assert len(token) > 40
    assert token not in added.stderr
    listed = runner.invoke(cli, ["--home", str(api.home), "users", "list", "--json"])
    assert listed.exit_code == 0
    assert "carla" in listed.stdout
    assert token not in listed.stdout + listed.stderr
    for path in api.home.rglob("*.sqlite*"):
        assert token.encode() not in path.read_bytes()
    assert (
        api.client.get("/api/pipeline", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )


def test_a_user_name_is_an_actor_name(api: Api) -> None:
    """A user's name becomes the actor of their decisions: the same rules apply."""
    runner = CliRunner()
    for name in ("[/] [bold]x", "line\nbreak", "esc\x1b[31m", "", "x" * 201):
        refused = runner.invoke(
            cli,
            [
                "--home",
                str(api.home),
                *users_add(name),
            ],
        )
        if name == "[/] [bold]x":  # odd but printable: accepted, and printed as it is
            assert refused.exit_code == 0, refused.output
            assert name in refused.stderr
            continue
        assert refused.exit_code == 1, name
        assert refused.stderr.startswith("refused: user name")
        assert len(refused.stderr.strip().splitlines()) == 1
