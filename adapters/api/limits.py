"""Request bodies above a limit are refused with 413 before they are read into memory."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.api.problems import problem

MAX_BODY_BYTES = 1024 * 1024
"""1 MiB: the largest command the catalogue accepts (fifty 500-character references and a
4,000-character text) is a small fraction of it."""


class BodyLimit:
    """Refuse a body larger than ``max_bytes``: at once when Content-Length says so, or as
    soon as a streamed (chunked) body passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def detail(self) -> str:
        return f"request body too large: at most {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await problem(413, self.detail(), "too_large")(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # raised inside the route: the app's handler answers it as problem+json
                    raise HTTPException(413, self.detail())
            return message

        await self.app(scope, counted, send)
