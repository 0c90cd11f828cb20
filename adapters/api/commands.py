"""A POST endpoint for every command in the catalogue, at its name (and, deprecated, at
each name it had before); the authenticated user is the actor, or, for a late entry naming
who decided (``decided_by``), the one who recorded it."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from adapters.api.auth import Principal, bearer, principal, require_may_run
from adapters.api.backend import Backend
from adapters.api.conditional import POSITION_HEADER
from adapters.commanding import execute
from domain.commands.base import Command, Name, Outcome
from domain.commands.catalogue import CATALOGUE, command_class, validate_command

NOT_FROM_CLIENT = {"actor", "recorded_by", "command_id"}  # the principal; the header names the id
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="the command id: the same key twice records the decision once",
    ),
]


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            POSITION_HEADER: {
                "description": "the decision's position: send it back on a read to see it",
                "schema": {"type": "integer"},
            }
        }
    },
    401: {"description": "no or unknown token"},
    403: {"description": "the role may not run it, or no mandate"},
    404: {"description": "not found"},
    409: {"description": "conflicts with the record as it stands"},
    422: {"description": "invalid input"},
}


def body_model(cls: type[Command]) -> type[BaseModel]:
    """The request body of a command: its fields without the actor and the command id."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in cls.model_fields.items()
        if name not in NOT_FROM_CLIENT
    }
    fields["decided_by"] = (
        Name | None,
        Field(
            default=None,
            description="a late entry: who took the decision (authorised on the effective "
            "date), when that is not you; you are recorded as who entered it (authorised today)",
        ),
    )
    return create_model(
        f"{cls.__name__}Request",
        __config__=ConfigDict(extra="forbid", title=f"{cls.command} request"),
        __doc__=cls.__doc__,
        **fields,
    )


def run_command(
    backend: Backend, who: Principal, cls: type[Command], fields: dict[str, Any], key: str | None
) -> tuple[Outcome, int]:
    """Validate, execute as the principal, and wait until the read models include it (the
    app's follower applies it, woken now); return the outcome and the decision's position,
    for the ``Kringloop-Position`` header (a replay: the latest position, which includes
    the first time)."""
    decided_by = fields.pop("decided_by", None)
    payload = {**fields, "actor": decided_by or who.name}
    if decided_by and decided_by != who.name:
        payload["recorded_by"] = who.name  # whoever holds the token records, always
    if key:
        payload["command_id"] = key
    command = validate_command(cls, payload)
    outcome = execute(backend.engine, command)
    position = outcome.notification_id
    if position is None:
        position = backend.runner.head()
    backend.read_side.wait_for(position)
    if backend.sealing.acquire(blocking=False):  # one seal at a time: another seals for us
        try:
            from adapters.audit.sealing import auto_seal

            auto_seal(backend.engine, backend.settings)
        finally:
            backend.sealing.release()
    return outcome, position


def _permitted(cls: type[Command]) -> Any:
    """The principal, as checked by `CommandRoute` before the body was read."""

    def check(request: Request, who: Annotated[Principal, Depends(principal)]) -> Principal:
        require_may_run(request, who, cls)
        return who

    return check


class CommandRoute(APIRoute):
    """A command's route: the token and the role are checked before FastAPI reads and
    parses the body, so an auditor gets 403 even for malformed JSON (FastAPI parses the
    body before it runs any dependency)."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()
        cls = command_class(self.path.rsplit("/", 1)[-1])

        async def refuse_first(request: Request) -> Response:
            who = await run_in_threadpool(principal, request, await bearer(request))
            require_may_run(request, who, cls)
            response: Response = await handler(request)
            return response

        return refuse_first


def _endpoint(cls: type[Command], body: type[BaseModel]) -> Any:
    def endpoint(
        request: Request, response: Response, who: Principal, payload: BaseModel, key: str | None
    ) -> Outcome:
        fields = payload.model_dump(exclude_unset=True)
        outcome, position = run_command(request.app.state.backend, who, cls, fields, key)
        response.headers[POSITION_HEADER] = str(position)
        return outcome

    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
            ),
            inspect.Parameter(
                "response", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Response
            ),
            inspect.Parameter(
                "who",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=Annotated[Principal, Depends(_permitted(cls))],
            ),
            inspect.Parameter("payload", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=body),
            inspect.Parameter(
                "key",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=IdempotencyKey,
                default=None,
            ),
        ]
    )
    endpoint.__name__ = cls.command.replace("-", "_")
    return endpoint


def command_router() -> APIRouter:
    router = APIRouter(prefix="/api/commands", route_class=CommandRoute)
    for cls in CATALOGUE.values():
        endpoint, summary = _endpoint(cls, body_model(cls)), _summary(cls)
        for name in (cls.command, *cls.former_names):
            deprecated = name != cls.command
            router.add_api_route(
                f"/{name}",
                endpoint,
                methods=["POST"],
                response_model=Outcome,
                summary=f"{summary} (deprecated: use {cls.command})" if deprecated else summary,
                tags=[f"commands: {cls.group}"],
                operation_id=f"command_{name.replace('-', '_')}",
                deprecated=deprecated,
                responses=RESPONSES,
            )
    return router


def _summary(cls: type[Command]) -> str:
    return (cls.__doc__ or cls.command).strip().splitlines()[0]
