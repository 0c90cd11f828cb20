"""What must hold after any fault: nothing lost, nothing doubled, read models equal to a
full rebuild, and the hash chain intact."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adapters.audit.verify import verify_store
from domain.engine import Engine
from projections.runner import Runner
from projections.store import ReadStore
from tests.integration.test_projection_properties import snapshot


def recorded(engine: Engine) -> Counter[tuple[str, str]]:
    """(aggregate id, command id) of every stored event, counted."""
    seen: Counter[tuple[str, str]] = Counter()
    position = 0
    while page := engine.recorder.select_notifications(
        start=position, limit=1000, inclusive_of_start=False
    ):
        for notification in page:
            event: Any = engine.mapper.to_domain_event(notification)
            seen[(event.originator_id.hex, event.decision.command_id)] += 1
        position = page[-1].id
    return seen


def command_ids(engine: Engine) -> Counter[str]:
    return Counter(command for _, command in recorded(engine).elements())


def assert_nothing_lost_or_doubled(engine: Engine, acknowledged: Iterable[str]) -> None:
    counted = recorded(engine)
    doubled = [key for key, n in counted.items() if n > 1]
    assert doubled == [], f"a command recorded twice on one aggregate: {doubled[:5]}"
    present = {command for _, command in counted}
    lost = set(acknowledged) - present
    assert lost == set(), f"acknowledged but not recorded: {sorted(lost)[:5]}"


def assert_read_models_equal_a_rebuild(engine: Engine, reads: ReadStore) -> dict[str, Any]:
    """Catch the live read models up, then rebuild them from scratch: row for row equal."""
    Runner(engine, reads, batch_size=100).catch_up()
    kept_up = snapshot(reads)
    events = sum(recorded(engine).values())  # PostgreSQL's ids have gaps where a kill fell
    assert len(kept_up["decisions"]) == events, "every event once in the decision log"
    Runner(engine, reads).rebuild()
    assert snapshot(reads) == kept_up
    return kept_up


def assert_chain_intact(engine: Engine, home: Path) -> None:
    report, _ = verify_store(engine.recorder, home)
    assert report.ok, f"audit verify: {report.as_dict()['problems'][:5]}"
    assert report.events == sum(recorded(engine).values())


def assert_whole(engine: Engine, reads: ReadStore, home: Path, acknowledged: Iterable[str]) -> None:
    assert_nothing_lost_or_doubled(engine, acknowledged)
    assert_read_models_equal_a_rebuild(engine, reads)
    assert_chain_intact(engine, home)
