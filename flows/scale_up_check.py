"""The phase-3 scale-up check, scheduled weekly: every initiative after board withdrawal is
assessed against the programme's criteria from the read models; each assessment is recorded
as a decision by the scheduler's service identity. Run twice on one day, it records nothing
new (the command ids carry the day). Work goes in pages of thousands, never one task or one
flow run per initiative."""

from __future__ import annotations

from datetime import date

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from adapters.commanding import Tally
from domain.commands.initiative import AssessScaleUp
from domain.engine import today_in_programme_tz
from domain.scale_up import Phase3Figures, assess
from flows import runtime
from flows.projection_catch_up import catch_up
from projections.queries import phase3_candidates

PAGE = 5000


@task(name="find candidates", cache_policy=NO_CACHE)
def find_candidates(
    programme_id: str, day: date, after: str, page: int
) -> tuple[dict[str, object], list[Phase3Figures]]:
    return phase3_candidates(runtime.read_store(), programme_id, day, after=after, limit=page)


@runtime.retried("assess and record")
def assess_page(criteria: dict[str, object], figures: list[Phase3Figures], day: date) -> Tally:
    commands = []
    for f in figures:
        result = assess(criteria, f)
        commands.append(
            AssessScaleUp(
                command_id=f"phase-3:{f.initiative_id}:{day.isoformat()}",
                initiative_id=f.initiative_id,
                actor=runtime.SCHEDULER,
                reason=result.reason,
                effective=day,
                ready=result.ready,
                at_risk=result.at_risk,
                criteria=result.criteria,
                figures=result.figures,
            )
        )
    return runtime.execute_many(commands)


@flow(name="scale-up-check")
def scale_up_check(
    programme_id: str, today: date | None = None, page_size: int = PAGE
) -> dict[str, object]:
    """Assess every initiative after board withdrawal; flag ready to scale and at risk."""
    runtime.bind_run()
    day = today or today_in_programme_tz()
    catch_up()
    totals = Tally()
    after, candidates = "", 0
    while True:
        criteria, figures = find_candidates(programme_id, day, after, page_size)
        if not figures:
            break
        if not criteria:
            raise ValueError(
                f"programme '{programme_id}' has no scale-up criteria: "
                "kringloop programme set-scale-up-criteria"
            )
        totals.add(assess_page(criteria, figures, day))
        candidates += len(figures)
        after = figures[-1].initiative_id
    catch_up()
    runtime.log.info("phase-3 check done", candidates=candidates, **totals.as_dict())
    return {"candidates": candidates, **totals.as_dict()}
