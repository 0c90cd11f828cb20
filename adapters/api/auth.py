"""Bearer tokens, roles and what each role may decide; every refusal is logged (no token)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine as SQLEngine
from sqlalchemy import select

from adapters.accounts.oidc_links import linked_user
from adapters.accounts.users import Role, UserRow, token_hash, user_by_token
from adapters.api import oidc
from adapters.api.throttle import LoginThrottle, retry_after
from adapters.logs import get_logger
from domain.commands.base import Command
from domain.engine import Engine, today_in_programme_tz

log = get_logger("kringloop.api.auth")
bearer = HTTPBearer(auto_error=False, description="a token from `kringloop users add`")

MAY_RUN: dict[Role, frozenset[str]] = {
    # the engine also checks a broker's mandate on the stream at the effective date
    Role.BROKER: frozenset({"initiative"}),
    Role.MANAGER: frozenset({"programme", "initiative", "commitment", "community", "authority"}),
    Role.AUDITOR: frozenset(),  # auditors read and export, never write
    # the engine checks that the commitment is the organisation's own
    Role.ORGANISATION: frozenset({"commitment"}),
}


@dataclass(frozen=True)
class Principal:
    """The authenticated user: the actor of every decision they make."""

    name: str
    role: Role

    def may_run(self, command: type[Command]) -> bool:
        return command.group in MAY_RUN[self.role]


ROLE_ORDER = (
    Role.MANAGER,
    Role.AUDITOR,
    Role.BROKER,
    Role.ORGANISATION,
)  # the widest a user holds, first


def principal_of(user: UserRow | Holder, engine: Engine) -> Principal:
    """The one place a user's role is looked up, for the API and the pages alike: the role
    the record grants the identity today (the authority register, ``kringloop authority
    grant-role``). Only a store without a register (from before roles were recorded) goes by
    the role the token was issued with; in one with a register, an identity that holds no
    role today has none and is refused."""
    register = engine.register()
    if register is None:
        return Principal(user.name, Role(user.role))
    held = register.roles_of(user.name, engine.clock())
    role = next((r for r in ROLE_ORDER if r.value in held), None)
    if role is None:
        raise HTTPException(
            status_code=403,
            detail=f"'{user.name}' holds no role today (kringloop authority grant-role)",
        )
    return Principal(user.name, role)


@dataclass(frozen=True)
class Holder:
    """Whom a token was issued to (a row of the users table, as far as a request needs it)."""

    name: str
    role: str


def token_user(engine: SQLEngine, token: str) -> Holder | None:
    """``users.user_by_token`` in one Core query: an ORM session per request was the top
    cost of a read answered from the cache (profiled: half its time)."""
    wanted = token_hash(token)
    table = UserRow.__table__  # type: ignore[attr-defined]
    query = select(table.c.name, table.c.role, table.c.token_sha256, table.c.revoked_at)
    with engine.connect() as conn:
        row = conn.execute(query.where(table.c.token_sha256 == wanted)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_sha256, wanted):
        return None
    return Holder(row.name, row.role)


def request_principal(request: Request, user: UserRow | Holder) -> Principal:
    """``principal_of`` for this request. A read (GET) looks the role up once per user and
    position of the read models (and day): the register it comes from changes only by a
    recorded decision, which moves the position; a decision always looks it up afresh."""
    backend = request.app.state.backend
    side = backend.read_side
    if request.method != "GET" or not side.following:
        return principal_of(user, backend.engine)
    key = (user.name, user.role, side.position, today_in_programme_tz())
    found: Principal | None = backend.principals.get(key)
    if found is None:
        found = principal_of(user, backend.engine)
        backend.principals.put(key, found)
    return found


def refused(
    request: Request,
    status: int,
    detail: str,
    who: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPException:
    """Log a refused attempt (never the token) and build the error to raise."""
    log.warning(
        "access refused",
        status=status,
        method=request.method,
        path=request.url.path,
        user=who,
        client=request.client.host if request.client else None,
        detail=detail,
    )
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return HTTPException(status_code=status, detail=detail, headers=headers)


def client_key(request: Request, door: str) -> str:
    """What failed attempts are counted against: the door and the client's address."""
    return f"{door}:{request.client.host if request.client else 'unknown'}"


def throttle(request: Request) -> LoginThrottle:
    found: LoginThrottle = request.app.state.throttle
    return found


_PRINCIPAL = "kringloop.principal"


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The user behind the bearer token, or 401; an unknown token gets 429 instead while its
    address (or every address: the global budget) must wait. A valid token is accepted even
    then (looked up first: one hash and an indexed lookup, whatever the token), so guessing
    from an address does not lock out that address's valid users (``adapters.api.throttle``).
    Looked up once per request (a command's route asks before its dependencies do)."""
    found: Principal | None = request.scope.get(_PRINCIPAL)
    if found is None:
        found = request.scope[_PRINCIPAL] = _principal(request, credentials)
    return found


def _principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise refused(request, 401, "a bearer token is required")
    key, guard = client_key(request, "api"), throttle(request)
    known = token_user(request.app.state.backend.read_store.engine, credentials.credentials)
    if known is not None:
        return request_principal(request, known)
    wait = guard.wait(key)
    if wait:
        raise refused(
            request,
            429,
            f"too many unknown tokens from this address: retry in {retry_after(wait)} s",
            headers={"Retry-After": retry_after(wait)},
        )
    if oidc.looks_like_jwt(credentials.credentials):
        return provider_principal(request, credentials.credentials, key, guard)
    user = user_by_token(request.app.state.backend.read_store.engine, credentials.credentials)
    if user is None:
        guard.failed(key)
        raise refused(request, 401, "unknown or revoked token")
    guard.succeeded(key)
    return principal_of(user, request.app.state.backend.engine)


def provider_principal(request: Request, token: str, key: str, guard: LoginThrottle) -> Principal:
    """The user a manager linked to the subject of this access token from the OpenID
    provider, once the token passes every check (``adapters.api.oidc``)."""
    provider = oidc.provider_of(request.app)
    if provider is None:
        guard.failed(key)
        raise refused(request, 401, "a provider token, but no OpenID provider is configured")
    try:
        claims = provider.verify(token, audience=provider.config.api_audience)
    except oidc.ProviderUnavailable as error:
        raise refused(request, 503, str(error)) from None
    except oidc.TokenRefused as error:
        guard.failed(key)
        raise refused(request, 401, f"provider token refused: {error}") from None
    found = linked_user(request.app.state.backend.read_store.engine, claims["iss"], claims["sub"])
    if found is None:
        raise refused(
            request, 403, f"subject {claims['sub']!r} of {claims['iss']} is linked to no user"
        )
    guard.succeeded(key)
    return principal_of(found[0], request.app.state.backend.engine)


def require_may_run(request: Request, who: Principal, command: type[Command]) -> None:
    if not who.may_run(command):
        raise refused(
            request,
            403,
            f"role {who.role.value} may not run {command.command} ({command.group} commands)",
            who.name,
        )
