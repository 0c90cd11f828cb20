"""The phase-3 risks: what stands against scaling an initiative up, named in words."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.scale_up import RECENT_ESCALATION_DAYS, open_risks

TODAY = date(2024, 6, 3)
SINCE = date(2024, 1, 15)


def test_an_active_initiative_without_failures_or_escalations_has_no_risks() -> None:
    assert open_risks("active", SINCE, 0, None, TODAY) == ()


def test_a_stalled_initiative_is_at_risk_since_it_stalled() -> None:
    assert open_risks("stalled", SINCE, 0, None, TODAY) == ("stalled since 2024-01-15",)


def test_failed_preconditions_are_a_risk_with_their_number() -> None:
    assert open_risks("active", SINCE, 2, None, TODAY) == ("2 failed preconditions",)


@pytest.mark.parametrize(
    ("days_ago", "at_risk"),
    [(0, True), (RECENT_ESCALATION_DAYS, True), (RECENT_ESCALATION_DAYS + 1, False)],
)
def test_an_escalation_is_a_risk_for_90_days(days_ago: int, at_risk: bool) -> None:
    escalated_on = TODAY - timedelta(days=days_ago)

    risks = open_risks("active", SINCE, 0, escalated_on, TODAY)

    assert risks == (("escalated in the last 90 days",) if at_risk else ())


def test_every_risk_present_is_named_in_order() -> None:
    risks = open_risks("stalled", SINCE, 1, TODAY - timedelta(days=3), TODAY)

    assert risks == (
        "stalled since 2024-01-15",
        "1 failed preconditions",
        "escalated in the last 90 days",
    )


def test_an_abandoned_initiative_is_not_called_stalled() -> None:
    assert open_risks("abandoned", SINCE, 0, None, TODAY) == ()
