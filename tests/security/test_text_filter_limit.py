"""Free-text filters have one documented maximum length (`projections.queries.MAX_FILTER`,
200 characters); above it every door refuses with a clear message instead of failing
inside the database (SQLite's LIKE pattern limit made a 50,000-character `text` a 500)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from adapters.cli.app import app as cli
from domain.errors import InvalidCommandError
from projections import queries
from projections.store import ReadStore
from tests.security.conftest import Api, log_in

HUGE = "x" * 50_000
AT_LIMIT = "y" * 200

API_FILTERS = [
    ("/api/decisions", "text"),
    ("/api/decisions", "actor"),
    ("/api/decisions", "step"),
    ("/api/decisions", "subject"),
    ("/api/initiatives", "stream"),
    ("/api/initiatives", "sub_stream"),
    ("/api/initiatives", "broker"),
    ("/api/preconditions", "initiative_id"),
    ("/api/preconditions", "responsible"),
    ("/api/preconditions", "status"),
    ("/api/pipeline", "programme_id"),
]


def test_the_limit_is_200_characters() -> None:
    assert queries.MAX_FILTER == 200


def test_a_50000_character_text_filter_is_422_not_500(api: Api) -> None:
    response = api.client.get("/api/decisions", params={"text": HUGE}, headers=api.as_("audrey"))
    assert response.status_code == 422, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "200" in response.json()["detail"]


@pytest.mark.parametrize(("path", "name"), API_FILTERS)
def test_every_api_text_filter_refuses_one_character_over_the_limit(
    api: Api, path: str, name: str
) -> None:
    over = api.client.get(path, params={name: "z" * 201}, headers=api.as_("audrey"))
    assert over.status_code == 422, f"{path}?{name}: {over.status_code}"
    at = api.client.get(path, params={name: AT_LIMIT}, headers=api.as_("audrey"))
    assert at.status_code == 200, f"{path}?{name}: {at.text[:300]}"


@pytest.mark.parametrize(
    "arguments",
    [
        ["decisions", "--text", HUGE],
        ["decisions", "--actor", HUGE],
        ["decisions", "--step", HUGE],
        ["decisions", "--subject", HUGE],
        ["initiative", "list", "--stream", HUGE],
        ["initiative", "list", "--sub-stream", HUGE],
        ["initiative", "list", "--broker", HUGE],
        ["preconditions", "--initiative", HUGE],
        ["preconditions", "--responsible", HUGE],
        ["preconditions", "--status", HUGE],
    ],
)
def test_every_cli_text_filter_refuses_over_the_limit(api: Api, arguments: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--home", str(api.home), *arguments])
    assert result.exit_code == 2, result.output[-500:]
    assert "at most 200 characters" in result.output
    assert HUGE not in result.output, "the refusal does not echo 50,000 characters"


def test_the_cli_takes_a_text_at_the_limit(api: Api) -> None:
    result = CliRunner().invoke(
        cli, ["--home", str(api.home), "decisions", "--text", AT_LIMIT, "--json"]
    )
    assert result.exit_code == 0, result.output[-500:]


def test_the_query_itself_refuses_an_overlong_text(api: Api) -> None:
    """Whatever door forgets to check, the query refuses before SQLite sees the pattern."""
    reads = ReadStore(f"sqlite:///{api.home / 'read.sqlite'}")
    try:
        with pytest.raises(InvalidCommandError, match="at most 200 characters"):
            queries.decision_log(reads, text=HUGE)
    finally:
        reads.close()


def test_the_pipeline_page_refuses_an_overlong_stream(api: Api) -> None:
    log_in(api.client, api.tokens["audrey"])
    assert api.client.get("/pipeline", params={"stream": AT_LIMIT}).status_code == 200
    assert api.client.get("/pipeline", params={"stream": HUGE}).status_code == 422
