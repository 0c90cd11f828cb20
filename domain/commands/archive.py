"""Commands of the archive: opening it, deciding the retention table, approving a
destruction list (the destruction itself is carried out by adapters.retention)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.archive import ARCHIVE, Archive
from domain.commands.base import Command, Day, Name, Slug
from domain.values import Decision


class ArchiveCommand(Command):
    group: ClassVar[str] = "archive"

    archive_id: Name = Field(default=ARCHIVE, description="the archive (there is one)")

    def decide(self, archive: Archive, decision: Decision) -> None:
        raise NotImplementedError


class OpenArchive(ArchiveCommand):
    """Open the archive's record, under the programme whose managers decide retention."""

    command: ClassVar[str] = "open-archive"
    step: ClassVar[str] = "open"
    creates: ClassVar[bool] = True
    programme_id: Slug = Field(description="the programme whose managers decide retention")

    def create(self, decision: Decision) -> Archive:
        return Archive(
            archive_id=self.archive_id, programme_id=self.programme_id, decision=decision
        )


class RetentionRow(BaseModel):
    """One kind of record, its category in words, and how long it is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Name = Field(description="the kind of record (see `retention categories`)")
    category: Name = Field(description="the category in words")
    rule: Literal["permanent", "after_end", "after_effective"] = Field(
        description="permanent; or N years after the initiative ends; or after the decision's "
        "effective date"
    )
    years: int | None = Field(default=None, ge=1, le=200)


class SetRetention(ArchiveCommand):
    """Decide the retention table: every kind of record, its category and period."""

    command: ClassVar[str] = "set-retention"
    step: ClassVar[str] = "set_retention"
    rows: list[RetentionRow] = Field(
        min_length=1,
        max_length=100,
        examples=[
            [
                {
                    "kind": "consultation-response",
                    "category": "market consultation responses",
                    "rule": "after_end",
                    "years": 10,
                }
            ]
        ],
    )

    def decide(self, archive: Archive, decision: Decision) -> None:
        archive.set_retention(
            rows=[r.model_dump(exclude_none=True) for r in self.rows], decision=decision
        )


class DestructionEntry(BaseModel):
    """One stored event on a destruction list, as `retention due` found it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    aggregate: Name = Field(description="the record's id in the store (hex)")
    name: str = Field(default="", max_length=200, description="the record's people's id")
    version: int = Field(ge=1)
    event: Name = Field(description="the event's name")
    record_kind: Name
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="as the chain recorded it")
    rule: Name = Field(description="the rule that made it due, in words")
    due_on: Day


class ApproveDestruction(ArchiveCommand):
    """Approve a destruction list: these records are past their period and may be
    destroyed. The list gets the next number and is kept permanently."""

    command: ClassVar[str] = "approve-destruction"
    step: ClassVar[str] = "approve_destruction"
    entries: list[DestructionEntry] = Field(min_length=1, max_length=100_000)

    def decide(self, archive: Archive, decision: Decision) -> None:
        archive.approve_destruction(
            number=archive.next_number,
            entries=[e.model_dump(mode="json") for e in self.entries],
            decision=decision,
        )
