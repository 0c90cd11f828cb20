"""The phase-3 rule: is an initiative after board withdrawal ready to scale up, or at risk?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.values import Status

RECENT_REPORT_MONTHS = 18
"""Evidence older than this does not show an initiative runs: it is at risk, not ready."""
RECENT_ESCALATION_DAYS = 90
"""An escalation (a deadline passed) this many days ago or fewer is still an open risk."""


@dataclass(frozen=True)
class Phase3Figures:
    """What the read models say about one initiative after board withdrawal."""

    initiative_id: str
    months_operating: int  # since the consortium started operating
    tonnes_per_year: float
    jobs_fte: float
    open_risks: tuple[str, ...]
    last_report_on: date | None = None  # the day the latest impact report was recorded
    months_since_report: int | None = None  # None: no impact report at all


def open_risks(
    status: str,
    status_since: date,
    failed_preconditions: int,
    last_escalated_on: date | None,
    today: date,
) -> tuple[str, ...]:
    """What stands against scaling an initiative up, in words: stalled, failed
    preconditions, a recent escalation."""
    recently_escalated = (
        last_escalated_on is not None and (today - last_escalated_on).days <= RECENT_ESCALATION_DAYS
    )
    return tuple(
        reason
        for present, reason in (
            (status == Status.STALLED, f"stalled since {status_since}"),
            (failed_preconditions > 0, f"{failed_preconditions} failed preconditions"),
            (recently_escalated, f"escalated in the last {RECENT_ESCALATION_DAYS} days"),
        )
        if present
    )


@dataclass(frozen=True)
class Phase3Assessment:
    ready: bool
    at_risk: bool
    criteria: str  # every criterion with its figure, met or not
    reason: str
    figures: dict[str, float]


def assess(criteria: dict[str, Any], figures: Phase3Figures) -> Phase3Assessment:
    """Apply the programme's criteria; the reason names every criterion and figure."""
    months = int(criteria.get("min_months_operating", 0))
    tonnes = float(criteria.get("min_tonnes_per_year", 0))
    jobs = float(criteria.get("min_jobs_fte", 0))
    no_risks = bool(criteria.get("no_open_risks", True))
    checks = [
        (
            figures.months_operating >= months,
            f"operating {figures.months_operating} months (at least {months})",
        ),
        (
            figures.tonnes_per_year >= tonnes,
            f"{figures.tonnes_per_year:,g} t/yr processed (at least {tonnes:,g})",
        ),
        (figures.jobs_fte >= jobs, f"{figures.jobs_fte:,g} FTE (at least {jobs:,g})"),
    ]
    recent = (
        figures.months_since_report is not None
        and figures.months_since_report <= RECENT_REPORT_MONTHS
    )
    checks.append(
        (
            recent,
            "no impact report"
            if figures.last_report_on is None
            else f"latest impact report {figures.last_report_on.isoformat()}, "
            f"{figures.months_since_report} months ago (at most {RECENT_REPORT_MONTHS})",
        )
    )
    if no_risks:
        risks = ", ".join(figures.open_risks) or "none"
        checks.append((not figures.open_risks, f"open risks: {risks}"))
    ready = all(ok for ok, _ in checks)
    stalled_output = figures.months_operating >= 12 and figures.tonnes_per_year == 0
    # a young consortium without a report yet is not ready; one running longer without
    # recent evidence is at risk
    stale = not recent and (
        figures.last_report_on is not None or figures.months_operating > RECENT_REPORT_MONTHS
    )
    at_risk = bool(figures.open_risks) or stalled_output or stale
    verdict = "ready to scale up" if ready else "not ready"
    if stale:
        verdict += ", at risk: no recent impact report"
    elif at_risk:
        verdict += ", at risk"
    text = "; ".join(f"{'met' if ok else 'NOT met'}: {words}" for ok, words in checks)
    return Phase3Assessment(
        ready=ready,
        at_risk=at_risk,
        criteria=text,
        reason=f"phase-3 check: {verdict} ({text})",
        figures={
            "months_operating": float(figures.months_operating),
            "tonnes_per_year": figures.tonnes_per_year,
            "jobs_fte": figures.jobs_fte,
            "open_risks": float(len(figures.open_risks)),
        },
    )
