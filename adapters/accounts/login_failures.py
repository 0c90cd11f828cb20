"""Failed logins and unknown bearer tokens, counted per client key and in time, for the login
throttle (``adapters.api.throttle``, which decides what the counts mean).

The tables live in the read store's database beside the users and their sessions, so every
API worker (and every host behind a load balancer) counts against the same numbers: failures
spread over several workers add up. Only failures are written; a successful request reads
nothing here. Times are seconds on the throttle's clock, which is the wall clock whenever the
database is shared. Like the users table these are no read models (`projections rebuild`
keeps them) and no part of a backup.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, case, func, select
from sqlalchemy import delete as delete_rows
from sqlalchemy import insert as insert_row
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel

from adapters.accounts import tables


class LoginFailureRow(SQLModel, table=True):
    """One client key's failures since it was last forgotten, and when the latest came."""

    __tablename__ = "kringloop_login_failure"

    client_key: str = Field(primary_key=True)  # the door and the address: "login:192.0.2.1"
    failures: int
    last_at: float = Field(index=True)


class LoginFailureTimeRow(SQLModel, table=True):
    """When each recent failure came, from whatever key: the budget shared by all keys."""

    __tablename__ = "kringloop_login_failure_time"

    id: int | None = Field(default=None, primary_key=True)
    at: float = Field(index=True)


_FAILURE = LoginFailureRow.__table__  # type: ignore[attr-defined]
_TIME = LoginFailureTimeRow.__table__  # type: ignore[attr-defined]


def create_tables(engine: Engine) -> None:
    tables.create_tables(engine, _FAILURE, _TIME)


@dataclass(frozen=True)
class Standing:
    """What the throttle needs to know about one key: its failures and when the latest came
    (none: zero and None), and the time of the ``budget``-th latest failure of any key."""

    failures: int
    last_at: float | None
    budget_spent_at: float | None


def standing(engine: Engine, key: str, budget: int) -> Standing:
    with engine.connect() as db:
        own = db.execute(
            select(_FAILURE.c.failures, _FAILURE.c.last_at).where(_FAILURE.c.client_key == key)
        ).first()
        spent = db.execute(
            select(_TIME.c.at).order_by(_TIME.c.at.desc()).limit(1).offset(budget - 1)
        ).scalar()
    if own is None:
        return Standing(0, None, spent)
    return Standing(int(own.failures), float(own.last_at), spent)


def count_failure(
    engine: Engine, key: str, now: float, forget_after: float, window: float, keep: int
) -> int:
    """Count one failure of ``key`` at ``now`` and return the key's failures since it was
    forgotten (a key ``forget_after`` seconds without a failure starts again at one). One
    transaction: the key's count is raised in the database itself, so two workers counting
    the same key at once both count. On the way, times older than ``window`` and keys
    older than ``forget_after`` are cleared out, and the oldest keys beyond ``keep``."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(_FAILURE).values(client_key=key, failures=1, last_at=now)
    upsert = upsert.on_conflict_do_update(
        index_elements=[_FAILURE.c.client_key],
        set_={
            "failures": case(
                (now - _FAILURE.c.last_at >= forget_after, 1), else_=_FAILURE.c.failures + 1
            ),
            "last_at": upsert.excluded.last_at,
        },
    ).returning(_FAILURE.c.failures)
    with engine.begin() as db:
        failures = int(db.execute(upsert).scalar_one())
        db.execute(insert_row(_TIME).values(at=now))
        db.execute(delete_rows(_TIME).where(_TIME.c.at <= now - window))
        db.execute(delete_rows(_FAILURE).where(_FAILURE.c.last_at <= now - forget_after))
        over = int(db.execute(select(func.count()).select_from(_FAILURE)).scalar_one()) - keep
        if over > 0:  # a flood of addresses: the longest quiet ones go first
            oldest = select(_FAILURE.c.client_key).order_by(_FAILURE.c.last_at).limit(over)
            db.execute(delete_rows(_FAILURE).where(_FAILURE.c.client_key.in_(oldest)))
    return failures


def remembered(engine: Engine) -> int:
    """How many keys have failures on record."""
    with engine.connect() as db:
        return int(db.execute(select(func.count()).select_from(_FAILURE)).scalar_one())
