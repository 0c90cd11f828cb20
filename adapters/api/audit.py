"""Audit over HTTP: an initiative's history, the record as of a date or version, the hash
chain checked on demand, and signed export bundles to download."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from adapters import tabular
from adapters.accounts.users import Role
from adapters.api.auth import Principal, principal, refused
from adapters.api.backend import Backend
from adapters.api.conditional import api_read
from adapters.api.downloads import TABLE_RESPONSES, FormatQuery, download, wanted
from adapters.audit import records
from domain.commands.base import Day
from domain.errors import InvalidCommandError, KringloopError
from domain.messages import N_
from domain.reading import InitiativeState

router = APIRouter(
    prefix="/api/audit", dependencies=[Depends(principal), Depends(api_read)], tags=["audit"]
)
PAGE = 20_000


class TamperedError(KringloopError):
    code = "tampered"


def backend(request: Request) -> Backend:
    result: Backend = request.app.state.backend
    return result


MAY_AUDIT = frozenset({Role.AUDITOR, Role.MANAGER})  # verify the whole store, export, seal


def require_may_audit(request: Request, who: Principal) -> None:
    """Verifying reads every event and exporting signs a bundle: auditors' and managers'
    work, never a broker's (403)."""
    if who.role not in MAY_AUDIT:
        raise refused(request, 403, f"role {who.role.value} may not verify or export", who.name)


def may_audit(request: Request, who: Annotated[Principal, Depends(principal)]) -> Principal:
    require_may_audit(request, who)
    return who


@router.get(
    "/initiatives/{initiative_id}/history",
    response_model=list[dict[str, Any]],
    responses=TABLE_RESPONSES,
)
def history(
    request: Request, initiative_id: str, export_format: FormatQuery = None
) -> list[dict[str, Any]] | Response:
    """Every decision on the initiative, with the mandate it was taken under."""
    lines = records.history(backend(request).engine, initiative_id)
    if chosen := wanted(request, export_format):
        return download(request, tabular.audit_history(initiative_id, lines), chosen)
    return [asdict(line) for line in lines]


@router.get("/initiatives/{initiative_id}/as-of", response_model=InitiativeState | None)
def as_of(
    request: Request,
    initiative_id: str,
    at: Day | None = None,
    by: Literal["recorded", "effective"] = "effective",
    version: Annotated[int | None, Query(ge=1)] = None,
) -> InitiativeState | None:
    """The initiative as it stood on a date (by effective or recorded time) or at a version;
    null if it did not exist yet."""
    if (at is None) == (version is None):
        raise InvalidCommandError(N_("give either at=YYYY-MM-DD or version=N"))
    current = backend(request)
    return records.as_of(
        current.engine, current.current_reads(), initiative_id, at=at, by=by, version=version
    )


def run_verify(current: Backend) -> dict[str, Any]:
    """Check the whole chain; remember the result for the audit page. Seals nothing."""
    from adapters.audit.verify import verify_store

    report, _ = verify_store(
        current.engine.recorder,
        current.settings.home,
        mapper=current.engine.mapper,
        settings=current.settings,
    )
    result = {**report.as_dict(), "checked_at": datetime.now(tz=UTC).isoformat(timespec="seconds")}
    current.remember_verify(result)
    return result


@router.post("/verify", dependencies=[Depends(may_audit)])
def verify(request: Request) -> dict[str, Any]:
    """Recompute every event's hash and chain link (auditors may run it: it writes nothing)."""
    return run_verify(backend(request))


def export_bundle(current: Backend, initiative_id: str | None) -> tuple[bytes, str]:
    """A signed bundle of one initiative's events (or all), as `kringloop audit export`:
    verified first, and the chain heads sealed if they moved. An unknown initiative is
    refused before any of that work."""
    from adapters.audit.export import export_record
    from adapters.audit.sealing import seal_verified
    from adapters.audit.verify import verify_store

    if initiative_id is not None:
        current.engine.initiative(initiative_id)  # NotFoundError: 404
    report, heads = verify_store(
        current.engine.recorder,
        current.settings.home,
        mapper=current.engine.mapper,
        settings=current.settings,
    )
    if not report.ok:
        raise TamperedError(N_("the store fails verification: run `kringloop audit verify`"))
    seal_verified(current.settings, report, heads)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.jsonl"
        export_record(current.engine, current.settings.home, path, initiative_id)
        return path.read_bytes(), f"{initiative_id or 'all'}.jsonl"


@router.get("/export", response_class=Response, dependencies=[Depends(may_audit)])
def export(request: Request, initiative_id: str | None = None) -> Response:
    """Download a signed export bundle (JSON lines), checkable offline with the public key."""
    body, name = export_bundle(backend(request), initiative_id)
    return Response(
        body,
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
