"""Every table endpoint of the API answers CSV or XLSX on request, with the JSON's rows."""

from __future__ import annotations

import pytest

from adapters.exports import XLSX_MEDIA_TYPE
from domain.engine import today_in_programme_tz
from tests.api.conftest import Api
from tests.exports.sheets import VIEWS, View, csv_rows, xlsx_rows


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_format_csv_gives_the_rows_of_the_json(api: Api, view: View) -> None:
    headers = api.as_("audrey")
    found = api.client.get(view.api, params=view.api_params, headers=headers)
    assert found.headers["content-type"].startswith("application/json")
    answer = api.client.get(view.api, params={**view.api_params, "format": "csv"}, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    name = f"{view.file_stem}-{today_in_programme_tz().isoformat()}.csv"
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}"'
    view.check(found.json(), csv_rows(answer.content))


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_format_xlsx_gives_the_rows_of_the_json(api: Api, view: View) -> None:
    headers = api.as_("audrey")
    found = api.client.get(view.api, params=view.api_params, headers=headers).json()
    answer = api.client.get(view.api, params={**view.api_params, "format": "xlsx"}, headers=headers)
    assert answer.headers["content-type"] == XLSX_MEDIA_TYPE
    assert answer.headers["content-disposition"].endswith('.xlsx"')
    view.check(found, xlsx_rows(answer.content))


@pytest.mark.parametrize(
    ("accept", "starts"),
    [
        ("text/csv", b"\xef\xbb\xbf"),
        (XLSX_MEDIA_TYPE, b"PK"),
        ("application/json", b"["),
        ("*/*", b"["),
        ("application/json, text/csv", b"["),
        ("text/csv;q=0.9, application/json;q=0.5", b"\xef\xbb\xbf"),
    ],
)
def test_the_accept_header_picks_the_format_and_json_stays_the_default(
    api: Api, accept: str, starts: bytes
) -> None:
    headers = {**api.as_("broker-bas"), "Accept": accept}
    answer = api.client.get("/api/preconditions", headers=headers)
    assert answer.status_code == 200
    assert answer.content.startswith(starts)


def test_an_unknown_format_is_refused_as_invalid_input(api: Api) -> None:
    answer = api.client.get("/api/decisions", params={"format": "pdf"}, headers=api.as_("audrey"))
    assert answer.status_code == 422


def test_the_history_of_an_unknown_initiative_is_not_found_in_any_format(
    api: Api,
) -> None:
    answer = api.client.get(
        "/api/audit/initiatives/nowhere/history",
        params={"format": "csv"},
        headers=api.as_("audrey"),
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_an_export_needs_a_token_like_the_json(api: Api) -> None:
    assert api.client.get("/api/pipeline", params={"format": "csv"}).status_code == 401


def test_the_openapi_document_names_the_csv_and_xlsx_answers(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for view in VIEWS:
        path = view.api.replace("diaper-recycling", "{initiative_id}")
        operation = paths[path.replace("mra-circular", "{programme_id}")]["get"]
        assert set(operation["responses"]["200"]["content"]) == {
            "application/json",
            "text/csv",
            XLSX_MEDIA_TYPE,
        }
        formats = [p for p in operation["parameters"] if p["name"] == "format"]
        assert formats, view.api
