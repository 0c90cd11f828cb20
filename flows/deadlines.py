"""Deadlines, daily: an open precondition past its due date, or an initiative stalled past
the threshold, gets an escalation decision (once a week per concern)."""

from __future__ import annotations

from datetime import date

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from adapters.commanding import Tally
from domain.commands.initiative import EscalateInitiative
from domain.engine import today_in_programme_tz
from flows import runtime
from flows.projection_catch_up import catch_up
from projections.queries import deadline_concerns


@task(name="find passed deadlines", cache_policy=NO_CACHE)
def find_concerns(day: date, stalled_days: int) -> list[tuple[str, str, str]]:
    return deadline_concerns(runtime.read_store(), day, stalled_days)


@runtime.retried("escalate")
def escalate(concerns: list[tuple[str, str, str]], day: date) -> Tally:
    year, week, _ = day.isocalendar()
    commands = [
        EscalateInitiative(
            command_id=f"deadline:{initiative}:{concern}:{subject}:{year}-W{week:02d}",
            initiative_id=initiative,
            actor=runtime.DEADLINES,
            reason=(
                f"precondition '{subject}' is past its due date"
                if concern == "overdue_precondition"
                else f"stalled for more than the threshold: {subject}"
            ),
            effective=day,
            concern=concern,
            subject=subject[:200],
        )
        for initiative, concern, subject in concerns
    ]
    return runtime.execute_many(commands)


@flow(name="deadlines")
def escalate_deadlines(stalled_days: int = 90, today: date | None = None) -> dict[str, object]:
    """Escalate overdue preconditions and initiatives stalled longer than ``stalled_days``."""
    runtime.bind_run()
    day = today or today_in_programme_tz()
    catch_up()
    concerns = find_concerns(day, stalled_days)
    tally = escalate(concerns, day)
    catch_up()
    return {"concerns": len(concerns), **tally.as_dict()}
