"""All configuration in one place: environment variables prefixed KRINGLOOP_."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the data lives and how Kringloop behaves; set by env or CLI options."""

    model_config = SettingsConfigDict(env_prefix="KRINGLOOP_", extra="ignore")

    home: Path = Field(default=Path(".kringloop"), description="the data folder")
    database_url: str | None = Field(
        default=None,
        description="postgresql://user:password@host:port/dbname: store events in PostgreSQL "
        "instead of the SQLite file in the data folder",
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema for the event store"
    )
    read_schema: str = Field(
        default="kringloop_read", description="PostgreSQL schema for the read models"
    )
    actor: str | None = Field(default=None, description="default actor for CLI decisions")
    log_level: str = Field(default="warning", description="debug, info, warning or error")
    cache_size: int = Field(default=1000, ge=0, description="aggregates kept in memory")
    csv_delimiter: str = Field(
        default=";",
        description="between the fields of a CSV export: ';' as Dutch Excel expects, ',' or tab",
    )
    lock_timeout: float = Field(
        default=30.0,
        ge=0,
        description="seconds a write waits for an SQLite event store locked by another process",
    )

    @property
    def events_path(self) -> Path:
        return self.home / "events.sqlite"

    @property
    def read_store_url(self) -> str:
        """The read models sit beside the events: an SQLite file, or a PostgreSQL schema."""
        return self.database_url or f"sqlite:///{self.home / 'read.sqlite'}"

    @property
    def storage_label(self) -> str:
        if self.database_url:
            return "postgresql"
        return f"sqlite:{self.events_path}"
