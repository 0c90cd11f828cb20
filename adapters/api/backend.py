"""What one running app holds: Kringloop as adapters.bootstrap wires it, with the users table
beside the read models, the follower that keeps the read models current, the answers kept
at their position, and the last audit verify."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from adapters.accounts import users
from adapters.api.conditional import PositionCache, new_salt
from adapters.api.read_side import ReadSide
from adapters.bootstrap import Kringloop
from projections.store import ReadStore


@dataclass
class Backend(Kringloop):
    """The app's stores, with the users table beside the read models, and the last verify."""

    last_verify: dict[str, Any] | None = None
    responses: PositionCache = field(default_factory=PositionCache, repr=False)
    principals: PositionCache = field(default_factory=PositionCache, repr=False)
    etag_salt: str = field(default_factory=new_salt, repr=False)
    read_side: ReadSide = field(init=False, repr=False)
    # concurrent decisions sealed at once read a seal file while another writes it
    sealing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.read_side = ReadSide(self, on_moved=self._moved)

    def _moved(self, position: int) -> None:
        self.responses.clear()
        self.principals.clear()

    def open_reads(self) -> ReadStore:
        reads = super().open_reads()
        users.create_table(reads.engine)
        return reads

    def current_reads(self) -> ReadStore:
        """The read models as the follower keeps them (no catch-up here); without a
        follower (the app used without its lifespan), caught up first."""
        return self.read_store if self.read_side.following else self.fresh_reads()
