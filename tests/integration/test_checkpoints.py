"""The read models as of a date, reached from month-end checkpoints and the remainder, equal
projecting every event in effect by that date, row for row: with late entries (a decision
recorded after one that took effect later), corrections, a stream registered late, on dates
at, between and beyond month ends, and after more events are recorded past the checkpoints;
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.audit.records import progress_as_of, progress_by_date
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from domain.engine import Engine
from domain.errors import KringloopError
from projections import checkpoints
from projections.runner import Runner
from projections.sandbox import InEffect, project_all, sandbox_store
from projections.store import LIVE_TABLES, ReadStore
from tests.conftest import Run, runner
from tests.integration.histories import NORMAL_PATH, candidates
from tests.scenario import a_target, apply_scenario, programme

INITIATIVES = ["grass", "diapers", "timber", "glass", "pallets"]
NOT_COMPARED = ("decisions", "projection_position")  # checkpoints leave out the decision log


def record(run: Run, rng: random.Random, steps: int, start: date, prefix: str) -> date:
    """``steps`` tries of initiative and programme commands, a third of them taking effect
    up to three months before the day they are recorded; refusals are skipped."""
    day, accepted = start, []
    progress = dict.fromkeys(INITIATIVES, 0)
    for n in range(steps):
        day += timedelta(days=rng.randint(0, 7))
        effective = day - timedelta(days=rng.choice([0, 0, 0, 0, 12, 45, 80]))
        initiative = rng.choice(INITIATIVES)
        command_id = f"{prefix}-{n}"
        roll = rng.random()
        if roll < 0.06 and accepted:
            corrects, about = rng.choice(accepted)
            command, fields = (
                "correct-decision",
                {"initiative_id": about, "corrects": corrects, "corrected_reason": f"fix {n}"},
            )
        elif roll < 0.09:
            command, fields = (
                "record-target-measurement",
                {
                    "programme_id": "mra",
                    "key": "jobs",
                    "value": n,
                    "source": "CBS",
                    "actor": "board",
                },
            )
        elif roll < 0.6 and progress[initiative] < len(NORMAL_PATH):
            command, fields = NORMAL_PATH[progress[initiative]]
            fields = {**fields, "initiative_id": initiative}
        else:
            command, fields = rng.choice(candidates(initiative, rng.randint(0, 11)))
            fields = {**fields, "initiative_id": initiative}
        try:
            run(command, effective=effective.isoformat(), command_id=command_id, **fields)
        except KringloopError:
            continue
        if command == NORMAL_PATH[min(progress[initiative], len(NORMAL_PATH) - 1)][0]:
            progress[initiative] += 1
        if "initiative_id" in fields and command != "correct-decision":
            accepted.append((command_id, fields["initiative_id"]))
    return day


def a_history(run: Run, seed: int) -> date:
    """The programme with two measured targets, then two years of decisions; a stream is
    registered late (recorded in 2017, in effect from mid-2016) and initiatives proposed in it."""
    rng = random.Random(seed)
    programme(run)
    for key, unit, measure in (("chains", "chains", "consortia_formed"), ("jobs", "fte", None)):
        run(
            "set-target",
            **a_target(key, unit, 20),
            measure=measure,
            actor="board",
            effective="2015-06-01",
        )
    day = record(run, rng, 120, date(2016, 1, 1), "a")
    run(
        "register-stream",
        programme_id="mra",
        stream="wood",
        name="Wood",
        parent="biomass",
        effective="2016-06-15",
        actor="board",
    )
    run(  # proposed in effect before the stream it is in: it has no parent until then
        "propose-initiative",
        initiative_id="chips",
        programme_id="mra",
        stream="wood",
        title="chips",
        effective="2016-05-20",
    )
    for n, initiative in enumerate(("planks", "beams")):
        run(
            "propose-initiative",
            initiative_id=initiative,
            programme_id="mra",
            stream="wood",
            title=initiative,
            effective=(date(2016, 7, 1) + timedelta(days=40 * n)).isoformat(),
        )
    return record(run, rng, 120, day, "b")


def rows(store: ReadStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read model a checkpoint keeps, in primary-key order."""
    found = {}
    with store.engine.connect() as conn:
        for name, table in LIVE_TABLES.items():
            if name not in NOT_COMPARED:
                order = list(table.primary_key.columns)
                found[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return found


def projected_whole(engine: Engine, day: date) -> dict[str, list[tuple[Any, ...]]]:
    with sandbox_store() as store:
        project_all(engine, store, keep=lambda e: e.decision.effective <= day)
        return rows(store)


def days_to_ask(last: date) -> list[date]:
    """Month ends and mid-month, from before the first decision to after the last, and the
    days around the first decision and one month end."""
    days = [date(2014, 6, 1), date(2015, 1, 14), date(2015, 1, 15), date(2040, 1, 1)]
    days += [date(2016, 6, 30), date(2016, 7, 1), date(2016, 7, 2)]
    month = date(2015, 1, 31)
    while month <= last + timedelta(days=40):
        days += [month, month.replace(day=15)]
        month = checkpoints.month_end(month + timedelta(days=1))
    return days


@pytest.fixture
def conflicts(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """Every conflict check's answer, to see which ways were taken."""
    seen: list[set[str]] = []
    check = checkpoints._conflicts

    def recorded(*args: Any, **kwargs: Any) -> set[str]:
        seen.append(check(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(checkpoints, "_conflicts", recorded)
    return seen


@pytest.mark.parametrize("seed", [1, 2])
def test_checkpointed_read_models_equal_projecting_everything_in_effect(
    stored_engine: Engine,
    read_store: ReadStore,
    tmp_path: Path,
    conflicts: list[set[str]],
    seed: int,
) -> None:
    run = runner(stored_engine)
    last = a_history(run, seed)
    Runner(stored_engine, read_store).catch_up()
    folder = tmp_path / "checkpoints"
    with InEffect(stored_engine, read_store, folder) as in_effect:
        for day in days_to_ask(last)[seed % 2 :: 2]:  # the two seeds: every other day each
            with in_effect.by(day) as store:
                assert rows(store) == projected_whole(stored_engine, day), day
    assert sorted(folder.glob("*.sqlite")), "checkpoints are kept"
    overtaken = {k for found in conflicts for k in found}
    assert any(not k.startswith("stream:") for k in overtaken), "late entries overtake"
    assert any(k.startswith("stream:") for k in overtaken), "a stream registered late"
    assert set() in conflicts, "the rest do not"

    # more decisions, late ones among them, past every checkpoint; the live read models
    # have indexed only some of them
    last = record(run, random.Random(seed + 100), 40, last, "c")
    Runner(stored_engine, read_store).catch_up()
    last = record(run, random.Random(seed + 200), 30, last, "d")
    with InEffect(stored_engine, read_store, folder) as in_effect:
        for day in days_to_ask(last)[::5]:
            with in_effect.by(day) as store:
                assert rows(store) == projected_whole(stored_engine, day), day


def test_progress_as_of_is_the_same_from_checkpoints_and_from_every_event(
    stored_engine: Engine, read_store: ReadStore, tmp_path: Path
) -> None:
    last = a_history(runner(stored_engine), 3)
    Runner(stored_engine, read_store).catch_up()
    days = [date(y, 12, 31) for y in range(2014, last.year + 2)] + [date(2016, 8, 20)]
    checkpointed = progress_by_date(stored_engine, "mra", days, read_store, tmp_path / "kept")
    for day in days:
        whole = progress_as_of(stored_engine, "mra", day)
        assert checkpointed[day] == whole, day
        assert progress_as_of(stored_engine, "mra", day, read_store) == whole, day
    assert any(t.current for t in checkpointed[date(last.year, 12, 31)])


def test_checkpoints_of_another_store_are_not_used(
    stored_engine: Engine, read_store: ReadStore, tmp_path: Path
) -> None:
    """A folder of checkpoints left by another store (a demo loaded again) is rebuilt."""
    folder = tmp_path / "kept"
    other = Engine(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=stored_engine.clock)
    other_reads = ReadStore(f"sqlite:///{tmp_path / 'other.sqlite'}")
    other_reads.create()
    a_history(runner(other), 4)
    Runner(other, other_reads).catch_up()
    progress_by_date(other, "mra", [date(2017, 12, 31)], other_reads, folder)

    last = a_history(runner(stored_engine), 5)
    Runner(stored_engine, read_store).catch_up()
    day = date(last.year, 12, 31)
    assert progress_as_of(stored_engine, "mra", day, read_store, folder) == progress_as_of(
        stored_engine, "mra", day
    )
    other.close()
    other_reads.close()


def test_read_models_recreated_behind_the_checkpoints_still_answer_right(
    stored_engine: Engine, read_store: ReadStore, tmp_path: Path
) -> None:
    """Live read models emptied (a new version recreated them) index nothing yet: the
    checkpoints beyond them are not used, the events are read from the store instead."""
    last = a_history(runner(stored_engine), 6)
    Runner(stored_engine, read_store).catch_up()
    folder = tmp_path / "kept"
    day = date(last.year, 3, 10)
    whole = progress_as_of(stored_engine, "mra", day)
    assert progress_as_of(stored_engine, "mra", day, read_store, folder) == whole
    kept = sorted(folder.glob("*.sqlite"))
    empty = ReadStore(f"sqlite:///{tmp_path / 'recreated.sqlite'}")
    empty.create()
    assert progress_as_of(stored_engine, "mra", day, empty, folder) == whole
    assert sorted(folder.glob("*.sqlite")) == kept
    empty.close()


def test_the_demo_programmes_progress_as_of_any_day_is_what_it_was_before(
    tmp_path: Path,
) -> None:
    """The regional demo (late entries, corrections, targets measured and counted): what
    `programme progress --as-of` and the report's years showed from every event, the
    checkpoints show, at month ends and mid-month days from 2015 to 2027."""
    settings = Settings(home=tmp_path)
    engine, reads = open_engine(settings), open_read_store(settings)
    lines = apply_scenario(engine, "regional")
    Runner(engine, reads).catch_up()
    programme_id = json.loads(lines[1])["programme_id"]  # the second line creates it
    days = [d for d in days_to_ask(date(2027, 1, 1)) if d.year >= 2015][::3]
    days = sorted({*days, *(date(year, 12, 31) for year in range(2015, 2027))})  # the report's
    checkpointed = progress_by_date(engine, programme_id, days, reads)
    assert (tmp_path / "checkpoints").is_dir(), "kept beside the read store"
    for day in days:
        assert checkpointed[day] == progress_as_of(engine, programme_id, day), day
    assert any(t.current for t in checkpointed[date(2026, 12, 31)])
    engine.close()
    reads.close()
