"""Old stores keep loading: version-1 events of every type, as once stored, are read back
(aggregates, read models, the audit chain), and an event that gained a field is upcast."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import CanInitAggregate, CanMutateAggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from adapters.audit.verify import verify_store
from domain.engine import AGGREGATES, Engine
from domain.initiative import Initiative
from domain.programme import Programme
from domain.record import DecisionRecord
from projections.progress import programme_progress
from projections.queries import list_initiatives
from projections.runner import Runner
from tests.conftest import TODAY, runner
from tests.fixtures.make_events_v1 import FIXTURE, V1_SHAPES
from tests.scenario import a_target

ROWS: list[dict[str, Any]] = [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def event_types() -> set[str]:
    """Every event class an aggregate of the domain can record (the library's unused
    default ``Created`` left out where the aggregate is created by its own event)."""
    found: set[type] = set()
    for aggregate in AGGREGATES.values():
        events = {
            v
            for v in vars(aggregate).values()
            if isinstance(v, type) and issubclass(v, CanMutateAggregate) and v.__name__ != "Event"
        }
        created = {e for e in events if issubclass(e, CanInitAggregate)}
        if len(created) > 1:  # created by an event of its own (Proposed, Founded, ...)
            events -= {e for e in created if e.__name__ == "Created"}
        found |= events
    return {get_topic(e) for e in found}


def load_fixture(engine: Engine) -> None:
    """Store the fixture's events as they were stored, through the recorder (so each gets
    its link in the audit chain like any recorded event)."""
    engine.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(r["originator_id"]),
                originator_version=r["originator_version"],
                topic=r["topic"],
                state=json.dumps(r["state"]).encode(),
            )
            for r in ROWS
        ]
    )


def test_every_event_type_in_the_domain_has_a_version_1_fixture() -> None:
    missing = event_types() - {r["topic"] for r in ROWS}
    assert not missing, (
        f"no version-1 fixture for {sorted(missing)}: add a command that records it to "
        "tests/fixtures/make_events_v1.py (EXTRA) and run python -m tests.fixtures.make_events_v1"
    )


def test_every_fixture_is_a_known_event_type_in_its_version_1_shape() -> None:
    for row in ROWS:
        assert resolve_topic(row["topic"]) is not None
        assert "class_version" not in row["state"], row["topic"]
        assert not set(V1_SHAPES.get(row["topic"], ())) & set(row["state"]), row["topic"]


def test_a_version_1_store_reads_every_aggregate_back(
    stored_engine: Engine, read_store: Any, tmp_path: Path
) -> None:
    load_fixture(stored_engine)
    versions: dict[str, int] = defaultdict(int)
    for r in ROWS:
        versions[r["originator_id"]] = max(versions[r["originator_id"]], r["originator_version"])
    kinds: set[str] = set()
    for originator, version in versions.items():
        aggregate = stored_engine.repository.get(UUID(originator))
        assert isinstance(aggregate, DecisionRecord)
        assert aggregate.version == version
        kinds.add(aggregate.kind)
    assert kinds == set(AGGREGATES)

    assert stored_engine.initiative("mattress-recycling").status == "active"  # resumed
    assert stored_engine.initiative("textile-fibre-to-fibre").status == "active"  # reopened
    assert stored_engine.initiative("roadside-grass-insulation").stage == "scaled_up"

    reads = Runner(stored_engine, read_store)
    reads.catch_up()
    assert reads.position() == len(ROWS)
    listed = {s.id for s in list_initiatives(read_store, today=TODAY)}
    assert "timber-reuse" in listed
    report, _ = verify_store(stored_engine.recorder, tmp_path)
    assert report.ok, report.problems
    assert report.events == len(ROWS)


def test_events_that_gained_a_field_are_upcast_from_version_1(
    stored_engine: Engine, store_env: dict[str, str], read_store: Any
) -> None:
    load_fixture(stored_engine)
    programme = stored_engine.programme("mra-circular")
    assert programme.targets
    assert all(t["measure"] is None for t in programme.targets.values())
    old_targets = [
        e for e in stored_engine.history(programme) if isinstance(e, Programme.TargetSet)
    ]
    assert old_targets
    assert all(e.measure is None for e in old_targets)
    assert all(e.include_procurement_trajectories is False for e in old_targets)
    grass = stored_engine.initiative("roadside-grass-insulation")
    assessments = [
        e for e in stored_engine.history(grass) if isinstance(e, Initiative.ScaleUpAssessed)
    ]
    assert assessments
    assert all(e.at_risk is False for e in assessments)

    # a current (version-3) event lands after the version-1 ones, in the same aggregate
    runner(stored_engine)(
        "set-target",
        **a_target("chains-redesigned", "chains", 20, programme_id="mra-circular"),
        description="Product/material chains redesigned",
        source="revised outline",
        measure="consortia_formed",
        effective="2024-01-10",
        actor="board-secretariat",
    )
    newest = stored_engine.recorder.select_events(programme.id, desc=True, limit=1)[0]
    assert json.loads(newest.state)["class_version"] == 3
    with Engine(env=store_env, clock=lambda: TODAY) as again:  # nothing cached: all from the store
        reloaded = again.programme("mra-circular")
    assert reloaded.targets["chains-redesigned"]["measure"] == "consortia_formed"
    assert reloaded.targets["new-jobs"]["measure"] is None

    Runner(stored_engine, read_store).catch_up()  # the projector reads the fields directly
    progress = {t.key: t for t in programme_progress(read_store, "mra-circular")}
    assert progress["chains-redesigned"].measure == "consortia_formed"
    assert progress["new-jobs"].measure is None


def test_a_version_1_event_that_already_held_the_field_keeps_its_value(
    memory_engine: Engine,
) -> None:
    # stored between the field's arrival and the class version: v1, with the field
    row = next(r for r in ROWS if r["topic"] == "domain.programme:Programme.TargetSet")
    state = {**row["state"], "measure": "consortia_formed"}
    stored = StoredEvent(
        originator_id=UUID(row["originator_id"]),
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=json.dumps(state).encode(),
    )
    assert memory_engine.mapper.to_domain_event(stored).measure == "consortia_formed"


@pytest.mark.parametrize("topic", sorted(V1_SHAPES))
def test_each_event_that_gained_a_field_says_how_to_upcast_it(topic: str) -> None:
    cls = resolve_topic(topic)
    assert cls.class_version >= 2
    state: dict[str, Any] = {}
    for version in range(1, cls.class_version):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
    assert set(V1_SHAPES[topic]) <= set(state)
