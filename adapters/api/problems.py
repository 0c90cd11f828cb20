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
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from domain.errors import KringloopError

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
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Invalid input",
    429: "Too many requests",
    503: "Store unavailable",
}


def status_for(error: KringloopError) -> int:
    return STATUS_BY_CODE.get(error.code, 400)


def problem(status: int, detail: str, code: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"urn:kringloop:problem:{code}",
        "title": TITLES.get(status, "Refused"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


async def _refusal(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, KringloopError):
        raise error
    return problem(status_for(error), str(error), error.code)


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, RequestValidationError):
        raise error
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ())) or "input"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return problem(422, "invalid request: " + "; ".join(problems), "invalid")


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
    response = problem(error.status_code, str(error.detail), code)
    if error.headers:
        response.headers.update(error.headers)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(KringloopError, _refusal)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
