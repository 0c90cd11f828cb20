"""What every command carries, the field types they share, and what executing one returns."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar
from uuid import uuid4

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from domain.values import PROGRAMME_TZ, Decision

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$"),
    Field(description="lower-case letters, digits and hyphens, at most 63 characters"),
]
RESERVED = {"_type_", "_data_"}  # the event store's JSON marks its own encoded values so
# Control characters (NUL, escape sequences, ...) and bidirectional overrides: PostgreSQL's
# text columns refuse NUL, a terminal obeys escapes, an override makes a reason read
# differently from what it says. A free text keeps its line breaks and tabs; a name does not.
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_NOT_IN_TEXT = re.compile(f"[{_CONTROL}]")
_NOT_IN_NAME = re.compile(f"[{_CONTROL}\t\n\r\u2028\u2029]")


def _invalid(message: str) -> PydanticCustomError:
    """A refusal worded for the person who typed the value (no "Value error, " prefix)."""
    return PydanticCustomError("kringloop", message)


def _not_reserved(value: str) -> str:
    if value in RESERVED:
        raise ValueError(f"{value!r} is reserved by the event store; choose another name")
    return value


def _refuse_characters(value: str, pattern: re.Pattern[str], what: str) -> str:
    found = pattern.search(value)
    if found is not None:
        raise _invalid(f"{what} may not contain U+{ord(found.group()):04X} (a control character)")
    return value


def _one_line(value: str) -> str:
    return _refuse_characters(value, _NOT_IN_NAME, "a name or reference")


def _printable(value: str) -> str:
    return _refuse_characters(value, _NOT_IN_TEXT, "a text")


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_one_line),
    AfterValidator(_not_reserved),
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=4000), AfterValidator(_printable)
]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_printable),
    Field(description="why: the decision's justification, in words an auditor reads"),
]
Reference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_one_line),
]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def business_day(value: Any) -> Any:
    """Dates are business days in the programme's time zone. A date-time with an offset is
    taken as that moment's day there; one without an offset, or a bare number, is refused:
    which day it meant would be a guess."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str) and _DATE.fullmatch(value.strip()):
        return value.strip()  # pydantic checks that the day exists
    elif isinstance(value, str) and _DATE_TIME.match(value.strip()):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _invalid(f"{value!r} is not a date (YYYY-MM-DD)") from None
    else:
        raise _invalid(f"{value!r} is not a date (YYYY-MM-DD)")
    if moment.utcoffset() is None:
        raise _invalid(
            f"{value!s} has a time but no time zone: give a date (YYYY-MM-DD) or a time "
            "with its offset (2018-08-01T09:00:00+02:00)"
        )
    return moment.astimezone(PROGRAMME_TZ).date()


Day = Annotated[date, BeforeValidator(business_day)]
"""A calendar day (YYYY-MM-DD) in the programme's time zone."""
ABSURD = 1e12


Figure = Annotated[float, Field(allow_inf_nan=False, ge=0, le=ABSURD)]
"""A non-negative, finite, not absurdly large figure."""
Percentage = Annotated[float, Field(allow_inf_nan=False, ge=0, le=100)]
FigureName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    AfterValidator(_one_line),
    AfterValidator(_not_reserved),
]


class Command(BaseModel):
    """A decision someone asks the engine to record."""

    # defer_build: validators are built on first use, so a CLI that only reads starts fast
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True, defer_build=True)

    command: ClassVar[str]
    """Its one name: in the catalogue, in JSON lines, as the CLI's sub-command and in the
    API's path. For a decision on an aggregate, the kebab form of the method it calls."""
    step: ClassVar[str]
    """The aggregate's method it calls (``fail_precondition``); for a command that
    ``creates``, the act of creating (``propose``)."""
    former_names: ClassVar[tuple[str, ...]] = ()
    """Names it had in the catalogue, oldest first: JSON lines and the API still accept
    them, marked deprecated."""
    former_verbs: ClassVar[tuple[str, ...]] = ()
    """Sub-commands it had in the CLI: still accepted there, marked deprecated."""
    recorded_as: ClassVar[str]
    """The name its digest is computed under: the name it was first recorded with (its
    oldest former name, else its name), so that a command recorded before a rename replays
    when it is sent again, under either name, with the same command id."""
    group: ClassVar[str]  # the aggregate it decides on: programme, initiative, commitment, ...
    cli_group: ClassVar[str] = ""  # where the CLI lists it (default: its group)
    creates: ClassVar[bool] = False  # it brings its aggregate into being

    command_id: Annotated[str, AfterValidator(_one_line)] = Field(
        default_factory=lambda: uuid4().hex,
        min_length=1,
        max_length=200,
        description="idempotency key: the same id applied twice records the decision once",
    )
    actor: Name = Field(description="who decides (a broker's or manager's id)")
    reason: Reason
    evidence: list[Reference] = Field(
        default_factory=list, max_length=50, description="references to documents, hashes, urls"
    )
    effective: Day | None = Field(
        default=None, description="the day the decision took effect (default: today)"
    )
    recorded_by: Name | None = Field(
        default=None,
        description="who enters the decision now, when that is not who took it (a late "
        "entry): the decider needs authority on the effective date, the recorder today",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "command" in cls.__dict__:
            cls.recorded_as = (cls.former_names or (cls.command,))[0]
        if not getattr(cls, "cli_group", "") and hasattr(cls, "group"):  # may be inherited
            cls.cli_group = cls.group

    @property
    def subject_id(self) -> str:
        """The id of the programme or initiative this command decides on."""
        return str(getattr(self, f"{self.group}_id"))

    def create(self, decision: Decision) -> Any:
        """The new aggregate, for a command that ``creates``."""
        raise NotImplementedError

    def decide(self, aggregate: Any, decision: Decision) -> None:
        """Call the aggregate's command method; it refuses or records one event."""
        raise NotImplementedError

    added_later: ClassVar[frozenset[str]] = frozenset()
    """Fields added after commands were first recorded: left out of the fingerprint while
    they hold their default, so a command recorded before they existed keeps its digest."""

    personal_fields: ClassVar[frozenset[str]] = frozenset()
    """Fields that hold a person's data (domain.personal): sealed in the event, and left out
    of the fingerprint, which is stored in clear and would let a guess be confirmed after
    the data is erased."""

    def digest(self) -> str:
        """A fingerprint of the content, without the command id (nor personal data)."""
        body = self.model_dump(mode="json", exclude={"command_id", *self.personal_fields})
        for name in ("recorded_by", *self.added_later):
            if getattr(self, name) == type(self).model_fields[name].get_default(
                call_default_factory=True
            ):
                body.pop(name, None)
        canonical = json.dumps([self.recorded_as, body], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def decision(self, effective: date) -> Decision:
        return Decision(
            command_id=self.command_id,
            actor=self.actor,
            reason=self.reason,
            evidence=list(self.evidence),
            effective=effective,
            digest=self.digest(),
            recorded_by=self.recorded_by if self.recorded_by not in (None, self.actor) else "",
        )


class Outcome(BaseModel):
    """What executing a command did: the aggregate, its new version, its log position."""

    model_config = ConfigDict(frozen=True)

    command: str
    command_id: str
    kind: str = Field(description="programme, initiative, commitment or community")
    id: str
    version: int
    notification_id: int | None = Field(
        description="position in the event log, to wait for read models (None when replayed)"
    )
    replayed: bool = Field(description="true when this command id had been applied before")
