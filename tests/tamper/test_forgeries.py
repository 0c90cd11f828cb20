"""Forgeries by someone with write access to the store, links computed correctly: what
`audit verify` catches, and how it says what its verdict covers (RELIABILITY "Tamper
evidence")."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.audit.sealing import seal_tail
from adapters.audit.verify import Report, verify_store
from adapters.store import chained
from domain.engine import Engine
from domain.initiative import Initiative
from domain.values import Stage
from tests.conftest import TODAY, runner
from tests.scenario import initiative_at, programme
from tests.tamper.forger import Forger


@pytest.fixture(autouse=True)
def key_in_the_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KRINGLOOP_SIGNING_KEY", raising=False)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    database = str(tmp_path / "events.sqlite")
    env = chained({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": database})
    with Engine(env=env, clock=lambda: TODAY) as opened:
        run = runner(opened)
        programme(run)
        initiative_at(run, Stage.SCALED_UP, initiative_id="grass")
        initiative_at(run, Stage.EXPERT_SCAN, initiative_id="other")
        yield opened


@pytest.fixture
def forger(tmp_path: Path) -> Forger:
    return Forger(tmp_path / "events.sqlite")


def verified(engine: Engine, home: Path) -> Report:
    report, _ = verify_store(engine.recorder, home, mapper=engine.mapper)
    return report


def sealed(engine: Engine, home: Path) -> None:
    assert seal_tail(engine.recorder, engine.mapper, home) is not None


def test_an_event_appended_after_the_seal_is_reported_unsealed(
    engine: Engine, forger: Forger, tmp_path: Path
) -> None:
    sealed(engine, tmp_path)
    assert verified(engine, tmp_path).verdict == "intact"
    grass = engine.initiative("grass")
    _, topic, state = forger.events(grass.id)[-1]
    version = forger.append(grass.id, topic, state)
    report = verified(engine, tmp_path)
    assert report.ok, "its link is valid: nothing is broken"
    assert report.verdict == "intact-with-unsealed-tail"
    assert [(u.name, u.from_version, u.to_version, u.new) for u in report.unsealed] == [
        ("initiative grass", version, version, False)
    ]
    assert report.unsealed_events == 1
    assert "1 events in 1 aggregates recorded since the last seal" in report.summary()
    assert report.as_dict()["unsealed_aggregates"] == 1


def test_a_whole_forged_initiative_is_reported_unsealed(
    engine: Engine, forger: Forger, tmp_path: Path
) -> None:
    sealed(engine, tmp_path)
    other = engine.initiative("other")
    forged = Initiative.create_id("forged-initiative")
    count = forger.copy(other.id, forged, b'"other"', b'"forged-initiative"')
    assert engine.initiative("forged-initiative").version == count, "it reads as a real one"
    report = verified(engine, tmp_path)
    assert report.verdict == "intact-with-unsealed-tail"
    assert [(u.name, u.from_version, u.to_version, u.new) for u in report.unsealed] == [
        ("initiative forged-initiative", 1, count, True)
    ]


def test_an_event_rewritten_before_the_seal_is_named_even_with_its_links_recomputed(
    engine: Engine, forger: Forger, tmp_path: Path
) -> None:
    run = runner(engine)
    sealed(engine, tmp_path)
    for command in ("stall", "resume", "stall"):
        run(command, initiative_id="other")
        sealed(engine, tmp_path)  # as the decision path seals
    other = engine.initiative("other")
    target = other.version - 1  # the resumption
    _, _, state = forger.events(other.id)[target - 1]
    forger.rewrite(other.id, target, state.replace(b"broker-anna", b"broker-eve!"))
    report = verified(engine, tmp_path)
    assert report.verdict == "altered"
    [problem] = report.problems
    assert (problem.name, problem.version, problem.kind) == ("initiative other", target, "altered")
    assert f"version {target} is the first event that differs from what was sealed" in (
        problem.detail
    )


def test_a_sealed_initiative_deleted_entirely_is_one_line(
    engine: Engine, forger: Forger, tmp_path: Path
) -> None:
    sealed(engine, tmp_path)
    other = engine.initiative("other")
    forger.delete(other.id)
    report = verified(engine, tmp_path)
    assert report.verdict == "altered"
    assert [(p.name, p.kind) for p in report.problems] == [("initiative other", "cut off")]
    assert "deleted entirely" in report.problems[0].detail


def test_events_deleted_but_their_links_left_are_one_line(
    engine: Engine, forger: Forger, tmp_path: Path
) -> None:
    other = engine.initiative("other")
    with sqlite3.connect(tmp_path / "events.sqlite") as conn:
        conn.execute("DELETE FROM stored_events WHERE originator_id=?", (other.id.hex,))
    report = verified(engine, tmp_path)
    assert [(p.aggregate, p.version, p.kind) for p in report.problems] == [
        (other.id.hex, 1, "missing")
    ]


def test_a_store_never_sealed_is_unsealed_not_intact(
    engine: Engine, forger: Forger, tmp_path: Path
) -> None:
    report = verified(engine, tmp_path)
    assert (report.ok, report.verdict, report.sealed_at) == (True, "unsealed", None)
    assert report.summary().startswith("unsealed: ")
    grass = engine.initiative("grass")
    _, _, state = forger.events(grass.id)[2]
    forger.rewrite(grass.id, 3, state.replace(b"broker-anna", b"broker-eve!"))
    assert verified(engine, tmp_path).verdict == "unsealed", "nothing to hold it to"


def test_sealing_refuses_to_cover_a_rewrite_of_sealed_history(
    engine: Engine, forger: Forger, tmp_path: Path
) -> None:
    from adapters.audit.sealing import CannotSeal

    sealed(engine, tmp_path)
    other = engine.initiative("other")
    _, _, state = forger.events(other.id)[1]
    forger.rewrite(other.id, 2, state.replace(b"broker-anna", b"broker-eve!"))
    runner(engine)("stall", initiative_id="other")
    with pytest.raises(CannotSeal, match="no longer passes through its sealed head"):
        seal_tail(engine.recorder, engine.mapper, tmp_path)
    assert verified(engine, tmp_path).verdict == "altered"
