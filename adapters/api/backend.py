"""What one running app holds: the settings, the engine and the read store, opened once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.api import users
from adapters.store import Stores
from projections.store import ReadStore


@dataclass
class Backend(Stores):
    """The app's stores, with the users table beside the read models, and the last verify."""

    last_verify: dict[str, Any] | None = None

    def open_reads(self) -> ReadStore:
        reads = super().open_reads()
        users.create_table(reads.engine)
        return reads
