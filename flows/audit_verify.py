"""Audit verify, weekly: check the hash chain over every stored event, seal the chain heads
when it holds, and keep the result in the data folder. A broken chain fails the run."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from adapters.audit.sealing import seal_verified
from adapters.audit.verify import verify_store
from flows import runtime


@task(name="verify the chain", cache_policy=NO_CACHE)
def verify() -> dict[str, object]:
    settings = runtime.settings()
    home = settings.home
    report, heads = verify_store(
        runtime.engine().recorder, home, mapper=runtime.engine().mapper, settings=settings
    )
    seal_verified(settings, report, heads)
    result = {"checked_at": datetime.now(tz=UTC).isoformat(), **report.as_dict()}
    folder = home / "audit" / "verify"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{result['checked_at'].replace(':', '-')}.json").write_text(json.dumps(result))
    return result


@flow(name="audit-verify")
def audit_verify() -> dict[str, object]:
    """Verify the record; the run fails, naming the problems, if it was tampered with."""
    runtime.bind_run()
    result = verify()
    if not result["ok"]:
        raise RuntimeError(f"audit verify found problems: {result['problems']}")
    runtime.log.info("audit verified", verdict=result["verdict"], summary=result["summary"])
    return result
