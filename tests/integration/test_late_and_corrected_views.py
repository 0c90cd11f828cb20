"""The read side of late entries and corrections: the timeline in effective order with late
entries marked, a corrected decision showing the corrected value with both decisions named,
the precondition register, the decision log, the audit history and `as-of --by effective`
showing the same."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from adapters.audit import records
from domain.engine import Engine
from projections.queries import decision_log, initiative_detail, register
from projections.runner import Runner
from tests.conftest import TODAY, runner
from tests.lifecycle import consultation_closed, correct, late_response, permit_fulfilled


@pytest.fixture
def paperwork(stored_engine: Engine, read_store: Any) -> Engine:
    """A late response (effective 2016-02-01, recorded after the 2016-03-01 close), a
    fulfilled permit whose evidence was corrected, and the late response's reason corrected."""
    run = runner(stored_engine)
    consultation_closed(run)
    late_response(run, "2016-02-01", "late-letter", company="Late Letter BV")
    permit_fulfilled(run, "permit-001.pdf", "fulfil-permit")
    correct(run, "fulfil-permit", "fix-permit", corrected_evidence=["permit-011.pdf"])
    correct(run, "late-letter", "fix-letter", corrected_reason="the letter of 1 February")
    Runner(stored_engine, read_store).catch_up()
    return stored_engine


def test_the_timeline_places_late_entries_and_shows_corrections(
    paperwork: Engine, read_store: Any
) -> None:
    detail = initiative_detail(read_store, "grass", TODAY)
    assert detail is not None
    days = [d.effective for d in detail.decisions]
    assert days == sorted(days), "the timeline runs in effective order"
    assert [d.command_id for d in detail.decisions if d.late] == ["late-letter"]
    closed = next(
        i for i, d in enumerate(detail.decisions) if d.event == "MarketConsultationClosed"
    )
    late = next(i for i, d in enumerate(detail.decisions) if d.command_id == "late-letter")
    assert late < closed

    fulfilled = next(d for d in detail.decisions if d.command_id == "fulfil-permit")
    assert fulfilled.evidence == ["permit-011.pdf"]
    assert fulfilled.recorded_evidence == ["permit-001.pdf"]
    assert [c.command_id for c in fulfilled.corrected_by] == ["fix-permit"]
    assert fulfilled.corrected_by[0].why == "it was recorded wrongly"
    correction = next(d for d in detail.decisions if d.command_id == "fix-permit")
    assert correction.details["corrects"] == "fulfil-permit"

    (permit,) = register(read_store, TODAY, initiative_id="grass")
    assert (permit.precondition, permit.evidence) == ("permit", ["permit-011.pdf"])
    logged = next(d for d in decision_log(read_store) if d.command_id == "fulfil-permit")
    assert logged.evidence == ["permit-011.pdf"]
    assert logged.corrected_by
    assert paperwork.initiative("grass").preconditions["permit"]["evidence"] == ["permit-011.pdf"]


def test_the_audit_history_marks_late_entries_and_corrections_and_as_of_places_them(
    paperwork: Engine, read_store: Any
) -> None:
    lines = {line.command_id: line for line in records.history(paperwork, "grass")}
    late = lines["late-letter"]
    assert "entered late" in late.note
    assert late.reason == "the letter of 1 February"
    assert "corrected by decision fix-letter" in late.note
    assert "reason recorded as: decided in the broker team meeting" in late.note
    assert lines["fix-letter"].note == "corrects decision late-letter"

    on_15_feb = records.as_of(paperwork, read_store, "grass", at=date(2016, 2, 15))
    assert on_15_feb is not None
    assert on_15_feb.stage == "market_consultation"  # closed only on 1 March
    assert "Late Letter BV" in on_15_feb.responses  # in effect then, though recorded later
    on_1_jan = records.as_of(paperwork, read_store, "grass", at=date(2016, 1, 1))
    assert on_1_jan is not None
    assert "Late Letter BV" not in on_1_jan.responses
    assert records.as_of(paperwork, read_store, "grass", at=date(2015, 12, 31)) is None
