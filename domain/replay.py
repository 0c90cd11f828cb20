"""Decide a recorded decision again, through today's rules: the aggregate method that
recorded the event is called anew with the event's own arguments."""

from __future__ import annotations

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
    method = _methods(type(aggregate)).get(type(event))
    if method is None or method == "__init__":
        raise ValueError(f"{type(event).__name__} cannot be decided again on an existing record")
    arguments = {k: v for k, v in vars(event).items() if k not in _BASE_FIELDS}
    getattr(aggregate, method)(**arguments)
