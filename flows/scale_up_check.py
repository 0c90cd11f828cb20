"""The phase-3 scale-up check, scheduled weekly: every initiative after board withdrawal is
assessed against the programme's criteria from the read models; each assessment is recorded
as a decision by the scheduler's service identity. Run twice on one day, it records nothing
new: the command ids carry the day, and what the read models already show assessed that day
by the check's own command is skipped without being loaded or decided. Work goes in pages
of thousands, one task per page (never one task or one flow run per initiative)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial

from prefect import flow

from adapters.commanding import Tally
from domain.commands.initiative import AssessScaleUp
from domain.engine import today_in_programme_tz
from domain.scale_up import Phase3Figures, assess
from flows import runtime
from flows.projection_catch_up import catch_up
from projections import phase3

PAGE = 5000


def command_id(initiative_id: str, day: date) -> str:
    """The check's command for an initiative on a day: a rerun, or a run racing this one,
    decides the same command, and the engine records it once."""
    return f"phase-3:{initiative_id}:{day.isoformat()}"


@dataclass(frozen=True)
class Checked:
    """What one page's task did: plain figures, all a flow run keeps of a page."""

    candidates: int = 0
    skipped: int = 0  # shown assessed today by the read models: not decided again
    tally: Tally = field(default_factory=Tally)
    last: str | None = None  # the next page starts after it; None: no candidates were left


def find_candidates(programme_id: str, day: date, after: str, page: int) -> phase3.Phase3Page:
    return phase3.candidates(
        runtime.read_store(), programme_id, day, partial(command_id, day=day), after, page
    )


def assessment(criteria: dict[str, object], figures: Phase3Figures, day: date) -> AssessScaleUp:
    result = assess(criteria, figures)
    return AssessScaleUp(
        command_id=command_id(figures.initiative_id, day),
        initiative_id=figures.initiative_id,
        actor=runtime.SCHEDULER,
        reason=result.reason,
        effective=day,
        ready=result.ready,
        at_risk=result.at_risk,
        criteria=result.criteria,
        figures=result.figures,
    )


@runtime.retried("check a page")
def check_page(programme_id: str, day: date, after: str, page_size: int) -> Checked:
    """Find a page of candidates, assess those not yet assessed today, and record the
    assessments in one batch. Its parameters and result are a few plain values: Prefect
    neither walks nor keeps thousands of figures per page."""
    page = find_candidates(programme_id, day, after, page_size)
    if page.last is None:
        return Checked()
    if not page.criteria:
        raise ValueError(
            f"programme '{programme_id}' has no scale-up criteria: "
            "kringloop programme set-scale-up-criteria"
        )
    commands = [assessment(page.criteria, figures, day) for figures in page.due]
    tally = runtime.execute_many(commands) if commands else Tally()
    return Checked(len(page.due) + len(page.assessed), len(page.assessed), tally, page.last)


@flow(name="scale-up-check")
def scale_up_check(
    programme_id: str, today: date | None = None, page_size: int = PAGE
) -> dict[str, object]:
    """Assess every initiative after board withdrawal; flag ready to scale and at risk."""
    runtime.bind_run()
    day = today or today_in_programme_tz()
    catch_up()
    totals = Tally()
    after, candidates, skipped = "", 0, 0
    while (checked := check_page(programme_id, day, after, page_size)).last is not None:
        totals.add(checked.tally)
        candidates += checked.candidates
        skipped += checked.skipped
        after = checked.last
    catch_up()
    result = {
        "candidates": candidates,
        **totals.as_dict(),
        "already_recorded": totals.replayed + skipped,  # by the engine, or seen as recorded
        "skipped": skipped,
    }
    runtime.log.info("phase-3 check done", **result)
    return result
