"""What one running app holds: Kringloop as adapters.bootstrap wires it, with the users table
beside the read models, the follower that keeps the read models current, the answers kept
at their position, and the last audit verify."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.accounts import users
from adapters.api.conditional import PositionCache, new_salt
from adapters.api.read_side import ReadSide
from adapters.bootstrap import Kringloop
from projections.store import ReadStore


@dataclass
class Backend(Kringloop):
    """The app's stores, with the users table beside the read models, and the last verify."""

    responses: PositionCache = field(default_factory=PositionCache, repr=False)
    principals: PositionCache = field(default_factory=PositionCache, repr=False)
    etag_salt: str = field(default_factory=new_salt, repr=False)
    read_side: ReadSide = field(init=False, repr=False)
    # concurrent decisions sealed at once read a seal file while another writes it
    sealing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _verify_read: tuple[tuple[int, int], dict[str, Any]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.read_side = ReadSide(self, on_moved=self._moved)

    @property
    def _verify_file(self) -> Path:
        return self.settings.home / "audit" / "last-verify.json"

    @property
    def last_verify(self) -> dict[str, Any] | None:
        """The last audit verify run through the API or the pages, by any worker of this
        installation (a file in the data folder, so `kringloop api --workers N` shows every
        worker the same); None before the first."""
        path = self._verify_file
        try:
            found = path.stat()
            stamp = (found.st_ino, found.st_mtime_ns)
            if self._verify_read is None or self._verify_read[0] != stamp:
                self._verify_read = (stamp, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None
        return self._verify_read[1]

    def remember_verify(self, result: dict[str, Any]) -> None:
        """Keep a verify's result for every worker: written whole, then put in place."""
        path = self._verify_file
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_text(json.dumps(result), encoding="utf-8")
        os.replace(partial, path)

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
