"""Destruction under an approved list, attacked: a destroyed event verifies as destroyed
(not altered) through the API and the audit page; an operator who tombstones an event
without an approved list, or names a hash the chain never recorded, is caught; a list
may not reach a record kept permanently or one not yet due."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.api.app import create_app
from adapters.audit.verify import DESTROYED_TOPIC, verify_store
from adapters.bootstrap import Kringloop, bootstrap
from adapters.retention import RetentionError, _rewrite_sqlite, _tombstones, destroy, due
from adapters.settings import Settings
from domain.commands.catalogue import parse_command
from domain.errors import RuleError
from tests.api.conftest import Api, first_steps, loaded_home  # noqa: F401 (shared fixtures)
from tests.e2e.test_retention import PILOT, SECRET
from tests.web.test_pages import csrf_of, logged_in

DECIDER = {"actor": "board-secretariat", "reason": "Selectielijst, category 10 years"}


def execute(kringloop: Kringloop, command: str, **fields: Any) -> None:
    kringloop.execute(parse_command({"command": command, **DECIDER, **fields}))


@pytest.fixture
def stores(loaded_home: tuple[Path, dict[str, str]]) -> Iterator[Kringloop]:  # noqa: F811
    home, _ = loaded_home
    kringloop = bootstrap(Settings(home=home, database_url=None), logs="kept")
    for command, day, fields in PILOT:
        kringloop.execute(
            parse_command(
                {"command": command, "actor": "broker-bas", "reason": "history entered",
                 "effective": day, "initiative_id": "old-textile-pilot", **fields}
            )
        )  # fmt: skip
    yield kringloop
    kringloop.close()


def approve(kringloop: Kringloop, entries: list[dict[str, Any]]) -> dict[str, Any]:
    execute(kringloop, "open-archive", programme_id="mra-circular")
    execute(kringloop, "approve-destruction", entries=entries)
    return {"list": 1, "entries": entries}


def test_an_approved_destruction_shows_on_the_api_and_the_audit_page(
    stores: Kringloop,
    loaded_home: tuple[Path, dict[str, str]],  # noqa: F811 (the fixture imported above)
) -> None:
    home, tokens = loaded_home
    today = stores.engine.clock()
    destroy(stores, approve(stores, due(stores.engine, today)), today)
    stores.close()
    with TestClient(create_app(Settings(home=home))) as client:
        api = Api(client, tokens, home)
        verified = client.post("/api/audit/verify", headers=api.as_("audrey")).json()
        assert verified["ok"]
        assert verified["destructions"] == [f"1 event destroyed on {today} under list 1"]
        logged_in(api, "audrey")
        page = client.get("/audit")
        posted = client.post("/audit/verify", data={"csrf_token": csrf_of(page.text)})
        assert posted.status_code == 200
        assert 'data-verdict="altered"' not in posted.text
        said = re.search(r'id="verify-destroyed">([^<]*)<', posted.text)
        assert said is not None
        assert said.group(1).startswith("1 gebeurtenis is vernietigd onder een goedgekeurde")
        assert said.group(1).endswith("Lijsten: 1.")  # Dutch, as the page is by default


def test_a_tombstone_naming_a_hash_the_chain_never_recorded_is_altered(
    stores: Kringloop,
) -> None:
    today = stores.engine.clock()
    destroy(stores, approve(stores, due(stores.engine, today)), today)
    path = stores.settings.events_path
    with sqlite3.connect(path) as conn:
        state = conn.execute(
            "SELECT state FROM stored_events WHERE topic = ?", (DESTROYED_TOPIC,)
        ).fetchone()[0]
        forged = re.sub(rb'("content_hash": ?")', rb"\g<1>0", bytes(state))
        assert forged != bytes(state)
        conn.execute(
            "UPDATE stored_events SET state = ? WHERE topic = ?", (forged, DESTROYED_TOPIC)
        )
    report, _ = verify_store(stores.engine.recorder, stores.settings.home, anchors=False)
    assert report.verdict == "altered"
    assert report.destroyed == []


def test_a_list_cannot_reach_a_permanent_record_or_one_not_yet_due(stores: Kringloop) -> None:
    entry = due(stores.engine, stores.engine.clock())[0]
    execute(stores, "open-archive", programme_id="mra-circular")
    for changed, words in (  # the store is asked first (the entry as it stands), whatever door
        ({"record_kind": "programme-decision"}, r"\(record_kind: consultation-response\)"),
        ({"due_on": "2099-01-01"}, r"\(due_on: "),
    ):
        with pytest.raises(RuleError, match=words):
            execute(stores, "approve-destruction", entries=[{**entry, **changed}])
    stores.engine.command_checks.clear()  # and the archive record refuses by itself
    for changed, words in (
        ({"record_kind": "programme-decision"}, "kept permanently"),
        ({"due_on": "2099-01-01"}, "runs until 2099-01-01"),
    ):
        with pytest.raises(RuleError, match=words):
            execute(stores, "approve-destruction", entries=[{**entry, **changed}])


def test_a_list_approved_for_a_record_that_runs_again_is_refused_on_destroy(
    stores: Kringloop,
) -> None:
    today = stores.engine.clock()
    approved = approve(stores, due(stores.engine, today))
    reopen = {"actor": "broker-bas", "reason": "a new lead", "initiative_id": "old-textile-pilot"}
    stores.execute(parse_command({"command": "reopen", **reopen}))
    with pytest.raises(RetentionError, match="not past its retention period"):
        destroy(stores, approved, today)
    home = stores.settings.home
    assert any(SECRET.encode() in p.read_bytes() for p in home.glob("events.sqlite*"))


def test_nothing_is_due_before_the_period_ends(stores: Kringloop) -> None:
    assert due(stores.engine, date(2026, 4, 30)) == []


def test_a_destruction_cut_short_is_carried_on_from_where_it_stopped(stores: Kringloop) -> None:
    for command, day, fields in PILOT:
        stores.execute(
            parse_command(
                {"command": command, "actor": "broker-bas", "reason": "history entered",
                 "effective": day, "initiative_id": "second-textile-pilot", **fields}
            )
        )  # fmt: skip
    today = stores.engine.clock()
    approved = approve(stores, due(stores.engine, today))
    assert len(approved["entries"]) == 2
    first = approved["entries"][0]
    cut_short = _tombstones(stores.engine, first["aggregate"], {first["version"]}, today, 1)
    _rewrite_sqlite(stores, cut_short, {first["aggregate"]})  # then the run stopped
    stores.engine._forget()
    done = destroy(stores, approved, today)
    assert (done.destroyed, done.before) == (1, 1)
    report, _ = verify_store(stores.engine.recorder, stores.settings.home, anchors=False)
    assert report.verdict != "altered"
    assert len(report.destroyed) == 2
    home = stores.settings.home
    assert not any(SECRET.encode() in p.read_bytes() for p in home.glob("*.sqlite*"))
