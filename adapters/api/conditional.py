"""Conditional and cached reads: an ETag on every read, 304 for a client that has it, and
the rendered bytes kept in memory while the read models stand still.

A read's answer depends on the read models' position, today's date (days in a stage, what is
overdue), the request (method, URL with its query, Accept and Accept-Language) and who asks
(the user and role; on a page also the session, whose CSRF token the forms carry, the page's
language and the last verify shown on the audit page). Those make the key; its digest is the
ETag. ``If-None-Match`` naming it answers 304 before any query runs, and a second request
with the same key gets the bytes the first one rendered. When the follower moves the
position every kept answer is forgotten (``PositionCache.clear``): the cache is invalidated
exactly, never by a timeout.

Answers carry ``Cache-Control: private, no-cache``: a browser may keep a copy but asks again
(with the ETag) before it shows it, and no shared cache keeps one (they are per user).
Only 200 answers are kept; a refusal or an error page is rendered each time.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.api.auth import Principal, principal
from domain.engine import today_in_programme_tz
from domain.messages import N_

if TYPE_CHECKING:
    from adapters.api.backend import Backend

POSITION_HEADER = "Kringloop-Position"
"""A command's answer names the position of its decision here; a read that sends it back
waits until the read models include that decision (read your writes)."""
POSITION_COOKIE = "kringloop_position"
"""The same for the pages: a form's decision sets it, so the page the browser is sent to
next shows the decision whichever worker answers (max. a minute: a position once reached
costs nothing to wait for)."""
CACHE_CONTROL = "private, no-cache"
KEEP = 512  # answers kept, the least recently used forgotten first
BUDGET = 64 * 1024 * 1024  # bytes kept in all
LARGEST = 2 * 1024 * 1024  # bytes: a larger answer (a big download) is not kept
_ETAG = "kringloop.etag"
_KEEP = "kringloop.keep"


@dataclass(frozen=True)
class Kept:
    """A rendered answer: its status, headers (as the ASGI message has them) and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class PositionCache:
    """A small LRU map, emptied whenever the read models' position moves; at most ``size``
    entries and ``budget`` bytes (as each entry's ``weight`` says)."""

    def __init__(self, size: int = KEEP, budget: int = BUDGET) -> None:
        self.size = size
        self.budget = budget
        self._found: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._found.get(key)
            if found is None:
                return None
            self._found.move_to_end(key)
            return found[0]

    def put(self, key: Any, value: Any, weight: int = 0) -> None:
        with self._lock:
            if key in self._found:
                self._weight -= self._found.pop(key)[1]
            self._found[key] = (value, weight)
            self._weight += weight
            while len(self._found) > self.size or self._weight > self.budget:
                self._weight -= self._found.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._found.clear()
            self._weight = 0

    def __len__(self) -> int:
        return len(self._found)


class NotModified(Exception):
    def __init__(self, etag: str) -> None:
        self.etag = etag


class Hit(Exception):
    def __init__(self, kept: Kept) -> None:
        self.kept = kept


def backend_of(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


def asks_for_position(request: Request) -> bool:
    return POSITION_HEADER.lower() in request.headers or POSITION_COOKIE in request.cookies


def read_position(request: Request) -> int:
    """The position this request reads at (-1: not following, each read catches up). With a
    ``Kringloop-Position`` header, first wait until the read models reach it: a bad value is
    400; a position not recorded yet (or one the read models cannot reach) is 503, with
    Retry-After. The pages' cookie of the same is waited for as far as it can be, else
    ignored (a cookie is sent to every port of the host: another server's position)."""
    side = backend_of(request).read_side
    asked = request.headers.get(POSITION_HEADER)
    strict = asked is not None
    if asked is None:
        asked = request.cookies.get(POSITION_COOKIE, "")
        if not asked.isdigit():
            return side.position
    try:
        wanted = int(asked)
    except ValueError:
        wanted = -1
    if wanted < 0:
        raise HTTPException(
            400, N_("Kringloop-Position must be a whole number (a command's answer)")
        )
    if 0 <= wanted <= side.position:
        return side.position
    if side.position >= 0 and wanted > backend_of(request).runner.head():
        if not strict:
            return side.position
        raise HTTPException(
            503, f"no decision is recorded at position {wanted} yet", {"Retry-After": "1"}
        )
    reached = side.wait_for(wanted)
    if reached < wanted and strict:
        raise HTTPException(
            503,
            f"the read models have not reached position {wanted} yet (they are at {reached})",
            {"Retry-After": "1"},
        )
    return side.position if side.following else reached


def conditional(request: Request, position: int, *parts: Any) -> None:
    """Name this answer (see the module's doc); 304 or the kept bytes when they will do."""
    if position < 0 or request.method != "GET" or request.url.path in NOT_KEPT:
        return
    backend = backend_of(request)
    key = (
        backend.etag_salt,
        position,
        today_in_programme_tz().isoformat(),
        str(request.url),
        request.headers.get("accept", ""),
        request.headers.get("accept-language", ""),
        *parts,
    )
    etag = f'W/"{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}"'
    if etag in _asked(request):
        raise NotModified(etag)
    kept = backend.responses.get(etag)
    if kept is not None:
        raise Hit(kept)
    request.scope[_ETAG] = etag
    request.scope[_KEEP] = backend.responses


def _asked(request: Request) -> set[str]:
    """The ETags of If-None-Match, weak or strong alike (RFC 9110: weak comparison)."""
    sent = request.headers.get("if-none-match")
    if not sent:
        return set()
    found = {tag.strip() for tag in sent.split(",")}
    return found | {f"W/{tag}" for tag in found if not tag.startswith("W/")}


async def api_read(
    request: Request,
    who: Annotated[Principal, Depends(principal)],
) -> None:
    """A dependency of the API's reads: wait for a position asked for, then answer
    conditionally, per user and role. Async: without a position to wait for it only hashes
    and looks up, so it takes no turn in the thread pool."""
    if asks_for_position(request):
        position = await run_in_threadpool(read_position, request)
    else:
        position = backend_of(request).read_side.position
    conditional(request, position, who.name, who.role.value)


NOT_KEPT = frozenset({"/api/audit/export", "/audit/export"})
"""Reads that sign and seal as they answer: rendered each time."""


# -- answering from the cache, and keeping answers -------------------------------------------


def _not_modified(request: Request, error: Exception) -> Response:
    if not isinstance(error, NotModified):
        raise error
    return Response(status_code=304, headers={"ETag": error.etag, "Cache-Control": CACHE_CONTROL})


def _hit(request: Request, error: Exception) -> Response:
    if not isinstance(error, Hit):
        raise error
    response = Response(error.kept.body, status_code=error.kept.status)
    response.raw_headers = list(error.kept.headers)
    return response


class KeptAnswers:
    """Adds the ETag and Cache-Control to a read named by ``conditional`` and keeps its
    bytes; sits inside the security headers and the session cookies, which are added to
    every answer, kept or not (and never kept themselves)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def keeping(message: Message) -> None:
            nonlocal start
            etag = scope.get(_ETAG)
            if message["type"] == "http.response.start" and etag:
                if message["status"] == 200:
                    extra = [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL.encode())]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
                    start = message
                else:
                    scope.pop(_ETAG, None)
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    content = b"".join(body)
                    if len(content) <= LARGEST:
                        cache: PositionCache = scope[_KEEP]
                        kept = Kept(200, list(start["headers"]), content)
                        cache.put(etag, kept, weight=len(content))
            await send(message)

        await self.app(scope, receive, keeping)


def install(app: FastAPI) -> None:
    """Answer 304 and kept answers; add the middleware that keeps them (call before the
    security headers and session cookies are added: they must wrap it)."""
    app.add_exception_handler(NotModified, _not_modified)
    app.add_exception_handler(Hit, _hit)
    app.add_middleware(KeptAnswers)


def new_salt() -> str:
    """Part of every ETag: a new app (a new version of the pages) never matches an ETag an
    earlier one gave, even at the same position."""
    return secrets.token_hex(8)
