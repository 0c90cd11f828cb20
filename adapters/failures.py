"""Storage failures in words a person can act on, and which failures may pass when the same
work is tried again (a lock, a lost connection, a conflict) and which never will (a refusal).

Both the store's wiring (adapters.store) and its recorders (adapters.recorders) name their
failures here, so neither needs the other.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from eventsourcing.persistence import PersistenceError

from domain.errors import ConcurrencyConflictError, KringloopError

if TYPE_CHECKING:
    from adapters.settings import Settings


class StorageError(KringloopError):
    code = "storage"


LOCKED = ("database is locked", "database table is locked", "lock timeout")
DISK_FULL = ("database or disk is full", "no space left on device", "disk full", "disk quota")
CONNECTION = (
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "connection is closed",
    "connection timeout",
    "couldn't get a connection",
    "consuming input failed",
)
# what the drivers (sqlite3, psycopg, SQLAlchemy, eventsourcing.persistence) call a failure of
# the database's operation or of the line to it, as against a wrong statement or a bug
PASSING_DRIVER_ERRORS = ("OperationalError", "InterfaceError")


def is_locked(error: BaseException) -> bool:
    return any(s in str(error).lower() for s in LOCKED)


NOTHING_RECORDED = "Nothing was recorded: every write is one transaction, rolled back whole."
READS_BEHIND = (
    "A decision may be recorded all the same; the read models catch up with the next command "
    "(or `kringloop projections catch-up`)."
)


def describe_failure(
    error: BaseException, what: str, waited: float = 0.0, outcome: str = NOTHING_RECORDED
) -> StorageError:
    """A storage failure in words a person can act on: what happened, what it left behind
    (``outcome``), and what to do."""
    text = str(error).lower()
    if is_locked(error):
        waiting = f" (waited {waited:g} s)" if waited else ""
        return StorageError(
            f"{what} is locked by another process{waiting}: another kringloop command, "
            "`kringloop serve`, the API or a tool such as the sqlite3 shell is holding a write "
            f"lock. {outcome} Let it finish (or stop it) and run the command again; "
            "KRINGLOOP_LOCK_TIMEOUT sets how many seconds to wait"
        )
    if any(s in text for s in DISK_FULL) or getattr(error, "errno", None) == errno.ENOSPC:
        return StorageError(
            f"the disk holding {what} is full. {outcome} Free some space (or move the data "
            "folder) and run the command again; `kringloop audit verify` checks the store"
        )
    if any(s in text for s in CONNECTION):
        return StorageError(
            f"lost the connection to {what} and could not get it back ({error}). {outcome} "
            "Check that the database server is running and run the command again"
        )
    return StorageError(f"{what} failed: {error}")


def storage_error(error: BaseException, settings: Settings | None = None) -> StorageError | None:
    """The StorageError for a driver or OS error met anywhere (event store, read store,
    data folder); None for anything that is not a storage failure."""
    if isinstance(error, StorageError):
        return error
    module = type(error).__module__.split(".")[0]
    if isinstance(error, PersistenceError) or module in ("sqlite3", "psycopg", "psycopg_pool"):
        return describe_failure(
            error, f"the event store ({settings.storage_label})" if settings else "the event store"
        )
    if module == "sqlalchemy":
        return describe_failure(error, "the read models' database", outcome=READS_BEHIND)
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return describe_failure(error, f"the data folder {settings.home}" if settings else "it")
    return None


def is_transient(error: BaseException) -> bool:
    """May the same work succeed if tried again? Yes for another writer's conflicting write,
    a storage failure (a lock, a full disk being freed, a lost connection): a retry decides
    again on the state as it then is, and a command recorded once is recognised by its id.
    Never for a refusal (the rules say no, and will again) or a bug."""
    if isinstance(error, ConcurrencyConflictError | StorageError | ConnectionError | TimeoutError):
        return True
    if isinstance(error, KringloopError):
        return False  # a refusal: wrong stage, no mandate, invalid, not found, ...
    return any(kind.__name__ in PASSING_DRIVER_ERRORS for kind in type(error).__mro__)
