"""What one running app holds: Kringloop as adapters.bootstrap wires it, with the users table
beside the read models, and the last audit verify."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.accounts import users
from adapters.bootstrap import Kringloop
from projections.store import ReadStore


@dataclass
class Backend(Kringloop):
    """The app's stores, with the users table beside the read models, and the last verify."""

    last_verify: dict[str, Any] | None = None

    def open_reads(self) -> ReadStore:
        reads = super().open_reads()
        users.create_table(reads.engine)
        return reads
