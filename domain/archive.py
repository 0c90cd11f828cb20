"""Retention and destruction under the Archiefwet, as a record of its own: the retention
table in force (which kind of record is kept how long) and the destruction lists approved.

One archive per store. Until a table is decided the default below holds. What the table
and the lists mean for the stored events (what is due, the tombstones) is worked out in
adapters.retention; the rules a decision must obey are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import RuleError
from domain.messages import N_
from domain.record import DecisionRecord
from domain.values import Decision

ARCHIVE_NAMESPACE = UUID("0c5f3a8e-7d21-4b6e-9a4f-1e2d3c4b5a69")
ARCHIVE = "archive"  # the one archive's id
PERMANENT = "permanent"
AFTER_END = "after_end"  # N years after the initiative ends (abandoned, or scaled up)
AFTER_EFFECTIVE = "after_effective"  # N years after the decision took effect
RULES = (PERMANENT, AFTER_END, AFTER_EFFECTIVE)
LISTS = "destruction-lists"  # the archive's own decisions: always permanent

DEFAULT_TABLE: tuple[dict[str, Any], ...] = (
    {"kind": "programme-decision", "category": N_("programme decisions"), "rule": PERMANENT},
    {"kind": "authority-register", "category": N_("roles granted and revoked"), "rule": PERMANENT},
    {"kind": LISTS, "category": N_("retention tables and destruction lists"), "rule": PERMANENT},
    {"kind": "procurement", "category": N_("commitments and communities"), "rule": PERMANENT},
    {"kind": "consortium-formation", "category": N_("consortium formation"), "rule": PERMANENT},
    {"kind": "board-withdrawal", "category": N_("board withdrawal"), "rule": PERMANENT},
    {"kind": "scale-up", "category": N_("scale-up"), "rule": PERMANENT},
    {
        "kind": "initiative-lifecycle",
        "category": N_(
            "initiative stages and statuses, options and preconditions (what kept decisions "
            "rest on)"
        ),
        "rule": PERMANENT,
    },
    {
        "kind": "consultation-response",
        "category": N_("market consultation responses"),
        "rule": AFTER_END,
        "years": 10,
    },
    {
        "kind": "initiative-decision",
        "category": N_("other initiative decisions (impact reports, escalations)"),
        "rule": AFTER_END,
        "years": 10,
    },
)
"""Used until a table is decided: what the programme keeps for good, and what for ten
years after the initiative ends."""
RECORD_KINDS = tuple(row["kind"] for row in DEFAULT_TABLE)


class Archive(DecisionRecord):
    """The retention table over time, and every destruction list approved (kept for good)."""

    keeps_effective_order = False  # a table decided earlier may be entered late

    @staticmethod
    @lru_cache(maxsize=4)
    def create_id(archive_id: str = ARCHIVE) -> UUID:
        return uuid5(ARCHIVE_NAMESPACE, ARCHIVE)  # one per store, whatever it is called

    @event("Opened")
    def __init__(self, archive_id: str, programme_id: str, decision: Decision) -> None:
        self.archive_id = archive_id
        self.programme_id = programme_id  # whose managers decide (domain.policy)
        self.tables: list[dict[str, Any]] = []  # {"since", "command_id", "rows"}
        self.lists: list[dict[str, Any]] = []  # {"number", "approved_on", ...}
        self.last_effective = decision.effective

    @event("RetentionSet")
    def set_retention(self, rows: list[dict[str, Any]], decision: Decision) -> None:
        check_table(rows)
        self.tables.append(
            {"since": decision.effective, "command_id": decision.command_id, "rows": rows}
        )

    @event("DestructionApproved")
    def approve_destruction(
        self, number: int, entries: list[dict[str, Any]], decision: Decision
    ) -> None:
        self.check_list(number, entries, decision.effective)
        self.lists.append(
            {
                "number": number,
                "approved_on": decision.effective,
                "approved_by": decision.actor,
                "reason": decision.reason,
                "command_id": decision.command_id,
                "entries": entries,
            }
        )

    def table(self) -> list[dict[str, Any]]:
        """The table in force: the latest decided, else the default."""
        return list(self.tables[-1]["rows"]) if self.tables else [dict(r) for r in DEFAULT_TABLE]

    @property
    def next_number(self) -> int:
        return len(self.lists) + 1

    def approved(self, number: int) -> dict[str, Any] | None:
        return next((found for found in self.lists if found["number"] == number), None)

    def check_list(self, number: int, entries: list[dict[str, Any]], on: date) -> None:
        if number != self.next_number:
            raise RuleError(
                N_("destruction list {number} is not the next one (that is {expected})"),
                number=number,
                expected=self.next_number,
            )
        if not entries:
            raise RuleError(N_("a destruction list names at least one record"))
        permanent = {r["kind"] for r in self.table() if r["rule"] == PERMANENT}
        listed = {(f["aggregate"], f["version"]): f["number"] for f in self._all_entries()}
        seen: set[tuple[str, int]] = set()
        for entry in entries:
            key = (str(entry["aggregate"]), int(entry["version"]))
            where = f"{key[0]} version {key[1]}"
            if key[1] <= 1:
                raise RuleError(
                    N_("cannot destroy {where}: a record's first event (its creation) is kept"),
                    where=where,
                )
            if entry["record_kind"] in permanent:
                raise RuleError(
                    N_("cannot destroy {where}: {kind} records are kept permanently"),
                    where=where,
                    kind=entry["record_kind"],
                )
            if date.fromisoformat(str(entry["due_on"])) > on:
                raise RuleError(
                    N_("cannot destroy {where}: its retention period runs until {due}"),
                    where=where,
                    due=entry["due_on"],
                )
            if key in seen or key in listed:
                raise RuleError(
                    N_("{where} is already on a destruction list"),
                    where=where,
                )
            seen.add(key)

    def _all_entries(self) -> list[dict[str, Any]]:
        return [{**e, "number": found["number"]} for found in self.lists for e in found["entries"]]


def check_table(rows: list[dict[str, Any]]) -> None:
    """A table names every kind of record once, with a rule it can apply; the archive's own
    decisions stay permanent (a destruction list must outlive what it destroyed)."""
    kinds = [str(r.get("kind")) for r in rows]
    unknown = sorted(set(kinds) - set(RECORD_KINDS))
    if unknown:
        raise RuleError(
            N_("unknown record kinds {kinds} (known: {known})"),
            kinds=", ".join(unknown),
            known=", ".join(RECORD_KINDS),
        )
    missing = [k for k in RECORD_KINDS if k not in kinds]
    if missing or len(kinds) != len(set(kinds)):
        raise RuleError(
            N_("a retention table names every kind of record once (missing: {kinds})"),
            kinds=", ".join(missing) or "-",
        )
    for row in rows:
        rule, years = row.get("rule"), row.get("years")
        if rule not in RULES:
            raise RuleError(
                N_("{kind}: unknown rule {rule} (known: {known})"),
                kind=row["kind"],
                rule=rule,
                known=", ".join(RULES),
            )
        if rule != PERMANENT and not (isinstance(years, int) and years >= 1):
            raise RuleError(
                N_("{kind}: the rule {rule} needs a number of years (1 or more)"),
                kind=row["kind"],
                rule=rule,
            )
        if row["kind"] == LISTS and rule != PERMANENT:
            raise RuleError(N_("the destruction lists themselves are kept permanently"))


@dataclass(frozen=True)
class Destroyed(Aggregate.Event):
    """What stays of a destroyed event: its place (the version), which event it was, the
    content hash the chain recorded for it, and the list it was destroyed under. Applying it
    changes nothing but the version, so the record still loads."""

    original_topic: str
    content_hash: str
    destroyed_on: date
    list_number: int

    def apply(self, aggregate: Any) -> None:
        pass

    @property
    def decision(self) -> Decision:
        """Read as a decision, for the readers of histories: what destroyed it."""
        return Decision(
            command_id="",
            actor="",
            reason=f"destroyed on {self.destroyed_on} under list {self.list_number}",
            evidence=[],
            effective=self.destroyed_on,
        )
