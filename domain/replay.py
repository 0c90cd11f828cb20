"""Decide a recorded decision again, through today's rules: the aggregate method that
recorded the event is called anew with the event's own arguments."""

from __future__ import annotations

import inspect
from typing import Any

from eventsourcing.domain import CommandMethodDecorator, decorated_func_callers

from domain.record import DecisionRecord

_BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def _methods(aggregate_class: type) -> dict[type, str]:
    found: dict[type, str] = {}
    for klass in aggregate_class.__mro__:
        for name, value in vars(klass).items():
            if isinstance(value, CommandMethodDecorator) and value in decorated_func_callers:
                found.setdefault(decorated_func_callers[value], name)
    return found


def redecide(aggregate: DecisionRecord, event: Any) -> None:
    """Apply ``event``'s decision to ``aggregate`` as a new decision: the guards run again,
    and refuse it with the usual error if the rules (or the history before it) no longer
    allow it."""
    arguments = {k: v for k, v in vars(event).items() if k not in _BASE_FIELDS}
    command = type(aggregate).decided_by.get(type(event).__name__)
    if command is not None:  # the command method: guards, then the event with its consequences
        taken = inspect.signature(getattr(aggregate, command)).parameters
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in taken.values()):
            arguments = {k: v for k, v in arguments.items() if k in taken}  # no consequences
        getattr(aggregate, command)(**arguments)
        return
    method = _methods(type(aggregate)).get(type(event))
    if method is None or method == "__init__":
        raise ValueError(f"{type(event).__name__} cannot be decided again on an existing record")
    getattr(aggregate, method)(**arguments)
