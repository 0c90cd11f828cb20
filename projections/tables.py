"""The read models' tables. Every one can be dropped and rebuilt from the event store."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel


class ProjectionPosition(SQLModel, table=True):
    """How far a projection has read the notification log."""

    __tablename__ = "projection_position"

    name: str = Field(primary_key=True)
    position: int = 0


class ProgrammeRow(SQLModel, table=True):
    __tablename__ = "programmes"

    programme_id: str = Field(primary_key=True)
    aggregate_id: str = Field(index=True)
    name: str
    region: str
    founded: date
    current_phase: int | None = None
    phases: str = "{}"  # JSON: phase -> {started, approved, completed, approved_by}
    member_count: int = 0
    scale_up_criteria: str = "{}"  # JSON: the phase-3 criteria the scheduled check applies
    demonstration: bool = False  # the programme holds demonstration data
    version: int = 0


class StreamRow(SQLModel, table=True):
    __tablename__ = "streams"

    programme_id: str = Field(primary_key=True)
    stream: str = Field(primary_key=True)
    name: str
    parent: str | None = None


class MandateRow(SQLModel, table=True):
    """A broker's mandate for a stream over a period (``until`` open while it holds)."""

    __tablename__ = "mandates"

    programme_id: str = Field(primary_key=True)
    broker: str = Field(primary_key=True)
    stream: str = Field(primary_key=True)
    granted_from: date = Field(primary_key=True)
    until: date | None = None


class TargetRow(SQLModel, table=True):
    __tablename__ = "targets"

    programme_id: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    description: str = ""
    unit: str
    baseline: float
    target: float
    deadline: date
    source: str = ""
    measure: str | None = None
    include_procurement_trajectories: bool = False
    measured_value: float | None = None  # the latest programme-level measurement
    measured_on: date | None = None
    measured_source: str | None = None


class InitiativeRow(SQLModel, table=True):
    __tablename__ = "initiatives"

    initiative_id: str = Field(primary_key=True)
    aggregate_id: str = Field(index=True)
    programme_id: str = Field(index=True)
    stream: str = Field(index=True)
    parent_stream: str | None = Field(default=None, index=True)
    title: str
    stage: str = Field(index=True)
    stage_since: date
    status: str
    status_since: date
    status_reason: str = ""
    proposed_by: str
    broker: str  # the broker responsible: who proposed it
    lead: str | None = None
    options: str = "{}"  # JSON: option -> circularity level
    chosen_options: str = "[]"  # JSON list
    best_circularity_level: str | None = None  # lowest R-level among the chosen options
    consultation_open: bool = False
    respondents: str = "[]"  # JSON list of companies that responded
    members: str = "{}"  # JSON: organisation -> role
    arrangement_type: str | None = None
    consortium_formed_on: date | None = None
    operating_from: date | None = None  # when the consortium started operating
    withdrawn_on: date | None = None
    scale_level: str | None = None
    scale_target: str | None = None
    last_assessment_on: date | None = None
    last_assessment_ready: bool | None = None
    at_risk: bool = False  # flagged by the latest phase-3 assessment
    escalations: int = 0
    last_escalated_on: date | None = None
    open_preconditions: int = 0
    failed_preconditions: int = 0
    version: int
    last_effective: date
    last_recorded_at: datetime


class PreconditionRow(SQLModel, table=True):
    __tablename__ = "preconditions"

    initiative_id: str = Field(primary_key=True)
    precondition: str = Field(primary_key=True)
    aggregate_id: str = Field(index=True)
    programme_id: str
    kind: str
    description: str = ""
    responsible: str = Field(index=True)
    due: date | None = Field(default=None, index=True)
    target_value: float | None = None
    target_unit: str | None = None
    status: str = Field(index=True)
    registered_on: date
    resolved_on: date | None = None
    resolution: str = ""
    evidence: str = "[]"  # JSON list
    resolved_by: str = ""  # the command id of the decision that resolved it (to correct it)


class ImpactRow(SQLModel, table=True):
    __tablename__ = "impact_reports"

    initiative_id: str = Field(primary_key=True)
    period: int = Field(primary_key=True)
    programme_id: str = Field(index=True)
    reported_on: date
    jobs_fte: float | None = None
    companies_started: float | None = None
    tonnes_processed_per_year: float | None = None
    raw_material_import_avoided_t: float | None = None
    environmental_pressure_reduction_t_co2e: float | None = None


class DecisionRow(SQLModel, table=True):
    """The flattened decision log: one row per event, programme and initiative alike."""

    __tablename__ = "decisions"

    notification_id: int = Field(primary_key=True)
    subject_kind: str  # programme | initiative
    subject_id: str = Field(index=True)
    programme_id: str = Field(index=True)
    version: int
    event: str = Field(index=True)
    step: str  # the event in words: "consortium formed"
    actor: str = Field(index=True)  # who decided
    recorded_by: str = ""  # who entered it (the actor, unless a late entry names another)
    authority: str = ""  # the mandate or role grant it rested on, by its decision id
    reason: str
    evidence: str = "[]"  # JSON list
    effective: date = Field(index=True)
    recorded_at: datetime
    command_id: str
    details: str = "{}"  # JSON: the event's own fields


class CommitmentRow(SQLModel, table=True):
    """An organisation's circular-procurement commitment and its path."""

    __tablename__ = "commitments"

    commitment_id: str = Field(primary_key=True)
    aggregate_id: str = Field(index=True)
    programme_id: str = Field(index=True)
    organisation: str
    organisation_kind: str
    path: str = "[]"  # JSON: [{year, share}]
    committed_on: date
    categories: str = "[]"  # JSON list of adopted purchase categories


class SpendRow(SQLModel, table=True):
    __tablename__ = "spend_reports"

    commitment_id: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    category: str = Field(primary_key=True)
    programme_id: str = Field(index=True)
    total_spend_eur: float
    circular_spend_eur: float
    investment_eur: float = 0
    reported_on: date


class CommunityRow(SQLModel, table=True):
    __tablename__ = "communities"

    community_id: str = Field(primary_key=True)
    aggregate_id: str = Field(index=True)
    programme_id: str = Field(index=True)
    name: str
    moderator: str
    members: str = "{}"  # JSON: organisation -> role
    member_kinds: str = "{}"  # JSON: organisation -> organisation kind
    founded_on: date


class MeetingRow(SQLModel, table=True):
    __tablename__ = "community_meetings"

    community_id: str = Field(primary_key=True)
    meeting: int = Field(primary_key=True)
    programme_id: str = Field(index=True)
    held_on: date
    attendees: int
    topic: str = ""


class TrajectoryRow(SQLModel, table=True):
    """A joint procurement trajectory started from a community of practice."""

    __tablename__ = "joint_trajectories"

    community_id: str = Field(primary_key=True)
    trajectory: str = Field(primary_key=True)
    programme_id: str = Field(index=True)
    category: str
    participants: int
    invested_eur: float = 0
    started_on: date


READ_MODELS = [
    ProjectionPosition,
    ProgrammeRow,
    StreamRow,
    MandateRow,
    TargetRow,
    InitiativeRow,
    PreconditionRow,
    ImpactRow,
    DecisionRow,
    CommitmentRow,
    SpendRow,
    CommunityRow,
    MeetingRow,
    TrajectoryRow,
]
