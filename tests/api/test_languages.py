"""A refused command answers in the language Accept-Language asks for (Dutch by default),
with the language-independent fields a script reads: type, code and message_id."""

from __future__ import annotations

import pytest
from httpx import Response

from tests.api.conftest import Api

FORM = {"initiative_id": "timber-reuse", "reason": "all set"}
ENGLISH = "cannot form consortium: 1 precondition still open: guaranteed volume (demolition-volume)"
DUTCH = (
    "het consortium vormen kan niet: er staat nog 1 randvoorwaarde open: "
    "gegarandeerd volume (demolition-volume)"
)


def form_consortium(api: Api, accept_language: str | None) -> Response:
    headers = api.as_("broker-bas")
    if accept_language is not None:
        headers["Accept-Language"] = accept_language
    return api.client.post("/api/commands/form-consortium", json=FORM, headers=headers)


@pytest.mark.parametrize(
    ("accept_language", "lang", "title", "detail"),
    [
        ("nl", "nl", "Conflict", DUTCH),
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl", "Conflict", DUTCH),
        (None, "nl", "Conflict", DUTCH),  # Dutch first
        ("fr", "nl", "Conflict", DUTCH),
        ("en", "en", "Conflict", ENGLISH),
        ("en-GB,en;q=0.9,nl;q=0.5", "en", "Conflict", ENGLISH),
    ],
)
def test_a_refusal_answers_in_the_language_asked_for(
    api: Api, accept_language: str | None, lang: str, title: str, detail: str
) -> None:
    response = form_consortium(api, accept_language)
    assert response.status_code == 409
    assert response.headers["content-language"] == lang
    body = response.json()
    assert body["detail"] == detail
    assert body["title"] == title
    # what a script reads is the same in every language
    assert body["type"] == "urn:kringloop:problem:preconditions_open"
    assert body["code"] == "preconditions_open"
    assert body["message_id"] == "cannot {action}: 1 precondition still open: {unresolved}"


def test_the_title_of_a_problem_is_translated_too(api: Api) -> None:
    body = {**FORM, "initiative_id": "no-such-initiative"}
    for lang, title, detail in (
        ("nl", "Niet gevonden", "initiatief 'no-such-initiative' bestaat niet"),
        ("en", "Not found", "no initiative 'no-such-initiative'"),
    ):
        headers = {**api.as_("broker-bas"), "Accept-Language": lang}
        response = api.client.post("/api/commands/form-consortium", json=body, headers=headers)
        assert response.status_code == 404
        problem = response.json()
        assert (problem["title"], problem["detail"], problem["code"]) == (
            title,
            detail,
            "not_found",
        )
        assert problem["message_id"] == "no {kind} '{slug}'"


def test_a_refusal_resting_on_another_reads_whole_in_dutch(api: Api) -> None:
    """Nested words (the step, the stage, a refusal within a refusal) are Dutch as well."""
    headers = {**api.as_("broker-bas"), "Accept-Language": "nl"}
    response = api.client.post(
        "/api/commands/start-expert-scan",
        json={"initiative_id": "timber-reuse", "reason": "again"},
        headers=headers,
    )
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail.startswith("het expertonderzoek starten kan niet: initiatief 'timber-reuse'")
    assert "staat in de fase randvoorwaarden vervullen, niet in voorgesteld" in detail
