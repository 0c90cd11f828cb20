"""Readers beside a decision in the same engine (the API's threads): a reader never sees a
step that was not saved, and what it holds does not change under it.

Why the engine keeps its lock around readers and copies what it hands them: decisions
change the cached aggregate in place before it is saved (domain.engine.Engine.record)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from domain.engine import Engine
from domain.values import Stage
from tests.scenario import at_stage


def test_what_a_reader_holds_does_not_change_with_the_next_decision(
    stored_engine: Engine,
) -> None:
    run = at_stage(stored_engine, Stage.CONSORTIUM_FORMED)
    held = stored_engine.initiative("grass")
    version = held.version
    run("withdraw-board", initiative_id="grass", handover_note="carry on")
    assert (held.version, held.stage) == (version, "consortium_formed")
    assert stored_engine.initiative("grass").stage == "board_withdrawn"


def test_a_reader_waits_for_a_decision_and_never_sees_a_step_that_was_not_saved(
    stored_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = at_stage(stored_engine, Stage.CONSORTIUM_FORMED)
    changed, release = threading.Event(), threading.Event()

    def save_that_fails(*aggregates: Any, **kwargs: Any) -> Any:
        changed.set()  # the step is applied to the cached aggregate, not yet saved
        release.wait(timeout=30)
        raise OSError("the disk went away")

    monkeypatch.setattr(stored_engine, "save", save_that_fails)
    refused: list[BaseException] = []

    def decide() -> None:
        try:
            run("withdraw-board", initiative_id="grass", handover_note="carry on")
        except OSError as error:
            refused.append(error)

    decider = threading.Thread(target=decide)
    decider.start()
    assert changed.wait(timeout=30)
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.append(stored_engine.initiative("grass").stage))
    reader.start()
    reader.join(timeout=1)  # with the lock it waits here for the decision; without, it reads
    release.set()
    decider.join(timeout=30)
    reader.join(timeout=30)
    monkeypatch.undo()
    assert refused, "the save failed, so the decision was refused"
    assert seen == ["consortium_formed"], f"a reader saw a step that was never saved: {seen}"
    assert stored_engine.initiative("grass").stage == "consortium_formed"
