"""Script and SQL in free text: stored exactly as typed, escaped on every web page that
shows it, printed as plain text by the CLI, and harmless as a search filter."""

from __future__ import annotations

import sqlite3

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from adapters.cli.app import app as cli
from tests.security.conftest import Api, event_count, log_in

SCRIPT = "<script>alert('kringloop')</script>"
SQL = "'); DROP TABLE stored_events;--"
MARKUP = "[/] [bold red]not red[/]"
EVIL = f"{SCRIPT} {SQL} {MARKUP} <img src=x onerror=alert(1)>"
PAGES = [
    "/pipeline",
    "/initiatives/evil-chain",
    "/initiatives/evil-chain?as_of=2020-01-01",
    "/initiatives/timber-reuse",
    "/programmes/mra-circular",
    "/programmes/mra-circular/roadmap",
    "/audit",
]


@pytest.fixture
def evil(api: Api) -> Api:
    """The hostile text in every kind of field a page shows: titles, reasons, names,
    descriptions, organisations, units."""
    anna, bas, board = api.as_("broker-anna"), api.as_("broker-bas"), api.as_("board-secretariat")
    requests = [
        (anna, "propose-initiative", {"programme_id": "mra-circular", "initiative_id": "evil-chain",
            "stream": "biomass", "title": EVIL, "description": EVIL, "effective": "2020-01-01"}),
        (bas, "register-precondition", {"initiative_id": "timber-reuse", "precondition": "evil",
            "kind": "permit", "description": EVIL, "responsible": EVIL}),
        (bas, "admit-member", {"initiative_id": "timber-reuse", "organisation": EVIL,
            "role": "processor"}),
        (board, "set-target", {"programme_id": "mra-circular", "key": "evil-target",
            "description": EVIL, "unit": EVIL, "baseline": 0, "target": 1,
            "deadline": "2030-01-01"}),
        (board, "commit", {"commitment_id": "evil-org", "programme_id": "mra-circular",
            "organisation": EVIL, "organisation_kind": "municipality",
            "path": [{"year": 2022, "share": 10}], "effective": "2021-01-01"}),
        (board, "report-spend", {"commitment_id": "evil-org", "year": 2022,
            "category": "catering", "total_spend_eur": 100, "circular_spend_eur": 20}),
    ]  # fmt: skip
    for headers, command, fields in requests:
        response = api.client.post(
            f"/api/commands/{command}", json={**fields, "reason": EVIL}, headers=headers
        )
        assert response.status_code == 200, response.text
    return api


def test_hostile_text_is_stored_exactly_as_typed(evil: Api) -> None:
    detail = evil.client.get("/api/initiatives/evil-chain", headers=evil.as_("audrey")).json()
    assert detail["initiative"]["title"] == EVIL
    assert detail["decisions"][0]["reason"] == EVIL
    with sqlite3.connect(evil.home / "events.sqlite") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "stored_events" in tables, "no table was dropped"
    assert event_count(evil.home) > 100


def test_every_page_shows_hostile_text_escaped(evil: Api) -> None:
    log_in(evil.client, evil.tokens["broker-bas"])
    for path in PAGES:
        page = evil.client.get(path)
        assert page.status_code == 200, path
        assert "<script>alert(" not in page.text, path
        assert "<img src=x" not in page.text, path
        assert str(escape(SCRIPT)) in page.text, f"{path} shows the text, escaped"


def test_text_a_page_echoes_from_the_request_is_escaped(api: Api) -> None:
    login = api.client.get("/login", params={"next": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in login.text
    assert "&lt;script&gt;" in login.text
    log_in(api.client, api.tokens["audrey"])
    missing = api.client.get("/initiatives/%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert missing.status_code == 404
    assert "<img src=x" not in missing.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in missing.text


def test_the_cli_prints_hostile_text_as_plain_text(evil: Api) -> None:
    runner = CliRunner()
    for arguments in (
        ["initiative", "show", "evil-chain"],
        ["initiative", "show", "timber-reuse"],
        ["initiative", "list"],
        ["decisions", "--subject", "evil-chain"],
        ["audit", "history", "evil-chain"],
        ["programme", "progress", "mra-circular"],
        ["procurement", "roadmap"],
    ):
        result = runner.invoke(cli, ["--home", str(evil.home), *arguments])
        assert result.exit_code == 0, f"{arguments}: {result.output} {result.exception!r}"
    shown = runner.invoke(cli, ["--home", str(evil.home), "initiative", "show", "evil-chain"])
    assert f"evil-chain: {EVIL}" in shown.stdout, "the markup is shown, not obeyed"


def test_search_filters_are_values_not_sql(evil: Api) -> None:
    audrey = evil.as_("audrey")
    everything = evil.client.get("/api/decisions", headers=audrey).json()
    for text in ("' OR '1'='1", "%' --", "'; DELETE FROM decision_log; --", "_", "%"):
        found = evil.client.get("/api/decisions", params={"text": text}, headers=audrey)
        assert found.status_code == 200
        assert len(found.json()) < len(everything), text
    found = evil.client.get("/api/decisions", params={"text": "DROP TABLE"}, headers=audrey)
    assert {d["reason"] for d in found.json()} == {EVIL}
    for field in ("actor", "subject", "step"):
        answer = evil.client.get("/api/decisions", params={field: SQL}, headers=audrey)
        assert answer.json() == []
    again = evil.client.get("/api/decisions", headers=audrey).json()
    assert len(again) == len(everything), "nothing was deleted"
