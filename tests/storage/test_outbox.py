"""The outbox (domain.notices): a decision people need to hear about queues its notice in
the same transaction as its events, on SQLite and PostgreSQL; a notice's key is queued
once, however often it is queued; a decision refused or rolled back queues nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.engine import Engine
from domain.errors import KringloopError
from domain.notices import Notice, Outbox
from domain.values import Stage
from tests.conftest import TODAY, Run, runner
from tests.scenario import initiative_at, programme


@pytest.fixture
def engine(store_env: dict[str, str]) -> Iterator[Engine]:
    with Engine(env=store_env, clock=lambda: TODAY) as opened:
        yield opened


def test_a_decision_queues_its_notice_with_its_events(engine: Engine) -> None:
    run: Run = runner(engine)
    programme(run)
    initiative_at(run, Stage.BOARD_WITHDRAWN, initiative_id="grass")
    recorder = engine.recorder
    assert isinstance(recorder, Outbox)
    queued = recorder.notices_after(0, 100)
    assert [n.kind for n in queued] == ["consortium-formed", "board-withdrawn"]
    grass = engine.initiative("grass")
    assert {n.record for n in queued} == {grass.id.hex}
    assert queued[1].version == grass.version
    assert queued[1].data["handover_note"]
    assert [n.sequence for n in queued] == sorted(n.sequence for n in queued)
    assert recorder.notices_after(queued[0].sequence, 100) == queued[1:]


def test_a_key_is_queued_once(engine: Engine) -> None:
    recorder = engine.recorder
    assert isinstance(recorder, Outbox)
    digest = Notice("weekly-digest:mra:2024-W23", "weekly-digest", "", 0, {"week": "2024-W23"})
    recorder.queue_notices([digest])
    recorder.queue_notices([digest, digest])
    (queued,) = recorder.notices_after(0, 10)
    assert (queued.key, queued.data) == (digest.key, digest.data)


def test_a_refused_decision_queues_nothing(engine: Engine) -> None:
    run: Run = runner(engine)
    programme(run)
    initiative_at(run, Stage.PRECONDITION_FULFILMENT, initiative_id="grass")
    recorder = engine.recorder
    assert isinstance(recorder, Outbox)
    before = recorder.notices_after(0, 100)
    with pytest.raises(KringloopError):  # its preconditions are not fulfilled yet
        run("form-consortium", initiative_id="grass", reason="too early")
    assert recorder.notices_after(0, 100) == before
