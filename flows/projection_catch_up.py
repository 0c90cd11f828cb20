"""Projection catch-up: bring the read models up to the newest event, then seal the chain
heads that moved (adapters.audit.sealing). Scheduled every minute, and run at the end of
the broker workflows."""

from __future__ import annotations

from prefect import flow

from flows import runtime


@runtime.retried("catch up read models")
def catch_up() -> int:
    from adapters.audit.sealing import auto_seal

    applied = runtime.runner().catch_up()
    runtime.log.info("caught up", applied=applied)
    auto_seal(runtime.engine(), runtime.settings())
    return applied


@flow(name="projection-catch-up")
def projection_catch_up() -> dict[str, int]:
    """Apply every event recorded since the read models' position."""
    runtime.bind_run()
    applied = catch_up()
    status = runtime.runner().status()
    return {"applied": applied, "position": status.position, "lag": status.lag}
