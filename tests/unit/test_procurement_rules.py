"""Circular procurement rules, in the domain's words."""

from __future__ import annotations

import pytest

from domain.errors import NoAuthorityError, NotFoundError, RuleError
from tests.conftest import Run
from tests.scenario import PROGRAMME, a_target, programme

PATH = [{"year": 2022, "share": 10}, {"year": 2025, "share": 50}, {"year": 2030, "share": 100}]


@pytest.fixture
def committed(run: Run) -> Run:
    programme(run)
    run(
        "grant-role",
        identity="Haarlem",
        role="organisation",
        organisation="Haarlem",
        effective="2019-01-01",
        actor="board",
    )
    run(
        "commit",
        commitment_id="haarlem",
        programme_id=PROGRAMME,
        organisation="Haarlem",
        organisation_kind="municipality",
        path=PATH,
        effective="2019-10-01",
        actor="Haarlem",
    )
    return run


@pytest.mark.parametrize(
    ("year", "circular_spend_eur", "message"),
    [
        (2020, 2000, r"circular spend \(EUR 2,000\) cannot exceed total spend \(EUR 1,000\)"),
        (2018, 100, "cannot report spend for 2018: 'Haarlem' committed in 2019"),
    ],
    ids=["circular-above-total", "a-year-before-the-commitment"],
)
def test_a_spend_report_out_of_bounds_is_refused(
    committed: Run, year: int, circular_spend_eur: int, message: str
) -> None:
    with pytest.raises(RuleError, match=message):
        committed(
            "report-spend",
            commitment_id="haarlem",
            year=year,
            category="catering",
            total_spend_eur=1000,
            circular_spend_eur=circular_spend_eur,
            actor="Haarlem",
        )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ([{"year": 2022, "share": 50}, {"year": 2025, "share": 10}], "must not fall"),
        (
            [{"share": 10}, {"year": 2025, "share": 50}],
            "only the path's last step can be an open goal",
        ),
    ],
    ids=["a-share-that-falls", "an-open-goal-before-the-last-step"],
)
def test_a_path_out_of_order_is_refused(run: Run, path: list[dict[str, int]], message: str) -> None:
    programme(run)
    with pytest.raises(RuleError, match=message):
        run(
            "commit",
            commitment_id="x",
            programme_id=PROGRAMME,
            organisation="X",
            organisation_kind="company",
            path=path,
            actor="board",
        )


@pytest.fixture
def community(run: Run) -> Run:
    """Community 'cop' with Haarlem as its one member."""
    programme(run)
    run(
        "found-community",
        community_id="cop",
        programme_id=PROGRAMME,
        name="CoP",
        moderator="Board",
        effective="2017-03-01",
        actor="board",
    )
    run("join-community", community_id="cop", organisation="Haarlem", actor="board")
    return run


def test_only_members_attend_community_meetings(community: Run) -> None:
    with pytest.raises(NotFoundError, match="not members of community 'cop': Zaanstad"):
        community(
            "hold-meeting",
            community_id="cop",
            meeting=1,
            attendees=["Haarlem", "Zaanstad"],
            actor="board",
        )


def test_a_joint_trajectory_needs_two_participants(community: Run) -> None:
    with pytest.raises(RuleError, match="at least two participants"):
        community(
            "start-trajectory",
            community_id="cop",
            trajectory="solo",
            category="catering",
            participants=["Haarlem", "Haarlem"],
            actor="board",
        )


def test_a_target_counts_procurement_trajectories_only_if_measured_as_chains(run: Run) -> None:
    programme(run)
    with pytest.raises(RuleError, match="only a target measured by chains_redesigned"):
        run(
            "set-target",
            **a_target("jobs", "FTE", 2000),
            measure="jobs_fte",
            include_procurement_trajectories=True,
            actor="board",
        )


def test_an_organisation_user_reports_only_its_own_spend(committed: Run) -> None:
    committed(
        "commit",
        commitment_id="zaanstad",
        programme_id=PROGRAMME,
        organisation="Zaanstad",
        organisation_kind="municipality",
        path=PATH,
        effective="2019-10-01",
        actor="board",
    )
    with pytest.raises(NoAuthorityError, match="'Haarlem' may not decide for 'Zaanstad'"):
        committed(
            "report-spend",
            commitment_id="zaanstad",
            year=2020,
            category="catering",
            total_spend_eur=1000,
            circular_spend_eur=100,
            actor="Haarlem",
        )
