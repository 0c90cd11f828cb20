"""What every view says about its figures: where they come from, as of which decision, and
one way of writing a share, so that no door shows 1.35 where another shows 135 %."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session, select

from domain.messages import N_
from projections.procurement import monitor_figures
from projections.store import ReadStore
from projections.tables import ProgrammeRow, ProjectionPosition

DEMONSTRATION_NOTE = N_(
    "Demonstration data: figures marked (source) come from the programme's published "
    "account; the rest is illustrative."
)
RECORDED = "recorded decisions"
"""The source of every figure the read models count from the decisions themselves."""

PUBLISHED_FIGURES = frozenset(
    {
        "consortia_formed",
        "share_with_financial_arrangement_pct",
        "procurement_commitments",
        "communities_of_practice",
        "cop_meetings",
        "cop_avg_participants",
        "procurement_invested_eur",
    }
)
"""The headline figures the reference programme published (twenty consortia, 60 % with a new
financial arrangement, 33 commitments, three communities of six meetings with about eleven
participants, EUR 150 million): a demonstration marks them "(source)"."""


HEADLINE_LABELS: dict[str, tuple[str, str]] = {
    "consortia_formed": ("consortia formed (not abandoned)", "consortia"),
    "share_with_financial_arrangement_pct": ("of them with a new financial arrangement", "%"),
    "procurement_commitments": ("circular procurement commitments", "organisations"),
    "communities_of_practice": ("communities of practice", "communities"),
    "cop_meetings": ("community meetings", "meetings"),
    "cop_avg_participants": ("participants per meeting, on average", "participants"),
    "procurement_invested_eur": ("invested through joint procurement trajectories", "EUR"),
    "joint_trajectories": ("joint procurement trajectories", "trajectories"),
}


class Figure(BaseModel):
    """A headline figure with its label, unit and where it comes from."""

    key: str
    label: str
    value: float | None
    unit: str
    source: str
    published: bool  # the reference programme published this figure


def headline_figures(store: ReadStore, programme_id: str) -> list[Figure]:
    """The programme monitor's headline figures, each counted from the recorded decisions
    (``monitor_figures``), labelled; a share is in percent."""
    found = monitor_figures(store, programme_id).model_dump()
    return [
        Figure(
            key=key,
            label=label,
            value=found[key],
            unit=unit,
            source=RECORDED,
            published=key in PUBLISHED_FIGURES,
        )
        for key, (label, unit) in HEADLINE_LABELS.items()
    ]


def is_demonstration(store: ReadStore, programme_id: str) -> bool:
    with Session(store.engine) as session:
        row = session.get(ProgrammeRow, programme_id)
    return bool(row and row.demonstration)


def any_demonstration(store: ReadStore) -> bool:
    """Whether any programme in the store holds demonstration data (for views of them all)."""
    with Session(store.engine) as session:
        found = session.exec(select(ProgrammeRow.programme_id).where(ProgrammeRow.demonstration))
        return found.first() is not None


def as_of_position(store: ReadStore) -> int:
    """The notification id of the last decision the read models include."""
    with Session(store.engine) as session:
        positions = session.exec(select(ProjectionPosition.position)).all()
    return max(positions, default=0)


def share_text(percent: float | None) -> str:
    """A share as every door writes it: "135 %", "12.5 %", "" when there is none."""
    if percent is None:
        return ""
    rounded = round(percent, 1)
    return f"{rounded:.0f} %" if rounded == int(rounded) else f"{rounded:.1f} %"
