"""One of the processes `kringloop api --workers N` starts. uvicorn spawns each afresh, so it
sets logging up as the command line set it for itself (from the settings the command passed
on in the environment) and then builds the app. Whatever one request leaves for a later one
(sessions, the login throttle's counts, the single sign-on key) is in the database or the
data folder, so any worker may answer any request."""

from __future__ import annotations

import os

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.api.app import create_app
from adapters.logs import configure_logging
from adapters.settings import ETAG_SALT, Settings

WORKER_HEADER = "x-kringloop-worker"  # the process id of the worker that answered


def create_worker_app() -> FastAPI:
    """The app as one of several workers serves it (uvicorn's ``factory``)."""
    settings = Settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    if salt := os.environ.get(ETAG_SALT):  # every worker's ETags alike (adapters.cli.api)
        app.state.backend.etag_salt = salt
    app.add_middleware(AnsweredBy)
    return app


class AnsweredBy:
    """Names the worker that answered, so an operator (or a test) can tell them apart."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pid = str(os.getpid())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(WORKER_HEADER, self.pid)
            await send(message)

        await self.app(scope, receive, sending)
