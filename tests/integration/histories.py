"""Random but valid command histories: many candidate commands tried, refusals ignored."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from domain.errors import KringloopError
from tests.conftest import Run
from tests.scenario import STEPS, programme

INITIATIVES = ["grass", "diapers", "timber"]
COMPANIES = ["GrassFibre", "Port", "Province"]
ROLES = ["lead", "collector", "processor", "offtaker"]


def candidates(initiative: str, n: int) -> list[tuple[str, dict[str, Any]]]:
    """Every kind of initiative command, with arguments varied by ``n``."""
    company = COMPANIES[n % len(COMPANIES)]
    precondition = ["volume", "offtake", "logistics"][n % 3]
    return [
        (
            "propose-initiative",
            {
                "programme_id": "mra",
                "stream": ["biomass", "roadside-grass"][n % 2],
                "title": f"Initiative {initiative}",
            },
        ),
        ("start-expert-scan", {}),
        (
            "record-option",
            {
                "option": f"option-{n % 3}",
                "description": "d",
                "circularity_level": f"R{n % 10}",
                "expert": "TNO",
            },
        ),
        ("complete-expert-scan", {"chosen_options": [f"option-{n % 3}"]}),
        ("open-consultation", {}),
        (
            "record-response",
            {"company": company, "willing_to_invest": True, "willing_to_lead": n % 4 != 0},
        ),
        ("close-consultation", {"lead": company}),
        (
            "register-precondition",
            {
                "precondition": precondition,
                "kind": "guaranteed_volume",
                "responsible": company,
                "due": "2017-01-01",
            },
        ),
        ("fulfil-precondition", {"precondition": precondition, "evidence": [f"e{n}.pdf"]}),
        ("waive-precondition", {"precondition": precondition}),
        ("fail-precondition", {"precondition": precondition}),
        ("admit-member", {"organisation": company, "role": ROLES[n % len(ROLES)]}),
        ("declare-no-arrangement", {}),
        (
            "agree-arrangement",
            {
                "arrangement_type": "jv",
                "shares": [{"party": company, "cost_share": 100, "benefit_share": 100}],
            },
        ),
        ("form-consortium", {}),
        ("withdraw-board", {"handover_note": "carry on"}),
        ("assess-scale-up", {"ready": n % 2 == 0, "criteria": "c", "figures": {"t": n}}),
        ("start-scale-up", {"level": ["regional", "national"][n % 2]}),
        ("complete-scale-up", {}),
        ("report-impact", {"period": 2016 + n % 5, "jobs_fte": n, "companies_started": n % 2}),
        ("stall", {}),
        ("resume", {}),
        ("abandon", {}),
        ("reopen", {}),
        (
            "fall-back",
            {"to_stage": ["expert_scan", "market_consultation", "precondition_fulfilment"][n % 3]},
        ),
    ]


NORMAL_PATH = [command for _, commands in STEPS for command in commands]

step = st.tuples(
    st.sampled_from(INITIATIVES), st.integers(-12, 24), st.integers(0, 11), st.integers(0, 3)
)
"""(initiative, which command: negative = the next step of the normal path, a variation,
days to move the effective date on)."""
histories = st.lists(step, min_size=1, max_size=60)


def play(run: Run, history: list[tuple[str, int, int, int]]) -> int:
    """Set up the programme, then try each step; return how many were accepted."""
    programme(run)
    accepted = 0
    day = date(2016, 1, 1)
    progress = dict.fromkeys(INITIATIVES, 0)
    for initiative, which, variation, days in history:
        day += timedelta(days=days)
        on_path = which < 0 and progress[initiative] < len(NORMAL_PATH)
        if on_path:
            command, fields = NORMAL_PATH[progress[initiative]]
        else:
            command, fields = candidates(initiative, variation)[abs(which)]
        try:
            run(command, initiative_id=initiative, effective=day.isoformat(), **fields)
        except KringloopError:
            continue
        accepted += 1
        progress[initiative] += 1 if on_path else 0
    return accepted
