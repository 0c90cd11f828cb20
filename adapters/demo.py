"""The demo's scenarios, and the programme dashboard's figures once one is loaded: targets
against progress, the pipeline per stream, the procurement roadmap, the phase status. The
CLI loads and shows them (adapters.cli.demo); nothing here knows a door."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

from adapters.store import Stores
from projections import queries
from projections.figures import (
    DEMONSTRATION_NOTE,
    headline_figures,
    is_demonstration,
)
from projections.procurement import category_totals, community_activity, monitor_figures, roadmap
from projections.progress import programme_progress
from projections.store import ReadStore
from projections.tables import ProgrammeRow

PROGRAMME = "mra-circular"
SCENARIOS = ("regional", "first-steps")


def scenario_path(name: str = "regional") -> Path:
    return Path(str(resources.files("adapters") / "scenarios" / f"{name}.jsonl"))


def wipe_stores(home: Path) -> None:
    for name in ("events.sqlite", "read.sqlite"):
        for suffix in ("", "-wal", "-shm"):
            (home / f"{name}{suffix}").unlink(missing_ok=True)
    from adapters.audit.verify import seals_folder

    for sealed in seals_folder(home).glob("*.json"):  # they sealed the store just wiped
        sealed.unlink()
    for checkpoint in (home / "checkpoints").glob("*.sqlite"):  # as of dates of that store
        checkpoint.unlink()
    for suffix in ("", "-wal", "-shm", "-journal"):  # the personal data's keys of that store
        (home / "privacy" / f"keys.sqlite{suffix}").unlink(missing_ok=True)


def dashboard_data(reads: ReadStore, until: int) -> dict[str, Any]:
    """Every figure of the dashboard, computed by the read models from the events."""
    from sqlmodel import Session

    with Session(reads.engine) as db:
        row = db.get(ProgrammeRow, PROGRAMME)
        phases = json.loads(row.phases) if row else {}
    lines = roadmap(reads, PROGRAMME, until)
    latest = Counter(line.latest_status for line in lines)
    board = queries.pipeline(reads, PROGRAMME)
    return {
        **monitor_figures(reads, PROGRAMME).model_dump(),
        "demonstration_note": DEMONSTRATION_NOTE if is_demonstration(reads, PROGRAMME) else None,
        "figures": [f.model_dump() for f in headline_figures(reads, PROGRAMME)],
        "phases": phases,
        "targets": [t.model_dump(mode="json") for t in programme_progress(reads, PROGRAMME)],
        "pipeline": {
            row.stream: {**row.counts, "stalled": len(row.stalled), "abandoned": len(row.abandoned)}
            for row in board.rows
        },
        "roadmap_latest_status": dict(latest),
        "categories": [c.model_dump() for c in category_totals(reads, PROGRAMME)],
        "communities": [c.model_dump() for c in community_activity(reads, PROGRAMME)],
    }


def dashboard(current: Stores) -> dict[str, Any]:
    """The dashboard of a freshly loaded store, its read models caught up and its chain
    sealed (the demo ends sealed), with every initiative's stage."""
    from adapters.audit.sealing import auto_seal
    from projections.procurement import this_year

    reads = current.fresh_reads()
    auto_seal(current.engine, current.settings, force=True)
    data = dashboard_data(reads, this_year() - 1)
    data["initiatives"] = [
        {"id": s.id, "stage": s.stage, "status": s.status, "version": s.version}
        for s in queries.list_initiatives(reads, current.engine.clock())
    ]
    return data
