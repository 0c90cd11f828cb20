"""Refusals a broker can act on: each names the rule and the facts.

A refusal is built from an English template, the message id, with named parameters:
``RuleError(N_("cannot start phase {phase}: phase {previous} has not started"), phase=3,
previous=2)``. ``str(error)`` is the English text (logs, scripts and tests read it); a door
renders it in its reader's language from ``message_id`` and ``params``
(``adapters.i18n.translator(lang).message(error)``). Parameters are:

- a ``Term``: a domain word (a stage, a status, a role, a stream...), rendered through the
  glossary; in English it is the slug with spaces for underscores;
- a ``Message`` (or another refusal): a text of its own, rendered the same way, in turn;
- a date (ISO in English), a float (at most two decimals), a list (each item, ", " between);
- anything else, as ``str`` gives it: names, ids, free text a person typed, whole numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, Self

from domain.messages import N_


@dataclass(frozen=True)
class Term:
    """A domain slug as a message parameter: rendered with the glossary's word for it."""

    kind: str  # the glossary's kind: stage, status, role, consortium_role, stream, ...
    value: str

    def __str__(self) -> str:
        return str(self.value).replace("_", " ")


class Message:
    """A text for a person in any language: an English template and its named parameters."""

    __slots__ = ("message_id", "params")

    def __init__(self, message_id: str, /, **params: Any) -> None:
        self.message_id = message_id
        self.params: dict[str, Any] = params

    def __str__(self) -> str:
        return english(self.message_id, self.params)

    def __repr__(self) -> str:
        return f"Message({self.message_id!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Message)
            and self.message_id == other.message_id
            and self.params == other.params
        )

    def __hash__(self) -> int:
        return hash(self.message_id)


def english(message_id: str, params: Mapping[str, Any]) -> str:
    """The template filled in, in English. Without parameters the text is taken as it is
    (it may hold braces that are no field)."""
    if not params:
        return message_id
    return message_id.format_map({name: plain(value) for name, value in params.items()})


def plain(value: Any) -> str:
    """A parameter in English words (what ``str(error)`` shows)."""
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    return str(value)  # a Term, a Message, a refusal, a date (ISO), a whole number, a name


class Wording(Protocol):
    """How a language words a message: ``adapters.i18n.Translator`` is one."""

    def gettext(self, message: str, /) -> str: ...

    def term(self, kind: str, value: str, /) -> str: ...

    def day(self, value: date, /) -> str: ...

    def number(self, value: float, /, digits: int = ...) -> str: ...


def localise(message: Message | KringloopError, wording: Wording) -> str:
    """A message (or a refusal) in a language: its template translated, its parameters in
    that language too (terms through the glossary, nested messages in turn, dates and
    numbers in its way). A translation that names a field the template lacks falls back to
    the English template."""
    template = wording.gettext(message.message_id)
    if not message.params:
        return template
    rendered = {name: _localised(value, wording) for name, value in message.params.items()}
    try:
        return template.format_map(rendered)
    except (KeyError, IndexError, ValueError):
        return message.message_id.format_map(rendered)


def _localised(value: Any, wording: Wording) -> str:
    if isinstance(value, Message | KringloopError):
        return localise(value, wording)
    if isinstance(value, Term):
        return wording.term(value.kind, value.value)
    if isinstance(value, date):
        return wording.day(value)
    if isinstance(value, float | Decimal):
        return wording.number(float(value), digits=2)
    if isinstance(value, list | tuple):
        return ", ".join(_localised(item, wording) for item in value)
    return str(value)


def either(items: Iterable[Any]) -> Any:
    """Items as one parameter, "a or b or c" (each "or" translated)."""
    found: Any = None
    for item in items:
        found = (
            item if found is None else Message(N_("{first} or {second}"), first=found, second=item)
        )
    return "" if found is None else found


def terms(kind: str, values: Iterable[Any]) -> list[Term]:
    """Slugs of one kind as a list parameter of terms."""
    return [Term(kind, str(value)) for value in values]


class KringloopError(Exception):
    """A refused command. The message is meant for the person who issued it."""

    code = "refused"
    field: str | None = None
    """The command's field the refusal concerns, when it concerns one (a form marks it)."""

    def __init__(self, message_id: str, /, **params: Any) -> None:
        super().__init__(english(message_id, params))
        self.message_id = message_id
        self.params: dict[str, Any] = params

    def concerning(self, field: str) -> Self:
        """This refusal, marked as concerning the command's ``field``."""
        self.field = field
        return self


class InvalidCommandError(KringloopError):
    code = "invalid"
    problems: tuple[Mapping[str, Any], ...] = ()
    """When the command's model refused its fields: pydantic's errors, each with its
    ``loc``, ``type``, ``msg`` and ``ctx``, for a door that words each field's problem."""


class NotFoundError(KringloopError):
    code = "not_found"


class AlreadyExistsError(KringloopError):
    code = "already_exists"


class WrongStageError(KringloopError):
    code = "wrong_stage"


class NotActiveError(KringloopError):
    code = "not_active"


class PreconditionsStillOpenError(KringloopError):
    code = "preconditions_open"


class ConsortiumIncompleteError(KringloopError):
    code = "consortium_incomplete"


class SharesDoNotAddUpError(KringloopError):
    code = "shares"


class NoMandateError(KringloopError):
    code = "no_mandate"


class NoAuthorityError(KringloopError):
    """The decider (or the recorder) held no role that allows the decision."""

    code = "no_authority"


class EffectiveDateError(KringloopError):
    code = "effective_date"


class RuleError(KringloopError):
    """A lifecycle rule not covered by a more specific error."""

    code = "rule"


class CommandIdReusedError(KringloopError):
    code = "command_id_reused"


class ConcurrencyConflictError(KringloopError):
    code = "conflict"
