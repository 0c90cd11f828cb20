"""Refusals a broker can act on: each names the rule and the facts."""

from __future__ import annotations


class KringloopError(Exception):
    """A refused command. The message is meant for the person who issued it."""

    code = "refused"


class InvalidCommandError(KringloopError):
    code = "invalid"


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
