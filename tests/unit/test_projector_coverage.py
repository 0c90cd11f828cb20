"""Every event the aggregates can record has a projector, so no decision is silently lost
to the read models."""

from __future__ import annotations

import pytest

from domain.initiative import Initiative
from domain.procurement import Commitment, Community
from domain.programme import Programme
from projections.projector import HANDLERS


@pytest.mark.parametrize("aggregate", [Initiative, Programme, Commitment, Community])
def test_every_event_has_a_projector(aggregate: type) -> None:
    events = {
        f"{aggregate.__name__}.{name}"
        for name, value in vars(aggregate).items()
        if isinstance(value, type)
        and issubclass(value, aggregate.Event)  # type: ignore[attr-defined]
        and value is not aggregate.Event  # type: ignore[attr-defined]
    }
    never_recorded = {  # the library's defaults: these aggregates name their creation
        "Initiative.Created",
        "Commitment.Created",
        "Community.Created",
    }
    assert events
    assert events - set(HANDLERS) - never_recorded == set()
