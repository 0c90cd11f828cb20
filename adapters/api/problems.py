"""Errors as application/problem+json (RFC 9457), with the CLI's own messages.

How refusals map to status codes:
- 422 invalid input: InvalidCommandError, request validation, shares that do not add up,
  an effective date in the future;
- 404 not found; 403 no mandate (and a role that may not run the command);
- 409 the request conflicts with the record as it stands: concurrency conflict, already
  exists, command id reused, wrong stage, not active, preconditions open, consortium
  incomplete, other lifecycle rules;
- 503 the store cannot be opened; 400 any other refusal;
- 413 a request body over the limit (adapters.api.limits), 429 too many failed logins or
  unknown tokens from one address (adapters.api.throttle), with Retry-After.

The language: a problem answers in the language ``Accept-Language`` prefers of Dutch and
English, Dutch when it names neither (``adapters.i18n.negotiate``), and says which in
``Content-Language``. ``title`` and ``detail`` are in that language (the English ``detail``
of a refusal is its own text, word for word as the logs and the CLI have it); what a script reads
does not depend on it: ``type`` and ``code`` (the refusal's kind), and for a refusal of the
engine ``message_id``, the English template it was worded from (the catalogue's message
id, stable across languages and releases). A script that wants the English words asks
with ``Accept-Language: en``. Text without a message id (a proxy's or the framework's
words, a validation error's field messages) stays as it is.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from adapters.i18n import negotiate, translator
from domain.errors import KringloopError, Message, localise
from domain.messages import N_

MEDIA_TYPE = "application/problem+json"
STATUS_BY_CODE = {
    "invalid": 422,
    "shares": 422,
    "effective_date": 422,
    "not_found": 404,
    "no_mandate": 403,
    "no_authority": 403,
    "conflict": 409,
    "already_exists": 409,
    "command_id_reused": 409,
    "wrong_stage": 409,
    "not_active": 409,
    "preconditions_open": 409,
    "consortium_incomplete": 409,
    "rule": 409,
    "storage": 503,
}
TITLES = {
    400: N_("Bad request"),
    401: N_("Not authenticated"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Content too large"),
    422: N_("Invalid input"),
    429: N_("Too many requests"),
    503: N_("Store unavailable"),
}
REFUSED = N_("Refused")


def status_for(error: KringloopError) -> int:
    return STATUS_BY_CODE.get(error.code, 400)


def problem(status: int, detail: str, code: str, lang: str = "en", **extra: Any) -> JSONResponse:
    """A problem document; ``detail`` already in ``lang``, the title put in it here."""
    body = {
        "type": f"urn:kringloop:problem:{code}",
        "title": translator(lang).gettext(TITLES.get(status, REFUSED)),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(
        body, status_code=status, media_type=MEDIA_TYPE, headers={"Content-Language": lang}
    )


def language(request: Request) -> str:
    """The language a problem answers in: Accept-Language's choice, Dutch by default."""
    return negotiate(request.headers.get("accept-language"))


async def _refusal(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, KringloopError):
        raise error
    lang = language(request)
    return problem(
        status_for(error),
        translator(lang).refusal(error),
        error.code,
        lang,
        message_id=error.message_id,
    )


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, RequestValidationError):
        raise error
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ())) or "input"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    lang = language(request)
    detail = Message(N_("invalid request: {problems}"), problems="; ".join(problems))
    return problem(422, localise(detail, translator(lang)), "invalid", lang)


async def _http(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, HTTPException):
        raise error
    code = {
        400: "bad_request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        429: "throttled",
    }.get(error.status_code, "http")
    lang = language(request)
    detail = str(error.detail)
    if detail:  # the framework's words, or ours where a catalogue has them
        detail = translator(lang).gettext(detail)
    response = problem(error.status_code, detail, code, lang)
    if error.headers:
        response.headers.update(error.headers)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(KringloopError, _refusal)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
