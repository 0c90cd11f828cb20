"""What a user chose for the pages (for now: the language), remembered on the server so it
follows the user to another browser. Like the users table it sits beside the read models
in the read store's database and is no read model; it holds no credential."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel


class PreferenceRow(SQLModel, table=True):
    __tablename__ = "kringloop_user_preference"

    name: str = Field(primary_key=True)  # the user's name, as in kringloop_user
    language: str | None = None


def create_table(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=[PreferenceRow.__table__])  # type: ignore[attr-defined]


def language_of(engine: Engine, name: str) -> str | None:
    with Session(engine) as db:
        row = db.get(PreferenceRow, name)
        return row.language if row else None


def remember_language(engine: Engine, name: str, language: str) -> None:
    with Session(engine) as db:
        row = db.get(PreferenceRow, name) or PreferenceRow(name=name)
        row.language = language
        db.add(row)
        db.commit()
