"""The one wiring point of the HTTP side: `create_app(settings)` builds the API and pages."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from adapters.api import audit, conditional, problems, reads
from adapters.api.backend import Backend
from adapters.api.commands import command_router
from adapters.api.headers import SecurityHeaders, mount_docs
from adapters.api.limits import MAX_BODY_BYTES, BodyLimit
from adapters.api.throttle import LoginThrottle
from adapters.bootstrap import bootstrap
from adapters.settings import Settings


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], float] = time.monotonic,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """Build the app; the stores open on first use and close when the server stops.
    ``clock`` times the login throttle, whose counts every worker shares in the read store's
    database (monotonic seconds are one host's own: it then goes by the wall clock)."""
    # logging stays as the process that serves the app set it (`kringloop api`, a test)
    backend = bootstrap(settings, logs="kept", kind=Backend)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # the read models caught up before the first request, then kept current meanwhile
        await run_in_threadpool(backend.read_side.start)
        try:
            yield
        finally:
            await run_in_threadpool(backend.read_side.stop)
            backend.close()

    app = FastAPI(
        title="Kringloop",
        summary="Brokers decide, managers run the programme, auditors read and replay.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's docs pages load Swagger UI and ReDoc from a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.backend = backend
    app.state.throttle = LoginThrottle(clock, database=lambda: backend.read_store.engine)
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    conditional.install(app)  # inside the session cookies and security headers added below

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, str]:
        """Answers without a token: the server is up."""
        return {"status": "ok"}

    app.include_router(reads.router)  # the reads first: a GET is matched in fewer steps
    app.include_router(audit.router)
    app.include_router(command_router())
    from adapters.api.web import mount_web

    mount_web(app, backend)
    mount_docs(app)
    app.add_middleware(SecurityHeaders)
    if backend.settings.trusted_proxies:  # outermost: the client and scheme for all else
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=backend.settings.trusted_proxies)
    return app
