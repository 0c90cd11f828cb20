"""A mandate's period reads with the last day it holds: a revocation takes effect on its
date, so the day before is the last one; a refusal for want of a mandate names the periods
the broker did hold."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import NoMandateError
from domain.policy import mandate_period
from domain.values import Stage
from tests.conftest import Run
from tests.scenario import PROGRAMME, initiative_at, programme


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        (date(2016, 1, 1), None, "from 2016-01-01, no end"),
        (date(2016, 1, 1), date(2016, 6, 1), "from 2016-01-01, last day 2016-05-31"),
        (date(2016, 1, 1), date(2016, 1, 2), "from 2016-01-01, last day 2016-01-01"),
        (date(2016, 1, 1), date(2016, 1, 1), "granted and revoked on 2016-01-01 (never held)"),
    ],
)
def test_a_period_names_its_last_day(start: date, end: date | None, words: str) -> None:
    assert mandate_period(start, end) == words


def test_a_refusal_after_a_revocation_names_the_last_day_the_mandate_held(run: Run) -> None:
    programme(run)
    initiative_at(run, Stage.PROPOSED, effective="2016-01-01")
    run(
        "revoke-mandate",
        programme_id=PROGRAMME,
        broker="broker-anna",
        streams=["biomass"],
        effective="2016-06-01",
        actor="board",
    )
    with pytest.raises(NoMandateError) as refused:
        run("start-expert-scan", initiative_id="grass", effective="2016-06-01", recorded_by="board")
    assert str(refused.value).startswith(
        "'broker-anna' holds no mandate for stream 'roadside-grass' on 2016-06-01 "
        "(mandates held: for biomass from 2015-03-01, last day 2016-05-31)"
    )


def test_a_refusal_says_when_no_mandate_was_ever_granted(run: Run) -> None:
    programme(run)
    initiative_at(run, Stage.PROPOSED, effective="2016-01-01")
    with pytest.raises(NoMandateError, match=r"\(mandates held: none, ever\)"):
        run("start-expert-scan", initiative_id="grass", actor="broker-bas")
