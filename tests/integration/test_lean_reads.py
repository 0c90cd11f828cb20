"""The read-side queries answer the same through either door to the read models: the read
store's SQLAlchemy engine, or the SQLite file opened read-only by the standard library (what
the command line reads with when the read models are caught up)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from adapters.bootstrap import Kringloop, bootstrap
from adapters.commanding import apply_lines
from adapters.demo import scenario_path
from adapters.settings import Settings
from domain.commands.catalogue import parse_command
from projections import queries
from projections.rows import PROJECTION, SQLiteRows, events_head, schema_mark
from projections.store import ReadStore
from projections.tables import DecisionRow, InitiativeRow

TODAY = date(2021, 3, 1)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kringloop]:
    """An SQLite home holding the first-steps scenario, its read models caught up."""
    home = tmp_path_factory.mktemp("lean-reads")
    wired = bootstrap(Settings(home=home, database_url=None, log_level="warning"), logs="kept")
    lines = [
        (n, lambda raw=raw: parse_command(json.loads(raw)))
        for n, raw in enumerate(scenario_path("first-steps").read_bytes().splitlines(), 1)
        if raw.strip() and not raw.lstrip().startswith(b"#")
    ]
    assert apply_lines(wired.engine, lines).stopped is None
    wired.fresh_reads()
    yield wired
    wired.close()


@pytest.fixture
def doors(stores: Kringloop) -> Iterator[tuple[ReadStore, SQLiteRows]]:
    lean = SQLiteRows(stores.settings.home / "read.sqlite")
    yield stores.read_store, lean
    lean.close()


def same(doors: tuple[ReadStore, SQLiteRows], query: Any, *args: Any, **kwargs: Any) -> Any:
    """The query's answer through both doors, which must be equal and not empty."""
    through_sqlalchemy = query(doors[0], *args, **kwargs)
    through_stdlib = query(doors[1], *args, **kwargs)
    assert through_stdlib == through_sqlalchemy
    return through_stdlib


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"sort": "stage"},
        {"sort": "stage_since"},
        {"sort": "last_effective"},
        {"sort": "stream"},
        {"stage": "precondition_fulfilment"},
        {"stream": "biomass"},
        {"status": "stalled"},
        {"stalled_days": 30},
        {"broker": "broker-anna"},
        {"flagged": "ready"},
    ],
    ids=str,
)
def test_the_initiative_list_is_the_same_through_either_door(
    doors: tuple[ReadStore, SQLiteRows], filters: dict[str, Any]
) -> None:
    assert same(doors, queries.list_initiatives, TODAY, **filters)


def test_every_initiative_shows_the_same_through_either_door(
    doors: tuple[ReadStore, SQLiteRows],
) -> None:
    for summary in queries.list_initiatives(doors[1], TODAY):
        detail = same(doors, queries.initiative_detail, summary.id, TODAY)
        assert detail.initiative == summary
        assert all(d.recorded_at.tzinfo is UTC for d in detail.decisions)
    assert same(doors, queries.initiative_detail, "roadside-grass-insulation", TODAY).impact
    assert queries.initiative_detail(doors[1], "no-such-initiative", TODAY) is None


def test_what_the_lean_door_reads_is_what_the_tables_hold(
    stores: Kringloop, doors: tuple[ReadStore, SQLiteRows]
) -> None:
    """Dates, booleans, JSON and times decoded from the SQLite text as SQLModel reads them."""
    with Session(stores.read_store.engine) as session:
        rows = {r.initiative_id: r for r in session.exec(select(InitiativeRow))}
        decision = session.exec(
            select(DecisionRow)
            .where(DecisionRow.subject_kind == "initiative")
            .order_by(DecisionRow.notification_id)
        ).first()
    assert decision is not None
    for summary in queries.list_initiatives(doors[1], TODAY):
        row = rows[summary.id]
        assert (summary.stage_since, summary.status_since) == (row.stage_since, row.status_since)
        assert summary.ready_to_scale is row.last_assessment_ready
        assert summary.at_risk is row.at_risk
        assert summary.members == json.loads(row.members)
        assert summary.days_in_stage == (TODAY - row.stage_since).days
    logged = queries.decision_log(doors[0], subject=decision.subject_id)
    lean = queries.initiative_detail(doors[1], decision.subject_id, TODAY)
    assert lean is not None
    assert lean.decisions == logged  # the decision log (SQLModel) and the lean timeline
    assert lean.decisions[0].recorded_at == decision.recorded_at


def test_the_pipeline_and_the_register_are_the_same_through_either_door(
    doors: tuple[ReadStore, SQLiteRows],
) -> None:
    assert same(doors, queries.pipeline).rows
    assert same(doors, queries.pipeline, "mra-circular").rows
    assert same(doors, queries.register, TODAY)
    assert same(doors, queries.register, TODAY, status="open")
    same(doors, queries.register, TODAY, overdue=True)
    same(doors, queries.register, TODAY, due_before=TODAY)
    same(doors, queries.deadline_concerns, TODAY, 30)


def test_the_lean_door_knows_the_position_and_the_head(stores: Kringloop) -> None:
    lean = SQLiteRows(stores.settings.home / "read.sqlite")
    try:
        assert lean.position() == stores.runner.position()
        assert events_head(stores.settings.events_path) == stores.runner.head() > 0
        assert schema_mark() > 0
    finally:
        lean.close()


def test_a_file_the_read_store_never_marked_has_no_position(tmp_path: Path) -> None:
    assert SQLiteRows(tmp_path / "missing.sqlite").position() is None
    assert events_head(tmp_path / "missing.sqlite") is None
    unmarked = ReadStore(f"sqlite:///{tmp_path / 'read.sqlite'}")
    unmarked.create()
    unmarked.close()
    with sqlite3.connect(tmp_path / "read.sqlite") as connection:
        connection.execute("PRAGMA user_version = 0")
    connection.close()
    assert SQLiteRows(tmp_path / "read.sqlite").position() is None


def test_a_snapshot_reads_one_moment_while_events_are_applied(tmp_path: Path) -> None:
    store = ReadStore(f"sqlite:///{tmp_path / 'read.sqlite'}")
    store.create()
    position = "SELECT position FROM projection_position WHERE name = :name"
    move = "UPDATE projection_position SET position = :to WHERE name = :name"
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO projection_position (name, position) VALUES (?, 1)", (PROJECTION,)
        )
    lean = SQLiteRows(tmp_path / "read.sqlite")
    try:
        for door in (lean, store):
            with door.snapshot() as moment:
                before = moment.rows(position, {"name": PROJECTION})
                with store.engine.begin() as conn:  # another writer applies events meanwhile
                    conn.execute(text(move), {"to": before[0]["position"] + 1, "name": PROJECTION})
                assert moment.rows(position, {"name": PROJECTION}) == before
            assert door.rows(position, {"name": PROJECTION})[0]["position"] == (
                before[0]["position"] + 1
            )
    finally:
        lean.close()
        store.close()
