"""Value objects and the domain's vocabularies, shared by aggregates and commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from zoneinfo import ZoneInfo

PROGRAMME_TZ = ZoneInfo("Europe/Amsterdam")
"""Where the programme's business days are counted: an effective date is a day there."""


@dataclass(frozen=True)
class Decision:
    """Who decided, why, on what evidence, when it took effect, and which command caused it.

    Every event carries one. The library's own event timestamp is the recording time;
    ``effective`` is the business date, which may lie in the past when history is entered.
    """

    command_id: str
    actor: str
    reason: str
    evidence: list[str]
    effective: date
    digest: str = ""  # fingerprint of the command's content, to catch a reused command id
    recorded_by: str = ""  # who entered it, when not the decider (a late entry); "" = actor
    authority: str = ""  # what it rested on: the mandate or role grant, by its command id

    @property
    def recorder(self) -> str:
        return self.recorded_by or self.actor


class AuthorityRole(StrEnum):
    """What an identity may do, granted by a recorded decision. A broker decides on
    initiatives within a mandate; an organisation user speaks for one organisation."""

    MANAGER = "manager"
    BROKER = "broker"
    AUDITOR = "auditor"
    ORGANISATION = "organisation"


class Stage(StrEnum):
    """Where an initiative stands in its lifecycle, in order."""

    PROPOSED = "proposed"
    EXPERT_SCAN = "expert_scan"
    MARKET_CONSULTATION = "market_consultation"
    PRECONDITION_FULFILMENT = "precondition_fulfilment"
    CONSORTIUM_FORMED = "consortium_formed"
    BOARD_WITHDRAWN = "board_withdrawn"
    SCALING_UP = "scaling_up"
    SCALED_UP = "scaled_up"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def rank(self) -> int:
        return list(Stage).index(self)


FALLBACK_STAGES = (Stage.EXPERT_SCAN, Stage.MARKET_CONSULTATION, Stage.PRECONDITION_FULFILMENT)


class Status(StrEnum):
    ACTIVE = "active"
    STALLED = "stalled"
    ABANDONED = "abandoned"


class PreconditionKind(StrEnum):
    GUARANTEED_VOLUME = "guaranteed_volume"
    OFFTAKE_QUALITY = "offtake_quality"
    COLLECTION_AND_LOGISTICS = "collection_and_logistics"
    FINANCING = "financing"
    PERMIT = "permit"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class PreconditionStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    WAIVED = "waived"
    FAILED = "failed"
    DROPPED = "dropped"  # superseded when the initiative fell back before it was resolved


class Role(StrEnum):
    LEAD = "lead"
    COLLECTOR = "collector"
    PROCESSOR = "processor"
    OFFTAKER = "offtaker"
    MUNICIPALITY = "municipality"
    FINANCIER = "financier"
    KNOWLEDGE_INSTITUTE = "knowledge_institute"
    OTHER = "other"


class CircularityLevel(StrEnum):
    """The R-ladder: R0 refuse ... R9 recover energy."""

    R0 = "R0"
    R1 = "R1"
    R2 = "R2"
    R3 = "R3"
    R4 = "R4"
    R5 = "R5"
    R6 = "R6"
    R7 = "R7"
    R8 = "R8"
    R9 = "R9"


class ScaleLevel(StrEnum):
    REGIONAL = "regional"
    NATIONAL = "national"


class PhaseStatus(StrEnum):
    STARTED = "started"
    APPROVED = "approved"
    COMPLETED = "completed"


class OrganisationKind(StrEnum):
    MUNICIPALITY = "municipality"
    PROVINCE = "province"
    COMPANY = "company"
    KNOWLEDGE_INSTITUTE = "knowledge_institute"
    BOARD = "board"
    OTHER = "other"


class Measure(StrEnum):
    """What the read models count towards a target, from the initiatives' decisions.

    ``consortia_formed`` and ``chains_redesigned`` count initiatives whose consortium is formed
    and not abandoned (each redesigns one product or material chain); a ``chains_redesigned``
    target adds the joint procurement trajectories only where the programme decided so when it
    set the target. ``procurement_trajectories`` counts the joint procurement trajectories
    started from communities of practice. ``streams_recycled_high_value`` counts
    distinct (sub-)streams with such an initiative whose chosen option sits at R0-R8 (energy
    recovery, R9, is not high value). The impact measures add up each initiative's latest
    yearly report (``companies_started``: all years). A target without a measure is tracked
    by measurements the programme records itself (``record-target-measurement``).
    """

    CONSORTIA_FORMED = "consortia_formed"
    CHAINS_REDESIGNED = "chains_redesigned"  # consortia formed (+ trajectories if decided)
    PROCUREMENT_TRAJECTORIES = "procurement_trajectories"
    STREAMS_RECYCLED_HIGH_VALUE = "streams_recycled_high_value"
    JOBS_FTE = "jobs_fte"
    COMPANIES_STARTED = "companies_started"
    TONNES_PROCESSED_PER_YEAR = "tonnes_processed_per_year"
    RAW_MATERIAL_IMPORT_AVOIDED_T = "raw_material_import_avoided_t"
    ENVIRONMENTAL_PRESSURE_REDUCTION_T_CO2E = "environmental_pressure_reduction_t_co2e"


IMPACT_FIGURES: dict[str, str] = {
    "jobs_fte": "FTE",
    "companies_started": "companies",
    "tonnes_processed_per_year": "t/yr",
    "raw_material_import_avoided_t": "t/yr",
    "environmental_pressure_reduction_t_co2e": "t CO2e/yr",
}
"""Impact figures an initiative reports, each with its own unit (never summed across units)."""

SYSTEM_IDENTITY_PREFIXES = ("scheduler:", "system:", "operator:", "service:", "flow:")
"""Actor names starting so (in any case) are the system's own identities: the flows decide as
``scheduler:...`` (``flows.runtime``). No person may be given such a name."""
