"""Personal data under the AVG, as a programme office meets it: a person is named behind an
identity, their data is listed for an access request (article 15), and erased on request
(article 17) with the record's chain intact. Real processes on the first-steps demo, on
SQLite and on PostgreSQL; the files, the database dump, a backup and the exports are searched
for what was erased."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.api.app import create_app
from adapters.keyring import StoredKeyring
from adapters.settings import Settings
from tests.e2e.test_cli import as_json, kringloop, scenario_path

pytestmark = pytest.mark.slow  # every test runs the CLI in processes, many times

NAME = "Annaliese Vrijdag-Kwast"  # a name nothing else in the demo holds
EMAIL = "a.vrijdag-kwast@gemeente.example"
SUBJECT = "broker-anna"
MANAGER = ("--actor", "board-secretariat")


@dataclass
class Store:
    home: Path
    env: dict[str, str]
    url: str | None = None

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return kringloop(self.home, *args, env=self.env, ok=ok)

    def settings(self) -> Settings:
        fields: dict[str, Any] = {"home": self.home}
        if self.url:
            fields |= {
                "database_url": self.url,
                "database_schema": self.env["KRINGLOOP_DATABASE_SCHEMA"],
                "read_schema": self.env["KRINGLOOP_READ_SCHEMA"],
            }
        return Settings(**fields)


def _store(tmp: Path, url: str | None) -> Store:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRINGLOOP_")}
    env["KRINGLOOP_LANG"] = "nl"
    if url:
        tag = uuid.uuid4().hex[:10]
        env |= {
            "KRINGLOOP_DATABASE_URL": url,
            "KRINGLOOP_DATABASE_SCHEMA": f"ev_{tag}",
            "KRINGLOOP_READ_SCHEMA": f"rd_{tag}",
        }
    store = Store(tmp, env, url)
    if url:  # the demo is SQLite's: the same decisions, applied as a programme office would
        store.run("apply", str(scenario_path("first-steps")))
    else:
        store.run("demo", "--fresh", "--scenario", "first-steps", "--json")
    return store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    return _store(tmp_path / "home", url)


def name_and_subscribe(store: Store) -> None:
    store.run(
        "authority", "name-person", "--identity", SUBJECT, "--name", NAME, *MANAGER,
        "--reason", "de makelaar van het programma",
    )  # fmt: skip
    store.run("notifications", "subscribe", SUBJECT, "--email", EMAIL, *MANAGER)


@pytest.fixture
def client(store: Store) -> Iterator[tuple[TestClient, dict[str, str]]]:
    token = as_json(store.run("users", "add", "audrey", "--role", "auditor", *MANAGER, "--json"))[
        "token"
    ]
    with TestClient(create_app(store.settings())) as client:
        yield client, {"Authorization": f"Bearer {token}", "Accept-Language": "nl"}


def roles_of(client: tuple[TestClient, dict[str, str]]) -> dict[str, Any]:
    test, headers = client
    answer = test.get("/api/authority/roles", headers=headers)
    assert answer.status_code == 200, answer.text
    return {r["identity"]: r for r in answer.json()}


def roles_csv(client: tuple[TestClient, dict[str, str]]) -> str:
    test, headers = client
    answer = test.get("/api/authority/roles?format=csv", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.content.decode("utf-8-sig")


def everything_stored(store: Store) -> bytes:
    """Every byte the store keeps: each file in the data folder (SQLite's -wal too), and on
    PostgreSQL a dump of the whole database. Read by another process: closing a file this
    process opened would drop the SQLite locks the app under test holds on it."""
    files = [str(p) for p in sorted(store.home.rglob("*")) if p.is_file()]
    found = subprocess.run(["cat", *files], capture_output=True, check=True, timeout=60).stdout
    if store.url:
        pg_dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"
        dumped = subprocess.run(
            [pg_dump, "--no-owner", store.url], capture_output=True, check=True, timeout=120
        )
        assert b"kringloop_subject_keys" in dumped.stdout  # the dump holds the key table
        found += dumped.stdout
    return found


def forms(key: bytes) -> tuple[bytes, ...]:
    """A key as a file holds it (raw), as a backup does (base64), as pg_dump prints it."""
    return key, base64.b64encode(key), key.hex().encode()


def wrapped_key(store: Store) -> bytes:
    rows = StoredKeyring(store.settings()).rows([SUBJECT])
    assert rows
    assert rows[0].wrapped is not None
    return rows[0].wrapped


def test_a_name_is_sealed_listed_and_erased_for_good(
    store: Store, client: tuple[TestClient, dict[str, str]], tmp_path: Path
) -> None:
    name_and_subscribe(store)
    key = wrapped_key(store)
    # named: the doors that show the register show the person; nothing keeps the name in clear
    assert roles_of(client)[SUBJECT]["name"] == NAME
    assert NAME in roles_csv(client)
    stored = everything_stored(store)
    assert NAME.encode() not in stored
    assert any(form in stored for form in forms(key))  # kept, wrapped: the search would see it
    report = as_json(store.run("privacy", "report", SUBJECT, "--json"))
    assert report["name"] == NAME
    assert not report["erased"]
    places = {(p["where"], p["what"]) for p in report["places"]}
    assert ("decision log", "decided by them") in places
    assert ("notifications", "subscription (addresses)") in places
    before = tmp_path / "before.kringloop-backup"
    store.run("backup", str(before))

    done = as_json(
        store.run(
            "privacy", "forget", SUBJECT, "--request", "AVG-2026-17", *MANAGER,
            "--reason", "verzoek tot verwijdering van de betrokkene", "--yes", "--json",
        )
    )  # fmt: skip
    assert done["key_destroyed"]
    assert done["removed"]["subscription"] == 1

    # erased: every door says so, and the record still verifies
    erased = roles_of(client)[SUBJECT]
    assert erased["name"] is None
    assert erased["erased"]
    shown = roles_csv(client)
    assert NAME not in shown
    assert "[verwijderd]" in shown
    report = as_json(store.run("privacy", "report", SUBJECT, "--json"))
    assert report["name"] is None
    assert report["erased"]
    assert report["forgotten"]["request"] == "AVG-2026-17"
    assert ("notifications", "subscription (addresses)") not in {
        (p["where"], p["what"]) for p in report["places"]
    }
    verified = store.run("audit", "verify", "--json", ok=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert as_json(verified)["ok"]

    # nothing left: the files, the dump, a backup made now and an export hold neither the
    # name, nor the address, nor the key
    after = tmp_path / "after.kringloop-backup"
    store.run("backup", str(after))
    export = tmp_path / "export.jsonl"
    store.run("audit", "export", "--all", "--out", str(export))
    for where, data in (
        ("the store", everything_stored(store)),
        ("a backup made after", after.read_bytes()),
        ("the signed export", export.read_bytes()),
    ):
        for secret in (NAME.encode(), EMAIL.encode(), *forms(key)):
            assert secret not in data, f"{secret[:20]!r} in {where}"

    # a name is never sealed again under a forgotten identity
    again = store.run(
        "authority", "name-person", "--identity", SUBJECT, "--name", NAME, *MANAGER,
        "--reason", "opnieuw", ok=False,
    )  # fmt: skip
    assert again.returncode != 0
    assert "AVG-2026-17" in again.stderr

    # restored: the backup made after the erasure brings nothing back; one made before does
    # (its own retention applies), so the keys travel with a backup
    for backup, expected in ((after, None), (before, NAME)):
        target = _empty_like(store, tmp_path / f"restored-{backup.stem}")
        target.run("restore", str(backup))
        register = as_json(target.run("privacy", "report", SUBJECT, "--json"))
        assert register["name"] == expected
        addresses = [p["detail"] for p in register["places"] if p["where"] == "notifications"]
        assert addresses == ([EMAIL] if expected else [])  # subscriptions travel too


def _empty_like(store: Store, home: Path) -> Store:
    env = dict(store.env)
    if store.url:
        tag = uuid.uuid4().hex[:10]
        env |= {"KRINGLOOP_DATABASE_SCHEMA": f"ev_{tag}", "KRINGLOOP_READ_SCHEMA": f"rd_{tag}"}
    return Store(home, env, store.url)


def test_an_identity_in_use_is_not_erased_and_only_a_manager_erases(store: Store) -> None:
    name_and_subscribe(store)
    store.run("users", "add", SUBJECT, "--role", "broker", *MANAGER, "--json")
    forget = ("privacy", "forget", SUBJECT, "--request", "R-1", "--reason", "verzoek", "--yes")
    refused = store.run(*forget, *MANAGER, ok=False)
    assert refused.returncode == 1
    assert "users revoke" in refused.stderr
    store.run("users", "revoke", SUBJECT)
    by_broker = store.run(*forget, "--actor", "broker-bas", ok=False)
    assert by_broker.returncode == 1
    assert as_json(store.run("privacy", "report", SUBJECT, "--json"))["name"] == NAME
    store.run(*forget, *MANAGER)
    assert as_json(store.run("privacy", "report", SUBJECT, "--json"))["erased"]


def test_forgetting_needs_confirmation_and_a_manager(store: Store) -> None:
    unconfirmed = store.run(
        "privacy", "forget", SUBJECT, "--request", "R-2", "--reason", "verzoek", *MANAGER,
        ok=False,
    )  # fmt: skip
    assert unconfirmed.returncode == 1
    assert "--yes" in unconfirmed.stderr
    nobody = store.run("privacy", "forget", "nobody-at-all", "--request", "R-3", "--reason",
                       "verzoek", *MANAGER, "--yes", ok=False)  # fmt: skip
    assert nobody.returncode == 1
    assert "nobody-at-all" in nobody.stderr


def test_a_user_added_with_a_person_name_is_named_and_reported_at_once(store: Store) -> None:
    store.run(
        "users", "add", "piet", "--role", "broker", *MANAGER, "--person-name", "Piet Paulusma",
        "--json",
    )  # fmt: skip
    report = as_json(store.run("privacy", "report", "piet", "--json"))
    assert report["name"] == "Piet Paulusma"
    about = [p for p in report["places"] if p["what"] == "about them (their roles, their name)"]
    assert [p["count"] for p in about] == [2]  # the role and the name, caught up at once


def test_an_erasure_recorded_through_another_door_destroys_the_key_too(
    store: Store, tmp_path: Path
) -> None:
    """`kringloop apply` (as the API) records the decision alone: the engine destroys the key
    once it is recorded, so the name is gone whichever door the decision came through."""
    name_and_subscribe(store)
    line = {
        "command": "forget-subject", "command_id": "forget-by-apply", "subject": SUBJECT,
        "request": "AVG-2026-18", "actor": "board-secretariat", "reason": "verzoek",
    }  # fmt: skip
    lines = tmp_path / "forget.jsonl"
    lines.write_text(json.dumps(line) + "\n")
    store.run("apply", str(lines))
    rows = StoredKeyring(store.settings()).rows([SUBJECT])
    assert [row.wrapped for row in rows] == [None]
    assert as_json(store.run("privacy", "report", SUBJECT, "--json"))["erased"]
    # privacy forget with the same decision finishes what is kept beside the record
    done = as_json(
        store.run(
            "privacy", "forget", SUBJECT, "--request", "AVG-2026-18", "--reason", "verzoek",
            *MANAGER, "--command-id", "forget-by-apply", "--yes", "--json",
        )
    )  # fmt: skip
    assert done["replayed"]
    assert done["removed"]["subscription"] == 1


def test_a_forgotten_identity_takes_no_new_personal_data_and_a_rerun_finishes(
    store: Store,
) -> None:
    name_and_subscribe(store)
    store.run("users", "add", "wim", "--role", "broker", *MANAGER, "--json")
    store.run("users", "revoke", "wim")
    line = ("privacy", "forget", SUBJECT, "--request", "R-9", "--reason", "verzoek", "--yes")
    store.run(*line, *MANAGER)
    again = as_json(store.run(*line, *MANAGER, "--json"))  # a second run finishes, refuses not
    assert again["replayed"]
    for refused in (
        ("notifications", "subscribe", SUBJECT, "--email", "nieuw@example.nl", *MANAGER),
        ("users", "reissue", SUBJECT),
        ("authority", "grant-role", "--identity", SUBJECT, "--role", "auditor", *MANAGER,
         "--reason", "terug"),
    ):  # fmt: skip
        done = store.run(*refused, ok=False)
        assert done.returncode == 1, refused
        assert SUBJECT in done.stderr, refused
    unknown = store.run("privacy", "report", "Broker-Anna", ok=False)
    assert unknown.returncode == 1
    assert "Broker-Anna" in unknown.stderr


def test_a_person_named_who_holds_no_role_is_shown_with_the_roles(
    store: Store, client: tuple[TestClient, dict[str, str]]
) -> None:
    """A broker who decides by mandate alone (the regional demo's) holds no role in the
    register: named, they are still listed, on the page's table and in its export."""
    store.run(
        "authority", "name-person", "--identity", "broker-mandate-only", "--name", NAME,
        *MANAGER, "--reason", "makelaar met alleen een mandaat",
    )  # fmt: skip
    listed = roles_of(client)["broker-mandate-only"]
    assert listed["name"] == NAME
    assert listed["role"] == ""
    assert NAME in roles_csv(client)
